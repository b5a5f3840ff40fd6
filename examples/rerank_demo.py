"""Reranking demo over sample token embeddings.

A synthetic corpus with a known answer: eight topics, each with its own "concept" token vectors.
Every document is written mostly in the tokens of one topic (with some of a second topic and
shared filler), every query in the tokens of one topic. A first stage hands each query 100
candidates; rank_rerank reranks them with ColBERT MaxSim and should put the documents of the
query's topic first. Then the same corpus is scored in every storage dtype, pooled, and
diversified, with timings.

Run through `bash scripts/run-demo.sh` (or `.venv/bin/python examples/rerank_demo.py`).
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import rank_rerank as rr

TOPICS = [
    "gpu kernels",
    "ancient rome",
    "sourdough baking",
    "marine biology",
    "jazz harmony",
    "orbital mechanics",
    "tax law",
    "alpine hiking",
]
DIM = 128
CONCEPTS_PER_TOPIC = 40
N_DOCS = 2000
QUERY_TOKENS = 32
CANDIDATES = 100


def unit_rows(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def build_corpus(rng: np.random.Generator):
    centroids = unit_rows(rng.standard_normal((len(TOPICS), DIM)))
    # A topic's concepts scatter around its centroid (cosine about 0.5 to it).
    concepts = np.stack([
        unit_rows(c + unit_rows(rng.standard_normal((CONCEPTS_PER_TOPIC, DIM)))) for c in centroids
    ])
    filler = unit_rows(rng.standard_normal((200, DIM)))

    def sample_tokens(topic: int, n: int) -> np.ndarray:
        picks = concepts[topic, rng.integers(0, CONCEPTS_PER_TOPIC, n)]
        return picks + 0.6 * unit_rows(rng.standard_normal((n, DIM)))

    # Documents differ in how much of them is about their main topic (their "focus"), so a
    # good ranking of one topic's documents follows their focus.
    docs, doc_topics, doc_focus = [], [], []
    for _ in range(N_DOCS):
        main, second = rng.choice(len(TOPICS), 2, replace=False)
        n = int(rng.integers(60, 301))
        focus = float(rng.uniform(0.1, 0.8))
        n_main, n_second = max(int(n * focus), 1), int(n * 0.2)
        rows = np.concatenate([
            sample_tokens(main, n_main),
            sample_tokens(second, n_second),
            filler[rng.integers(0, len(filler), n - n_main - n_second)],
        ])
        docs.append(unit_rows(rows[rng.permutation(n)]))
        doc_topics.append(int(main))
        doc_focus.append(n_main / n)
    queries = [unit_rows(sample_tokens(t, QUERY_TOKENS)) for t in range(len(TOPICS))]
    return queries, docs, np.array(doc_topics), np.array(doc_focus)


def median_ms(fn, repeats: int = 7) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(7)
    queries, docs, doc_topics, doc_focus = build_corpus(rng)
    tokens = np.concatenate(docs)
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(d) for d in docs])
    print(f"corpus: {len(docs)} documents, {len(tokens):,} token vectors of dim {DIM}; "
          f"{len(queries)} queries of {QUERY_TOKENS} tokens; threads: {rr.get_num_threads()}")

    # First stage: each query gets 100 candidates, 15 of them on its topic.
    candidates = []
    for t in range(len(TOPICS)):
        on_topic = rng.choice(np.flatnonzero(doc_topics == t), 15, replace=False)
        off_topic = rng.choice(np.flatnonzero(doc_topics != t), CANDIDATES - 15, replace=False)
        candidates.append(rng.permutation(np.concatenate([on_topic, off_topic])).astype(np.int64))

    scores = rr.maxsim_candidates(queries, docs, candidates)
    print("\nReranking 100 candidates per query (top 5 shown):")
    hits = 0
    for t, cand in enumerate(candidates):
        own = scores[t * CANDIDATES:(t + 1) * CANDIDATES]
        order, best = rr.top_k(own, 5)
        ranked = cand[order]
        correct = int((doc_topics[ranked] == t).sum())
        hits += correct
        on_topic = cand[doc_topics[cand] == t]
        best_focus = np.sort(doc_focus[on_topic])[::-1][:5]
        shown = ", ".join(f"doc {d} ({TOPICS[doc_topics[d]]}, focus {doc_focus[d]:.0%}) {s:.2f}"
                          for d, s in zip(ranked, best))
        print(f"  query '{TOPICS[t]}': {correct}/5 on topic, top-5 focus "
              f"{doc_focus[ranked].mean():.0%} (best possible {best_focus.mean():.0%})\n    {shown}")
    print(f"  precision@5 over all queries: {hits / (5 * len(TOPICS)):.2f}")

    query = queries[0]
    flops = 2.0 * QUERY_TOKENS * len(tokens) * DIM
    print(f"\nOne query against all {len(docs)} documents (median of 7 runs):")
    reference = rr.maxsim_packed(query, tokens, offsets)
    ref_top = set(rr.top_k(reference, 10)[0].tolist())
    for dtype in ("float32", "bfloat16", "int8", "bit"):
        if dtype == "float32":
            codes, scales = tokens, None
        else:
            codes, scales = rr.quantize(tokens, dtype)
        kwargs = {"dtype": dtype, "scales": scales, "dim": DIM} if dtype != "float32" else {}
        ms = median_ms(lambda: rr.maxsim_packed(query, codes, offsets, **kwargs))
        top = set(rr.top_k(rr.maxsim_packed(query, codes, offsets, **kwargs), 10)[0].tolist())
        print(f"  {dtype:>9}: {ms:7.2f} ms  {len(docs) / ms * 1e3:10,.0f} docs/s  "
              f"{flops / ms / 1e6:7.1f} GFLOP/s  {codes.nbytes / 2**20:6.1f} MiB  "
              f"top-10 overlap with float32: {len(top & ref_top)}/10")

    ms = median_ms(lambda: rr.maxsim_all_pairs(queries, docs), repeats=3)
    print(f"  all {len(queries)} queries x {len(docs)} documents: {ms:.1f} ms")

    start = time.perf_counter()
    pooled, pooled_offsets = rr.pool_tokens_packed(tokens, offsets, pool_factor=2)
    pool_ms = (time.perf_counter() - start) * 1e3
    pooled_scores = rr.maxsim_packed(query, pooled, pooled_offsets)
    overlap = len(set(rr.top_k(pooled_scores, 10)[0].tolist()) & ref_top)
    print(f"\nToken pooling (Ward, factor 2): {len(tokens):,} -> {len(pooled):,} vectors in "
          f"{pool_ms:.0f} ms; top-10 overlap with unpooled: {overlap}/10")

    top50, top50_scores = rr.top_k(reference, 50)
    doc_means = rr.l2_normalize_rows(np.stack([docs[i].mean(axis=0) for i in top50]))
    picks = rr.mmr(doc_means, top50_scores, k=5, lambda_=0.5)
    print("MMR (lambda 0.5) picks 5 of the top 50: " +
          ", ".join(f"doc {top50[i]} ({TOPICS[doc_topics[top50[i]]]})" for i in picks))


if __name__ == "__main__":
    main()
