"""Multi-GPU scaling: encoding (random-weight BERT-base ColBERT, fp16) and GPU MaxSim (documents
fp16, dim 128, sharded) on one device against a device list, for a large and a small request.

On a host with one GPU the list is that GPU twice ("cuda:0,cuda:0": two replicas, two streams, two
worker threads on one chip), and the table says so: the ratio then measures what splitting costs
or gains on one chip, not scaling over chips. Also prints ColBERT throughput against the encoder's
pass size (max_batch_tokens) on one device, the measurement behind keeping requests under
2 x 4096 tokens on one device (model/replicas.hpp kMinTokensPerDevice).

Usage: bench_multi_gpu.py --tokenizer DIR [--devices LIST] [--out results.json]
(DIR: a BERT tokenizer: tokenizer.json, vocab.txt, ... as bench_gpu_encoder.py takes.)
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rank_rerank as rr  # noqa: E402
from bench_gpu_encoder import make_models, text, words  # noqa: E402


def median_ms(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def pass_size_curve(colbert, docs, tokens):
    rows = []
    for budget in (1024, 2048, 4096, 8192, 16384):
        model = rr.ColBERT(colbert, device="cuda:0", dtype="float16", batch_size=1 << 20,
                           max_batch_tokens=budget)
        ms = median_ms(lambda: model.encode(docs, is_query=False, packed=True), 3)
        rows.append({"max_batch_tokens": budget, "ms": ms, "tokens_per_s": tokens / ms * 1e3})
        del model
    return rows


def encoding(colbert, devices, docs_large, docs_small):
    one = rr.ColBERT(colbert, device="cuda:0", dtype="float16")
    many = rr.ColBERT(colbert, devices=devices, dtype="float16")
    out = {"memory_one": one.device_memory(), "memory_many": many.device_memory()}
    for name, docs, repeats in (("large", docs_large, 5), ("small", docs_small, 20)):
        a = one.encode(docs, is_query=False, packed=True)
        b = many.encode(docs, is_query=False, packed=True)
        identical = a[0].tobytes() == b[0].tobytes()
        out[name] = {
            "texts": len(docs), "vectors": int(a[1][-1]),
            "one_ms": median_ms(lambda: one.encode(docs, is_query=False, packed=True), repeats),
            "many_ms": median_ms(lambda: many.encode(docs, is_query=False, packed=True), repeats),
            "bit_identical": identical,
        }
    return out


def maxsim(devices, n_docs, doc_len, queries, k=10):
    rng = np.random.default_rng(0)
    block = rng.standard_normal((min(n_docs, 2048) * doc_len, 128), dtype=np.float32)
    block = block.astype(np.float16)
    tokens = np.tile(block, (-(-n_docs * doc_len // block.shape[0]), 1))[: n_docs * doc_len]
    offsets = np.arange(0, n_docs * doc_len + 1, doc_len, dtype=np.int64)
    one = rr.GpuDocumentSet(tokens, offsets)
    many = rr.ShardedGpuDocumentSet(tokens, offsets, devices=devices)
    q = rng.standard_normal((32 * queries, 128), dtype=np.float32)
    q_offsets = np.arange(0, 32 * queries + 1, 32, dtype=np.int64)
    a = one.top_k(q, k, q_offsets)
    b = many.top_k(q, k, q_offsets)
    identical = np.array_equal(a[0], b[0]) and a[1].tobytes() == b[1].tobytes()
    repeats = 10
    result = {
        "docs": n_docs, "doc_tokens": doc_len, "queries": queries,
        "one_ms": median_ms(lambda: one.top_k(q, k, q_offsets), repeats),
        "many_ms": median_ms(lambda: many.top_k(q, k, q_offsets), repeats),
        "bit_identical": identical, "gb": tokens.nbytes / 1e9,
    }
    del one, many
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--devices", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    status = rr.cuda_status()
    if not (status["compiled"] and status["device_count"] > 0):
        sys.exit(f"bench_multi_gpu: no usable CUDA device: {status['reason']}")
    gpus = status["device_count"]
    devices = rr.parse_devices(args.devices or ("cuda:all" if gpus >= 2 else "cuda:0,cuda:0"))
    same_chip = len(set(devices)) < len(devices)
    print(f"devices: {','.join(devices)} ({gpus} GPU(s) visible)")
    if same_chip:
        print("NOTE: a GPU is listed more than once (one-GPU host): replicas share one chip, so "
              "the ratios below measure the cost of splitting, not scaling over GPUs.")

    _, _, colbert = make_models(args.tokenizer)
    rng = np.random.default_rng(1)
    pool = words(args.tokenizer)
    docs_large = [text(rng, pool, int(n)) for n in rng.integers(60, 140, size=2048)]
    docs_small = [text(rng, pool, 100) for _ in range(16)]
    curve_docs = docs_large[:512]
    curve_tokens = int(rr.ColBERT(colbert, device="cuda:0").encode(
        curve_docs, is_query=False, packed=True)[1][-1])

    results = {"devices": devices, "same_chip": same_chip}
    # Each table is printed as soon as it is measured (a time limit keeps what came before).
    results["pass_size_curve"] = pass_size_curve(colbert, curve_docs, curve_tokens)
    print("\nColBERT BERT-base fp16, one device, throughput against pass size "
          f"({len(curve_docs)} documents, {curve_tokens} tokens):")
    for row in results["pass_size_curve"]:
        print(f"  max_batch_tokens {row['max_batch_tokens']:>6}: {row['ms']:8.2f} ms "
              f"{row['tokens_per_s'] / 1e6:6.2f} M tokens/s")
    n = len(devices)
    print(f"\n{'case':<44}{'1 device ms':>12}{f'{n} devices ms':>14}{'ratio':>8}  identical")
    enc = results["encoding"] = encoding(colbert, devices, docs_large, docs_small)
    for name in ("large", "small"):
        r = enc[name]
        label = f"encode {name}: {r['texts']} docs, {r['vectors']} vectors"
        print(f"{label:<44}{r['one_ms']:>12.2f}{r['many_ms']:>14.2f}"
              f"{r['one_ms'] / r['many_ms']:>7.2f}x  {r['bit_identical']}")
    for key, docs, queries in (("maxsim_small", 2_000, 1), ("maxsim_large", 100_000, 1),
                               ("maxsim_large_32q", 100_000, 32)):
        r = results[key] = maxsim(devices, docs, 128, queries)
        label = (f"maxsim top-10: {r['queries']} q x {r['docs']} docs x {r['doc_tokens']} tok"
                 f" ({r['gb']:.1f} GB)")
        print(f"{label:<44}{r['one_ms']:>12.2f}{r['many_ms']:>14.2f}"
              f"{r['one_ms'] / r['many_ms']:>7.2f}x  {r['bit_identical']}")
    print("\ndevice memory (encoder replicas):")
    for m in enc["memory_many"]:
        print(f"  {m['device']}: in use {m['bytes_in_use'] / 2**20:.1f} MiB, "
              f"reserved {m['bytes_reserved'] / 2**20:.1f} MiB")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
