"""Matryoshka refinement, blending and normalisation against NumPy from the definitions."""

import re

import numpy as np
import pytest

import rank_rerank as rr


def test_matryoshka_refine_matches_numpy():
    rng = np.random.default_rng(0)
    docs = rng.standard_normal((40, 64)).astype(np.float32)
    query = rng.standard_normal(64).astype(np.float32)
    scores = rng.standard_normal(40).astype(np.float32)
    head = 16
    qt = query[head:].astype(np.float64)
    dt = docs[:, head:].astype(np.float64)
    tail = dt @ qt / (np.linalg.norm(dt, axis=1) * np.linalg.norm(qt))
    refined = 0.3 * scores + 0.7 * tail
    order = np.argsort(-refined, kind="stable")
    idx, got = rr.matryoshka_refine(query, docs, scores, head_dims=head, alpha=0.3)
    assert idx.tolist() == order.tolist()
    np.testing.assert_allclose(got, refined[order], rtol=1e-6, atol=1e-7)
    idx5, got5 = rr.matryoshka_refine(query, docs, scores, head_dims=head, alpha=0.3, top_k=5)
    assert idx5.tolist() == order[:5].tolist()


def test_matryoshka_refine_seed_crate_example_and_nan():
    scores = [0.9, 0.1]
    query = [0.0, 0.0, 1.0, 0.0]
    docs = [[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]]
    assert rr.matryoshka_refine(query, docs, scores, head_dims=2, alpha=0.0)[0].tolist() == [1, 0]
    assert rr.matryoshka_refine(query, docs, scores, head_dims=2, alpha=1.0)[0].tolist() == [0, 1]
    idx, vals = rr.matryoshka_refine(query, docs, [np.nan, 0.1], head_dims=2)
    assert idx.tolist() == [1, 0] and np.isnan(vals[1])


def test_blend_scores():
    a = np.array([1.0, 2.0, np.nan], dtype=np.float32)
    b = np.array([3.0, 6.0, 1.0], dtype=np.float32)
    np.testing.assert_allclose(rr.blend_scores(a, b, 0.25), 0.25 * a + 0.75 * b)


def test_normalize_scores():
    s = np.array([2.0, 4.0, np.nan, 3.0, np.inf, -np.inf], dtype=np.float32)
    np.testing.assert_array_equal(rr.normalize_scores(s), [0.0, 1.0, np.nan, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(rr.normalize_scores([5.0, 5.0]), [0.5, 0.5])
    assert rr.normalize_scores([]).shape == (0,)
    x = np.array([1000.0, 1001.0, 999.0], dtype=np.float32)
    e = np.exp((x.astype(np.float64) - 1001.0) / 2.0)
    np.testing.assert_allclose(rr.normalize_scores(x, "softmax", temperature=2.0), e / e.sum(), rtol=1e-6)
    np.testing.assert_array_equal(rr.normalize_scores([np.nan, 1.0], "softmax"), [0.0, 1.0])
    z = np.array([-3.0, 0.0, 2.5, 1e30, -1e30], dtype=np.float32)
    expected = 1 / (1 + np.exp(-np.clip(z.astype(np.float64), -700, 700)))
    np.testing.assert_allclose(rr.normalize_scores(z, "sigmoid"), expected.astype(np.float32), rtol=1e-6)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: rr.matryoshka_refine([1, 2, 3], [[1, 2, 3]], [1.0], head_dims=3), "leaves no tail"),
        (lambda: rr.matryoshka_refine([1, 2, 3], [[1, 2]], [1.0], head_dims=1), "docs have dimension 2"),
        (lambda: rr.matryoshka_refine([1, 2, 3], [[1, 2, 3]], [1.0, 2.0], head_dims=1), "2 scores for 1"),
        (lambda: rr.matryoshka_refine([1, 2, 3], [[1, 2, 3]], [1.0], head_dims=1, top_k=2), "top_k = 2"),
        (lambda: rr.matryoshka_refine([1, 2, 3], [[1, 2, 3]], [1.0], head_dims=-1), "head_dims must be"),
        (lambda: rr.matryoshka_refine([[1, 2, 3]], [[1, 2, 3]], [1.0], head_dims=1), "query must be 1-D"),
        (lambda: rr.matryoshka_refine([1, 2, 3], [[1, 2, 3]], [1.0], head_dims=1, alpha=2), "alpha must lie"),
        (lambda: rr.blend_scores([1.0], [1.0, 2.0]), "a has 1 scores but b has 2"),
        (lambda: rr.blend_scores([1.0], [1.0], alpha=-0.5), "alpha must lie"),
        (lambda: rr.normalize_scores([1.0], "zscore"), "method must be"),
        (lambda: rr.normalize_scores([1.0], "softmax", temperature=0), "temperature must be"),
        (lambda: rr.normalize_scores([[1.0]]), "scores must be 1-D"),
    ],
)
def test_bad_inputs_raise_value_error(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
