"""Token pooling against scipy called exactly the way PyLate calls it.

PyLate > 1.4.0 hands scipy the condensed matrix of 1 - cosine similarities; PyLate <= 1.4.0
handed it the square matrix, which scipy reads as observations (Euclidean distances between its
rows). Both are written out below with NumPy in place of torch, step for step.
"""

import re
import warnings

import numpy as np
import pytest
from scipy.cluster import hierarchy

try:  # private scipy module: fcluster's routine without its monotonicity check
    from scipy.cluster import _hierarchy
except ImportError:
    _hierarchy = None

import rank_rerank as rr


def maxclust(z, t):
    """fcluster(z, t, criterion="maxclust"). scipy refuses trees with a negative merge height,
    which PyLate's float32 1 - cos produces for duplicate tokens (PyLate then fails); for those
    the same scipy routine runs without the check."""
    if (z[:, 2] >= 0).all():
        return hierarchy.fcluster(z, t=t, criterion="maxclust")
    if _hierarchy is None:
        pytest.skip("this scipy has no scipy.cluster._hierarchy to cut a non-monotone tree")
    labels = np.zeros(len(z) + 1, dtype=np.int32)
    _hierarchy.cluster_maxclust_dist(np.ascontiguousarray(z), labels, len(z) + 1, t)
    return labels


def pylate_pool(doc, pool_factor, protected_tokens=1):
    """PyLate 1.6.0 ColBERT.pool_embeddings_hierarchical, one document."""
    protected = doc[:protected_tokens]
    to_pool = doc[protected_tokens:]
    n = len(to_pool)
    num_clusters = max(n // pool_factor, 1)
    if num_clusters >= n:
        return doc
    dist_full = 1 - to_pool @ to_pool.T
    condensed = dist_full[np.triu_indices(n, k=1)]
    labels = maxclust(hierarchy.linkage(condensed, method="ward"), num_clusters)
    sums = np.zeros((num_clusters, doc.shape[1]), dtype=np.float32)
    counts = np.zeros(num_clusters, dtype=np.int64)
    for i, label in enumerate(labels - 1):  # scatter_add_ accumulates in token order
        sums[label] += to_pool[i]
        counts[label] += 1
    mask = counts > 0
    pooled = sums[mask] / counts[mask][:, None].astype(np.float32)
    return np.concatenate([protected, pooled])


def pylate_pool_legacy(doc, pool_factor, protected_tokens=1):
    """PyLate <= 1.4.0: the square distance matrix passed to linkage, protected tokens last."""
    protected = doc[:protected_tokens]
    to_pool = doc[protected_tokens:]
    distance_matrix = 1 - to_pool @ to_pool.T
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hierarchy.ClusterWarning)
        clusters = hierarchy.linkage(distance_matrix, method="ward")
    num_clusters = max(len(to_pool) // pool_factor, 1)
    labels = hierarchy.fcluster(clusters, t=num_clusters, criterion="maxclust")
    pooled = [to_pool[labels == c].mean(axis=0) for c in range(1, num_clusters + 1) if (labels == c).any()]
    return np.concatenate([np.stack(pooled), protected])


def unit_rows(rng, n, dim):
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def colbert_like(rng, n, dim, topics=6, repeats=True):
    """Tokens scattered around a few directions, with a few exact repeats unless told not to."""
    centres = unit_rows(rng, topics, dim)
    x = centres[rng.integers(0, topics, n)] + 0.3 * rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    if repeats:
        x[n // 2 : n // 2 + 3] = x[n // 3]
    return x


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("pool_factor", [2, 3, 4])
def test_matches_pylate(seed, pool_factor):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 300))
    doc = unit_rows(rng, n, 128) if seed % 2 else colbert_like(rng, n, 128)
    expected = pylate_pool(doc, pool_factor)
    got = rr.pool_tokens(doc, pool_factor=pool_factor)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("protected_tokens", [0, 2, 5])
