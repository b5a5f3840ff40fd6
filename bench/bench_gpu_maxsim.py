"""GPU MaxSim side by side: rank_rerank vs PyTorch (chunked matmul + amax, fp16) vs flash-maxsim,
same process, same GPU. Prints a table (median of repeats, CUDA events) and writes JSON.

Cases: one 32x128 query vs N docs x 128 tokens fp16 (GB/s against the measured device copy);
32 queries at once (fraction of the measured fp16 matmul rate); variable lengths 16-256; int8
and 1-bit documents (bytes read per second); peak extra GPU memory per run; and our CPU MaxSim on
a slice for the GPU-vs-CPU ratio. Inputs are random normal (never zeros).

Our f16 / bf16 / int8 kernels come in two families (document tiles double-buffered in registers,
or staged through shared memory); each case is timed as dispatched by shape ("rank_rerank") and
with each family forced through RANK_RERANK_GPU_MAXSIM_KERNEL, each checked against PyTorch."""

import argparse
import json
import os
import statistics
import time

import numpy as np
import torch

import rank_rerank

try:
    import flash_maxsim as fm
except ImportError:  # reported as n/a
    fm = None

DEV = "cuda"


def timed(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / 1e3)
    return statistics.median(times)


def peak_extra(fn):
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    fn()
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - base) / 2**20


def copy_bandwidth():
    x = torch.randn(2**30, device=DEV, dtype=torch.float16)  # 2 GiB
    y = torch.empty_like(x)
    t = timed(lambda: y.copy_(x), 10)
    del x, y
    return 2 * 2**31 / t


def matmul_rate():
    a = torch.randn(8192, 8192, device=DEV, dtype=torch.float16)
    b = torch.randn(8192, 8192, device=DEV, dtype=torch.float16)
    t = timed(lambda: a @ b, 10)
    return 2 * 8192**3 / t


def torch_chunked(q, docs3, chunk=8192):
    """q [Lq, d] or [Nq, Lq, d]; docs3 [B, Ld, d] -> [B] or [Nq, B]."""
    multi = q.dim() == 3
    qm = q.reshape(-1, q.shape[-1])
    outs = []
    for s in range(0, docs3.shape[0], chunk):
        d = docs3[s:s + chunk]
        sims = d.reshape(-1, d.shape[-1]) @ qm.T  # [c*Ld, Nq*Lq]
        sims = sims.view(d.shape[0], d.shape[1], -1).amax(dim=1)  # [c, Nq*Lq]
        if multi:
            outs.append(sims.view(d.shape[0], q.shape[0], q.shape[1]).float().sum(-1).T)
        else:
            outs.append(sims.float().sum(-1))
    return torch.cat(outs, dim=-1)


def row(results, case, impl, seconds, bytes_read=None, flops=None, mem=None, ref=None):
    r = {"case": case, "impl": impl, "ms": seconds * 1e3}
    if bytes_read:
        r["GB/s"] = bytes_read / seconds / 1e9
    if flops:
        r["TFLOP/s"] = flops / seconds / 1e12
    if mem is not None:
        r["peak_extra_MiB"] = mem
    results.append(r)
    print(json.dumps(r), flush=True)


FAMILY_VARIABLE = "RANK_RERANK_GPU_MAXSIM_KERNEL"


def rel_diff(got, want):
    return float(((got - want).abs() / want.abs().clamp_min(1)).max())


