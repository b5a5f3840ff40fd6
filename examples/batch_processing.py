"""Batch processing guide: a large corpus, token budgets, and vectors saved for later.

1. Texts are grouped into encoder passes by a token budget (max_batch_tokens), not by count:
   short texts share a pass, a long one never overflows it. A larger budget means fewer, larger
   passes (better throughput, more memory).
2. Encode the corpus once and save the vectors (float16 halves the file); later runs map the
   file and only encode queries. The file remembers which model wrote it and refuses another.

    .venv/bin/python examples/batch_processing.py [--model DIR_OR_HF_ID] [--copies 10]
"""
import argparse
import os
import pathlib
import tempfile

import rank_rerank as rr
from _common import default_model, sample_passages


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--copies", type=int, default=4, help="the sample corpus repeated (a larger corpus)")
    parser.add_argument("--limit", type=int, default=0, help="passages of the sample corpus used")
    args = parser.parse_args()
    model = args.model or default_model()
    passages = sample_passages()[: args.limit or None]
    texts = [p["text"] for p in passages] * args.copies
    ids = [f"{p['id']}#{copy}" for copy in range(args.copies) for p in passages]

    for budget in (512, 16384):
        reranker = rr.Reranker(model, max_batch_tokens=budget)
        reranker.encode_documents(texts)
        s = rr.last_stats()
        print(f"max_batch_tokens={budget:>6}: {len(s.batch_texts):>4} passes, largest "
              f"{max(s.batch_tokens)} tokens / {max(s.batch_texts)} texts, "
              f"{s.tokens_per_second:,.0f} tokens/s")

    with tempfile.TemporaryDirectory() as tmp:
        for dtype in ("float32", "float16"):
            path = pathlib.Path(tmp) / f"corpus-{dtype}.rrv"
            reranker.save_vectors(path, texts, ids, dtype=dtype)
            print(f"saved {len(ids)} documents as {dtype}: {os.path.getsize(path) / 1e6:.2f} MB")
        vectors = rr.DocumentVectors(path)  # memory-mapped, validated
        print(f"reopened: {len(vectors)} documents, {vectors.total_rows} rows of {vectors.dim} "
              f"{vectors.dtype}, written by {vectors.model['kind']} model {vectors.model['fingerprint']}")
        candidates = ids[: min(50, len(ids))]
        result = reranker.rerank_vectors("generate random numbers", vectors, candidates, top_k=3)
        for hit in result:
            print(f"  {hit['score']:.4f}  {candidates[hit['index']]}")
        print(f"  ({result.stats.texts} text encoded: only the query; {result.stats.total_ms:.1f} ms)")


if __name__ == "__main__":
    main()
