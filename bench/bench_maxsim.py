"""MaxSim throughput, rank_rerank side by side with NumPy, PyTorch (if installed) and maxsim-cpu.

Workload: one 32 x 128 query against 1,000 documents of 128-1,536 tokens (uniform random
lengths), random unit vectors, fixed seed. rank_rerank scores float32 documents and the same
documents stored as bfloat16, int8 and bits. Every implementation runs with the same thread
count; each thread count runs in its own process, because OpenBLAS (NumPy) and rayon
(maxsim-cpu) fix their thread pools when first used. Times are medians of repeated runs.

    .venv/bin/python bench/bench_maxsim.py [--threads 1 2] [--repeats 5] [--docs 1000]
    .venv/bin/python bench/bench_maxsim.py --scaling [--threads 1 2] [--repeats 15]

--scaling times rank_rerank alone, one pass per thread count in turn within each round, and
reports the median per-round speed-up over the first thread count: on a shared virtual machine
whose speed drifts between minutes, runs per thread count in separate processes compare
different periods.

GFLOP/s counts 2 * query_tokens * dim * document_tokens multiply-adds per pass.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

QUERY_TOKENS, DIM, MIN_LEN, MAX_LEN, SEED = 32, 128, 128, 1536, 0


def make_data(n_docs):
    rng = np.random.default_rng(SEED)
    lengths = rng.integers(MIN_LEN, MAX_LEN + 1, n_docs)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = rng.standard_normal((int(offsets[-1]), DIM), dtype=np.float32)
    tokens /= np.linalg.norm(tokens, axis=1, keepdims=True)
    query = rng.standard_normal((QUERY_TOKENS, DIM), dtype=np.float32)
    query /= np.linalg.norm(query, axis=1, keepdims=True)
    return query, tokens, offsets


def median_seconds(fn, repeats):
    fn()  # warm-up: page faults, thread pools, dispatch
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def child(threads, repeats, n_docs):
    import rank_rerank as rr

    query, tokens, offsets = make_data(n_docs)
    docs = [tokens[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    results = []

    def record(impl, dtype, fn, reps=repeats):
        results.append({"impl": impl, "dtype": dtype, "threads": threads,
                        "seconds": median_seconds(fn, reps)})

    reference = rr.maxsim_packed(query, tokens, offsets, num_threads=threads)
    record("rank_rerank", "float32",
           lambda: rr.maxsim_packed(query, tokens, offsets, num_threads=threads))
    for dtype in ("bfloat16", "int8", "bit"):
        codes, scales = rr.quantize(tokens, dtype)
        kw = {"dtype": dtype, "scales": scales, "dim": DIM if dtype == "bit" else None}
        record("rank_rerank", dtype,
               lambda: rr.maxsim_packed(query, codes, offsets, num_threads=threads, **kw))
        del codes, scales

    def numpy_scores():
        # The einsum + max + sum that PyLate-style code runs, one document at a time;
        # optimize=True lets einsum hand the product to BLAS.
        return np.array([np.einsum("qd,td->qt", query, d, optimize=True).max(axis=1).sum()
                         for d in docs], dtype=np.float32)

    np.testing.assert_allclose(numpy_scores(), reference, rtol=1e-4, atol=1e-3)
    record("numpy", "float32", numpy_scores, max(1, repeats // 2))

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(threads)
        tq = torch.from_numpy(query)
        tdocs = [torch.from_numpy(d) for d in docs]

        def torch_scores():
            with torch.inference_mode():
                return torch.stack([torch.einsum("qd,td->qt", tq, d).amax(dim=1).sum()
                                    for d in tdocs])

        record("torch", "float32", torch_scores, max(1, repeats // 2))

    try:
        import maxsim_cpu
    except ImportError:
        maxsim_cpu = None
    if maxsim_cpu is not None:
        got = np.asarray(maxsim_cpu.maxsim_scores_variable(query, docs))
        np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-3)
        record("maxsim-cpu", "float32", lambda: maxsim_cpu.maxsim_scores_variable(query, docs))

    print(json.dumps({"doc_tokens": int(offsets[-1]), "results": results}))


def scaling(thread_counts, rounds, n_docs):
    import rank_rerank as rr

    query, tokens, offsets = make_data(n_docs)
    corpora = {"float32": (tokens, {})}
    for dtype in ("bfloat16", "int8"):
        codes, scales = rr.quantize(tokens, dtype)
        corpora[dtype] = (codes, {"dtype": dtype, "scales": scales})
    base = thread_counts[0]
    print(f"rank_rerank scaling: {rounds} rounds, thread counts {thread_counts} in turn per "
          f"round; speed-up = time at {base} thread(s) / time, median over rounds")
    print(f"{'docs':<9} {'threads':>7} {'median ms':>10} {'min ms':>8} {'speed-up':>9}")
    for dtype, (docs, kw) in corpora.items():
        def one_pass(t):
            start = time.perf_counter()
            rr.maxsim_packed(query, docs, offsets, num_threads=t, **kw)
            return time.perf_counter() - start

        for t in thread_counts:
            one_pass(t)  # warm-up: thread pool, page faults
        times = {t: [] for t in thread_counts}
        for _ in range(rounds):
            for t in thread_counts:
                times[t].append(one_pass(t))
        for t in thread_counts:
            speedup = statistics.median(b / x for b, x in zip(times[base], times[t]))
            print(f"{dtype:<9} {t:>7} {statistics.median(times[t]) * 1e3:>10.1f} "
                  f"{min(times[t]) * 1e3:>8.1f} {speedup:>9.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--scaling", action="store_true",
                        help="rank_rerank alone: alternate the thread counts within each round")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scaling:
        scaling(args.threads, args.repeats, args.docs)
        return
    if args.child is not None:
        child(args.child, args.repeats, args.docs)
        return

    rows, doc_tokens = [], 0
    for t in args.threads:
        env = dict(os.environ, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t),
                   MKL_NUM_THREADS=str(t), RAYON_NUM_THREADS=str(t))
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(t), "--repeats", str(args.repeats),
             "--docs", str(args.docs)],
            env=env, check=True, capture_output=True, text=True,
        ).stdout
        data = json.loads(out.strip().splitlines()[-1])
        doc_tokens = data["doc_tokens"]
        rows += data["results"]

    flop = 2.0 * QUERY_TOKENS * DIM * doc_tokens
    print(f"MaxSim: query {QUERY_TOKENS}x{DIM} vs {args.docs} docs of {MIN_LEN}-{MAX_LEN} tokens "
          f"({doc_tokens} tokens, {flop / 1e9:.2f} GFLOP per pass); median of {args.repeats}")
    # Ratio columns: how many times faster this row is than each peer at the same threads.
    peers = [p for p in ("numpy", "torch", "maxsim-cpu") if any(r["impl"] == p for r in rows)]
    header = (f"{'implementation':<14} {'docs':<9} {'threads':>7} {'ms':>8} {'docs/s':>8} "
              f"{'GFLOP/s':>8}" + "".join(f" {'x ' + p:>13}" for p in peers))
    print(header)
    print("-" * len(header))
    for t in args.threads:
        same = [r for r in rows if r["threads"] == t]
        peer_time = {r["impl"]: r["seconds"] for r in same if r["impl"] in peers}
        for r in same:
            s = r["seconds"]
            ratios = "".join(f" {peer_time[p] / s:>13.2f}" for p in peers)
            print(f"{r['impl']:<14} {r['dtype']:<9} {t:>7} {s * 1e3:>8.1f} {args.docs / s:>8.0f} "
                  f"{flop / s / 1e9:>8.1f}{ratios}")

if __name__ == "__main__":
    main()