def time_ours(res, case, fn, repeats, want, bytes_read=None, flops=None):
    """Our kernel as dispatched by shape, then with each family forced; checked against `want`."""
    for family in ("", "registers", "staged"):
        os.environ[FAMILY_VARIABLE] = family
        impl = f"rank_rerank [{family}]" if family else "rank_rerank"
        print(json.dumps({"check": case, "impl": impl, "max_rel_diff": rel_diff(fn(), want)}), flush=True)
        row(res, case, impl, timed(fn, repeats), bytes_read, flops, mem=peak_extra(fn))
    del os.environ[FAMILY_VARIABLE]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--multi-docs", type=int, default=262_144)
    ap.add_argument("--var-docs", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    res = []
    bw = copy_bandwidth()
    mm = matmul_rate()
    print(json.dumps({"device": torch.cuda.get_device_name(), "copy_GBps": bw / 1e9,
                      "fp16_matmul_TFLOPs": mm / 1e12, "flash_maxsim": fm is not None}), flush=True)
    Lq, Ld, dim = 32, 128, 128
    n = args.docs

    # 1. One query, fp16 documents.
    q = torch.randn(Lq, dim, device=DEV, dtype=torch.float16)
    docs = torch.empty(n, Ld, dim, device=DEV, dtype=torch.float16).normal_()
    flat = docs.view(-1, dim)
    offsets = torch.arange(0, (n + 1) * Ld, Ld, device=DEV, dtype=torch.int64)
    nbytes = flat.numel() * 2
    ours = lambda: rank_rerank.maxsim_gpu(q, flat, offsets)
    want = torch_chunked(q, docs)
    time_ours(res, "1q fp16", ours, args.repeats, want, bytes_read=nbytes)
    row(res, "1q fp16", "torch", timed(lambda: torch_chunked(q, docs), args.repeats), nbytes,
        mem=peak_extra(lambda: torch_chunked(q, docs)))
    if fm is not None:
        f = lambda: fm.flash_maxsim(q, docs)
        row(res, "1q fp16", "flash_maxsim", timed(f, args.repeats), nbytes, mem=peak_extra(f))
    # Our CPU MaxSim on a slice, for the GPU/CPU ratio (docs per second).
    m = 20_000
    host = flat[: m * Ld].cpu().numpy()
    host_off = np.arange(0, (m + 1) * Ld, Ld, dtype=np.int64)
    hq = q.float().cpu().numpy()
    t0 = time.perf_counter()
    for _ in range(3):
        rank_rerank.maxsim_packed(hq, host, host_off)
    cpu_s = (time.perf_counter() - t0) / 3
    row(res, "1q fp16", f"rank_rerank CPU ({rank_rerank.get_num_threads()} threads), scaled to N docs",
        cpu_s * n / m, nbytes)
    del docs, flat, want
    torch.cuda.empty_cache()

    # 2. 32 queries at once.
    nm = args.multi_docs
    qs = torch.randn(32, Lq, dim, device=DEV, dtype=torch.float16)
    docs = torch.empty(nm, Ld, dim, device=DEV, dtype=torch.float16).normal_()
    flat = docs.view(-1, dim)
    offsets = torch.arange(0, (nm + 1) * Ld, Ld, device=DEV, dtype=torch.int64)
    q_off = list(range(0, 32 * Lq + 1, Lq))
    flops = 2 * 32 * Lq * nm * Ld * dim
    ours = lambda: rank_rerank.maxsim_gpu(qs.view(-1, dim), flat, offsets, query_offsets=q_off)
    want = torch_chunked(qs, docs, chunk=2048)
    time_ours(res, "32q fp16", ours, args.repeats, want, flops=flops)
    tq = lambda: torch_chunked(qs, docs, chunk=2048)
    row(res, "32q fp16", "torch", timed(tq, args.repeats), flops=flops, mem=peak_extra(tq))
    if fm is not None:
        f = lambda: fm.flash_maxsim_batched(qs, docs)
        row(res, "32q fp16", "flash_maxsim", timed(f, args.repeats), flops=flops, mem=peak_extra(f))
    del docs, flat, want
    torch.cuda.empty_cache()

    # 3. Variable lengths, uniform 16..256 tokens.
    nv = args.var_docs
    lengths = torch.randint(16, 257, (nv,))
    offsets = torch.zeros(nv + 1, dtype=torch.int64)
    offsets[1:] = torch.cumsum(lengths, 0)
    total = int(offsets[-1])
    packed = torch.empty(total, dim, device=DEV, dtype=torch.float16).normal_()
    offsets_d = offsets.to(DEV)
    nbytes = total * dim * 2
    ours = lambda: rank_rerank.maxsim_gpu(q, packed, offsets_d)
    # PyTorch pads to the longest document and masks the padding.
    padded = torch.zeros(nv, 256, dim, device=DEV, dtype=torch.float16)
    pos = torch.arange(256)[None, :] < lengths[:, None]
    padded[pos.to(DEV)] = packed
    mask = pos.to(DEV)

    def torch_padded(chunk=4096):
        outs = []
        for s in range(0, nv, chunk):
            d = padded[s:s + chunk]
            sims = (d.reshape(-1, dim) @ q.T).view(d.shape[0], 256, Lq)
            sims = sims.masked_fill(~mask[s:s + chunk, :, None], float("-inf"))
            outs.append(sims.amax(1).float().sum(-1))
        return torch.cat(outs)

    time_ours(res, "varlen fp16", ours, args.repeats, torch_padded(), bytes_read=nbytes)
    row(res, "varlen fp16", "torch (padded)", timed(torch_padded, args.repeats), nbytes, mem=peak_extra(torch_padded))
    if fm is not None:
        cu = offsets_d.to(torch.int32)
        f = lambda: fm.flash_maxsim_packed(q, packed, cu, 256)
        row(res, "varlen fp16", "flash_maxsim (packed)", timed(f, args.repeats), nbytes, mem=peak_extra(f))
    del padded, packed, mask
    torch.cuda.empty_cache()

    # 4. int8 documents (per-row scale).
    d8 = torch.empty(n, Ld, dim, device=DEV, dtype=torch.int8)
    scales = torch.empty(n, Ld, device=DEV, dtype=torch.float32)
    for s0 in range(0, n, 65536):
        x = torch.randn(min(65536, n - s0), Ld, dim, device=DEV, dtype=torch.float32)
        sc = x.abs().amax(-1) / 127
        scales[s0:s0 + x.shape[0]] = sc
        d8[s0:s0 + x.shape[0]] = torch.round(x / sc[..., None]).clamp(-127, 127).to(torch.int8)
        del x
    torch.cuda.empty_cache()
    flat8 = d8.view(-1, dim)
    flat_scales = scales.view(-1)
    offsets = torch.arange(0, (n + 1) * Ld, Ld, device=DEV, dtype=torch.int64)
    nbytes = flat8.numel() + flat_scales.numel() * 4
    ours = lambda: rank_rerank.maxsim_gpu(q, flat8, offsets, scales=flat_scales)

    def torch_int8(chunk=8192):
        outs = []
        for s in range(0, n, chunk):
            d = d8[s:s + chunk].half() * scales[s:s + chunk, :, None].half()
            outs.append((d.reshape(-1, dim) @ q.T).view(d.shape[0], Ld, Lq).amax(1).float().sum(-1))
        return torch.cat(outs)

    time_ours(res, "1q int8", ours, args.repeats, torch_int8(), bytes_read=nbytes)

    row(res, "1q int8", "torch (dequantize + matmul)", timed(torch_int8, args.repeats), nbytes, mem=peak_extra(torch_int8))
    if fm is not None:
        s16 = scales.half()
        f = lambda: fm.flash_maxsim_int8_symmetric(q, d8, s16)
        row(res, "1q int8", "flash_maxsim int8", timed(f, args.repeats), nbytes, mem=peak_extra(f))
        del s16
    del d8, scales, flat8, flat_scales
    torch.cuda.empty_cache()

    # 5. 1-bit documents (float query x +-1 bits).
    bits = torch.randint(0, 256, (n * Ld, dim // 8), device=DEV, dtype=torch.uint8)
    nbytes = bits.numel()
    ours = lambda: rank_rerank.maxsim_gpu(q, bits, offsets, dim=dim)
    row(res, "1q bit", "rank_rerank", timed(ours, args.repeats), nbytes, mem=peak_extra(ours))
    shifts = torch.arange(7, -1, -1, device=DEV, dtype=torch.uint8)

    def torch_bits(chunk=8192):
        outs = []
        for s in range(0, n, chunk):
            b = bits[s * Ld:(s + chunk) * Ld]
            pm = ((b[:, :, None] >> shifts) & 1).view(b.shape[0], dim).half() * 2 - 1
            outs.append((pm @ q.T).view(-1, Ld, Lq).amax(1).float().sum(-1))
        return torch.cat(outs)

    got = ours()
    print(json.dumps({"check_bits_max_rel_diff": float(((got - torch_bits()).abs() / got.abs().clamp_min(1)).max())}))
    row(res, "1q bit", "torch (unpack + matmul)", timed(torch_bits, args.repeats), nbytes, mem=peak_extra(torch_bits))

    print("\n| case | implementation | ms | GB/s read | TFLOP/s | peak extra MiB |")
    print("|---|---|---|---|---|---|")
    for r in res:
        print(f"| {r['case']} | {r['impl']} | {r['ms']:.2f} | {r.get('GB/s', float('nan')):.0f} | "
              f"{r.get('TFLOP/s', float('nan')):.1f} | {r.get('peak_extra_MiB', float('nan')):.1f} |")
    print(f"copy bandwidth (read+write) {bw / 1e9:.0f} GB/s; fp16 matmul {mm / 1e12:.0f} TFLOP/s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"copy_GBps": bw / 1e9, "matmul_TFLOPs": mm / 1e12, "results": res}, fh, indent=1)


if __name__ == "__main__":
    main()