def test_matches_pylate_with_protected_tokens(protected_tokens):
    rng = np.random.default_rng(11)
    doc = colbert_like(rng, 80, 64)
    expected = pylate_pool(doc, 2, protected_tokens)
    got = rr.pool_tokens(doc, pool_factor=2, protected_tokens=protected_tokens)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_matches_pylate_legacy(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(3, 200))
    dim = 32 if seed % 2 else 128  # fewer and more tokens than dimensions
    doc = unit_rows(rng, n, dim)
    pool_factor = 2 + seed % 3
    expected = pylate_pool_legacy(doc, pool_factor)
    got = rr.pool_tokens(doc, pool_factor=pool_factor, variant="similarity_rows")
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_ward_linkage_is_scipy_bit_for_bit():
    rng = np.random.default_rng(5)
    for _ in range(60):
        n = int(rng.integers(2, 80))
        if rng.random() < 0.5:
            condensed = rng.random(n * (n - 1) // 2)
        else:  # many exact ties
            condensed = rng.integers(0, 4, n * (n - 1) // 2).astype(np.float64)
        expected = hierarchy.linkage(condensed, method="ward")
        got = rr.ward_linkage(condensed)
        np.testing.assert_array_equal(got, expected)
        for t in range(1, n + 2):
            np.testing.assert_array_equal(
                rr.fcluster_maxclust(expected, t), hierarchy.fcluster(expected, t, criterion="maxclust")
            )


def test_ward_linkage_accepts_negative_distances_like_scipy():
    condensed = np.array([-1e-7, 0.5, 0.4, 0.3, 0.6, 0.2])
    np.testing.assert_array_equal(rr.ward_linkage(condensed), hierarchy.linkage(condensed, method="ward"))


def test_exact_duplicates_tie_like_scipy():
    doc = np.zeros((12, 4), dtype=np.float32)
    doc[:, 0] = 1.0
    doc[5:8] = [0, 1, 0, 0]
    doc[9] = [0, 0, 1, 0]
    np.testing.assert_array_equal(rr.pool_tokens(doc, pool_factor=3), pylate_pool(doc, 3))


def test_duplicate_tokens_where_scipy_refuses_the_tree():
    # Rounding makes 1 - cos of two equal unit vectors slightly negative; scipy's fcluster then
    # rejects the linkage (so PyLate fails on this document) while we pool it.
    for seed in range(20):
        doc = colbert_like(np.random.default_rng(seed), 60, 128)
        to_pool = doc[1:]
        z = hierarchy.linkage((1 - to_pool @ to_pool.T)[np.triu_indices(59, k=1)], method="ward")
        if (z[:, 2] < 0).any():
            break
    else:
        pytest.skip("this BLAS rounds no duplicate's cosine above 1")
    with pytest.raises(ValueError, match="negative distances"):
        hierarchy.fcluster(z, t=29, criterion="maxclust")
    np.testing.assert_allclose(rr.pool_tokens(doc), pylate_pool(doc, 2), rtol=0, atol=1e-6)


def test_packed_and_list_forms_agree_with_single_documents():
    rng = np.random.default_rng(3)
    docs = [colbert_like(rng, int(n), 32) for n in (1, 9, 40, 2, 77)]
    expected = [rr.pool_tokens(d, pool_factor=2) for d in docs]
    for threads in (1, 2):
        listed = rr.pool_tokens(docs, pool_factor=2, num_threads=threads)
        assert len(listed) == len(docs)
        for a, b in zip(listed, expected):
            np.testing.assert_array_equal(a, b)
    offsets = np.cumsum([0] + [len(d) for d in docs])
    tokens, new_offsets = rr.pool_tokens_packed(np.concatenate(docs), offsets, pool_factor=2)
    np.testing.assert_array_equal(new_offsets, np.cumsum([0] + [len(e) for e in expected]))
    np.testing.assert_array_equal(tokens, np.concatenate(expected))
    assert rr.pool_tokens([], pool_factor=2) == []


def test_sequential_and_adaptive():
    rng = np.random.default_rng(4)
    doc = rng.standard_normal((11, 5)).astype(np.float32)
    got = rr.pool_tokens(doc, pool_factor=3, method="sequential")
    rest = doc[1:]
    expected = np.concatenate([doc[:1]] + [rest[i : i + 3].mean(0, keepdims=True) for i in range(0, 10, 3)])
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_array_equal(rr.pool_tokens(doc, pool_factor=4, method="adaptive"),
                                  rr.pool_tokens(doc, pool_factor=4, method="sequential"))
    np.testing.assert_array_equal(rr.pool_tokens(doc, pool_factor=3, method="adaptive"),
                                  rr.pool_tokens(doc, pool_factor=3))


def test_inputs_may_be_lists_or_float64():
    rng = np.random.default_rng(6)
    doc = unit_rows(rng, 9, 4)
    expected = rr.pool_tokens(doc)
    np.testing.assert_array_equal(rr.pool_tokens(doc.tolist()), expected)
    np.testing.assert_array_equal(rr.pool_tokens(doc.astype(np.float64)), expected)
    np.testing.assert_array_equal(rr.pool_tokens(np.asfortranarray(doc)), expected)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda d: rr.pool_tokens(d, pool_factor=0), "pool_factor must be >= 1"),
        (lambda d: rr.pool_tokens(d, pool_factor=-2), "pool_factor must be >= 1"),
        (lambda d: rr.pool_tokens(d, protected_tokens=7), "protected_tokens = 7 exceeds"),
        (lambda d: rr.pool_tokens(d[0]), "doc must be 2-D"),
        (lambda d: rr.pool_tokens(d[None]), "doc must be 2-D"),
        (lambda d: rr.pool_tokens(d[:, :0]), "dimension must be positive"),
        (lambda d: rr.pool_tokens(d, method="kmeans"), "method must be"),
        (lambda d: rr.pool_tokens(d, variant="other"), "variant must be"),
        (lambda d: rr.pool_tokens([d, d[:, :2]]), "docs[1] has dimension 2"),
        (lambda d: rr.pool_tokens_packed(d, [0, 2, 5]), "offsets end at 5"),
        (lambda d: rr.pool_tokens_packed(d, [0, 6], protected_tokens=8), "document 0"),
        (lambda d: rr.ward_linkage([1.0, 2.0]), "n(n-1)/2"),
        (lambda d: rr.ward_linkage([np.nan]), "finite"),
        (lambda d: rr.fcluster_maxclust(np.zeros((2, 3)), 1), "shape (n - 1, 4)"),
        (lambda d: rr.fcluster_maxclust([[0, 1, 1, 2]], 0), "max_clusters must be >= 1"),
    ],
)
def test_bad_inputs_raise_value_error(call, message):
    doc = np.ones((6, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=re.escape(message)):
        call(doc)


def test_non_finite_values_are_rejected():
    doc = np.ones((6, 3), dtype=np.float32)
    doc[4, 1] = np.nan
    with pytest.raises(ValueError, match="token 4 has a non-finite value"):
        rr.pool_tokens(doc)


def test_matches_installed_pylate():
    """On hosts with PyLate (the GPU host): our pooling against PyLate's own method."""
    pylate = pytest.importorskip("pylate")
    torch = pytest.importorskip("torch")
    from pylate.models import ColBERT

    version = tuple(int(p) for p in pylate.__version__.split(".")[:3])
    variant = "cosine_distances" if version > (1, 4, 0) else "similarity_rows"
    rng = np.random.default_rng(9)
    # No exact repeats: their float32 1 - cos can dip below 0, which makes PyLate itself fail.
    docs = [colbert_like(rng, int(n), 128, repeats=False) for n in (30, 97, 180)]
    pooled = ColBERT.pool_embeddings_hierarchical(
        None, [torch.from_numpy(d) for d in docs], pool_factor=2, protected_tokens=1
    )
    for doc, theirs in zip(docs, pooled):
        ours = rr.pool_tokens(doc, pool_factor=2, variant=variant)
        np.testing.assert_allclose(ours, theirs.cpu().numpy(), rtol=0, atol=1e-6)
