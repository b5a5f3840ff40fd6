"""Encoding on the GPU, falling back to the CPU.

device="auto" picks a usable CUDA device and otherwise runs on the CPU, saying why once on stderr;
an explicit device="cuda" that cannot be used is an error instead. float16 applies on the GPU
only (after a fallback to the CPU the model computes in float32); bfloat16 on either.

    .venv/bin/python examples/gpu_encoding.py [--model DIR_OR_HF_ID] [--dtype float16]
"""
import argparse

import rank_rerank as rr
from _common import default_model, sample_passages


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--dtype", default="float16")
    parser.add_argument("--limit", type=int, default=0, help="encode only this many passages")
    args = parser.parse_args()

    print("devices:", [(d["device"], d["name"]) for d in rr.list_devices()])
    reranker = rr.Reranker(args.model or default_model(), device="auto", dtype=args.dtype)
    print(f"model kind {reranker.kind}, running on {reranker.device} in {reranker.dtype}")

    texts = [p["text"] for p in sample_passages()]
    if args.limit:
        texts = texts[: args.limit]
    values, offsets = reranker.encode_documents(texts)
    stats = rr.last_stats()
    print(f"{len(texts)} passages -> {values.shape[0]} vectors of {values.shape[1]} "
          f"({stats.tokens} tokens in {stats.total_ms:.1f} ms, {stats.tokens_per_second:,.0f} tokens/s, "
          f"{len(stats.batch_texts)} passes)")
    try:
        rr.Reranker(args.model or default_model(), device="cuda:0")
        print("cuda:0 is usable")
    except RuntimeError as error:
        print(f"asking for cuda:0 explicitly fails clearly here: {error}")


if __name__ == "__main__":
    main()
