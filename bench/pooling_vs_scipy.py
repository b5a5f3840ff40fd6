"""Times token pooling of one 300 x 128 document (pool factor 2): scipy called the way PyLate
calls it (both PyLate generations) against rank_rerank.pool_tokens. Same data as
bench_pooling.cpp's shape; run with .venv/bin/python bench/pooling_vs_scipy.py."""

import time
import warnings

import numpy as np
from scipy.cluster import hierarchy

import rank_rerank as rr


def document(n=300, dim=128, seed=1):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((8, dim))
    x = (centres[rng.integers(0, 8, n)] + 0.8 * rng.standard_normal((n, dim))).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def pylate_after_1_4(doc, pool_factor=2, protected_tokens=1):
    protected, to_pool = doc[:protected_tokens], doc[protected_tokens:]
    n = len(to_pool)
    k = max(n // pool_factor, 1)
    condensed = (1 - to_pool @ to_pool.T)[np.triu_indices(n, k=1)]
    labels = hierarchy.fcluster(hierarchy.linkage(condensed, method="ward"), t=k, criterion="maxclust")
    sums = np.zeros((k, doc.shape[1]), np.float32)
    np.add.at(sums, labels - 1, to_pool)
    counts = np.bincount(labels - 1, minlength=k)
    keep = counts > 0
    return np.concatenate([protected, sums[keep] / counts[keep][:, None]])


def pylate_up_to_1_4(doc, pool_factor=2, protected_tokens=1):
    protected, to_pool = doc[:protected_tokens], doc[protected_tokens:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hierarchy.ClusterWarning)
        z = hierarchy.linkage(1 - to_pool @ to_pool.T, method="ward")
    k = max(len(to_pool) // pool_factor, 1)
    labels = hierarchy.fcluster(z, t=k, criterion="maxclust")
    pooled = [to_pool[labels == c].mean(0) for c in range(1, k + 1) if (labels == c).any()]
    return np.concatenate([np.stack(pooled), protected])


def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times)), 1e3 * min(times)


def main():
    doc = document()
    cases = [
        ("scipy, PyLate > 1.4 (condensed 1 - cos)", lambda: pylate_after_1_4(doc), 200),
        ("rank_rerank cosine_distances", lambda: rr.pool_tokens(doc, pool_factor=2), 500),
        ("scipy, PyLate <= 1.4 (square matrix)", lambda: pylate_up_to_1_4(doc), 50),
        ("rank_rerank similarity_rows",
         lambda: rr.pool_tokens(doc, pool_factor=2, variant="similarity_rows"), 200),
    ]
    for name, fn, repeats in cases:
        median, best = timed(fn, repeats)
        print(f"{name:42s} median {median:7.3f} ms   min {best:7.3f} ms")


if __name__ == "__main__":
    main()
