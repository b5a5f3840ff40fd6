"""What tokenizing ahead (the next chunk of texts on the encoder's own thread while the GPU works
on the current one, src/model/tokenize_ahead.hpp) gains, on the GPU host: the same requests with
it on and off (RANK_RERANK_TOKENIZE_AHEAD=0 when the Reranker is built), alternated, medians.

    .venv/bin/python bench/bench_tokenize_ahead.py --tokenizer bench-tokenizer

Models: the random-weight BERT-base ColBERT and MiniLM-L6-size cross-encoder of
bench_gpu_encoder.py (written under /tmp/rr-gpu-bench). Texts: random words of the tokenizer's
vocabulary, documents of 170-190 words.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_gpu_encoder as shared  # noqa: E402


def reranker(path, kind, ahead):
    import rank_rerank

    if ahead:
        os.environ.pop("RANK_RERANK_TOKENIZE_AHEAD", None)
    else:
        os.environ["RANK_RERANK_TOKENIZE_AHEAD"] = "0"
    try:
        return rank_rerank.Reranker(path, kind=kind, device="cuda", dtype="float16",
                                    max_length=256)
    finally:
        os.environ.pop("RANK_RERANK_TOKENIZE_AHEAD", None)


def measure(call, repeats):
    """Median wall ms of call() and the medians of its statistics' parts."""
    import rank_rerank

    walls, tokenize, encode = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        walls.append((time.perf_counter() - start) * 1e3)
        s = rank_rerank.last_stats().as_dict()
        tokenize.append(s["tokenize_ms"])
        encode.append(s["encode_ms"])
    return statistics.median(walls), statistics.median(tokenize), statistics.median(encode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--bulk", type=int, default=4096, help="documents of the bulk encoding")
    args = ap.parse_args()
    _, cross_dir, colbert_dir = shared.make_models(args.tokenizer)
    rng = np.random.default_rng(0)
    pool = shared.words(args.tokenizer)
    query = shared.text(rng, pool, 20)
    docs = [shared.text(rng, pool, int(n)) for n in rng.integers(170, 190, size=args.bulk)]

    cases = [
        ("colbert", "ColBERT rerank 1 + 100", lambda r: r.rerank(query, docs[:100])),
        ("colbert", f"ColBERT encode_documents {args.bulk}", lambda r: r.encode_documents(docs)),
        ("cross_encoder", "cross-encoder rerank 1 x 100",
         lambda r: r.rerank(query, docs[:100])),
        ("cross_encoder", "cross-encoder rerank 1 x 1000",
         lambda r: r.rerank(query, docs[:1000])),
    ]
    rows = []
    for kind, name, call in cases:
        path = colbert_dir if kind == "colbert" else cross_dir
        on, off = reranker(path, kind, True), reranker(path, kind, False)
        for r in (on, off):  # warm-up: graphs, algorithm choices
            for _ in range(3):
                call(r)
        results = {True: [], False: []}
        for _ in range(3):  # alternate, so that drift hits both alike
            for ahead, r in ((True, on), (False, off)):
                results[ahead].append(measure(lambda: call(r), max(1, args.repeats // 3)))
        med = {k: tuple(statistics.median(x[i] for x in v) for i in range(3))
               for k, v in results.items()}
        rows.append((name, med[True], med[False]))
        print(name, med, flush=True)
        del on, off

    print("\n| request | ahead: wall ms (tokenize wait / encode) | off: wall ms (tokenize / encode)"
          " | off / ahead |")
    print("|---|---|---|---|")
    for name, a, o in rows:
        print(f"| {name} | {a[0]:.2f} ({a[1]:.2f} / {a[2]:.2f}) | {o[0]:.2f} ({o[1]:.2f} / "
              f"{o[2]:.2f}) | {o[0] / a[0]:.2f}x |")


if __name__ == "__main__":
    main()
