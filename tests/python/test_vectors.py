"""Vector primitives, top-k, token weights and quantization against NumPy / SciPy."""

import math

import numpy as np
import pytest
from scipy.spatial import distance

import rank_rerank as rr
from maxsim_reference import bf16_bits, bf16_decode


@pytest.fixture
def rng():
    return np.random.default_rng(99)


def test_dot_cosine_norm_match_numpy_and_scipy(rng):
    for n in [1, 3, 7, 8, 15, 16, 17, 31, 64, 100, 513]:
        a = rng.standard_normal(n).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        assert rr.dot(a, b) == pytest.approx(a64 @ b64, rel=1e-5, abs=1e-5)
        assert rr.cosine(a, b) == pytest.approx(1 - distance.cosine(a64, b64), abs=1e-5)
        assert rr.norm(a) == pytest.approx(np.linalg.norm(a64), rel=1e-6)
        np.testing.assert_allclose(rr.l2_normalize(a), a64 / np.linalg.norm(a64), atol=1e-6)
    assert rr.dot([1, 2, 3], [4, 5, 6]) == 32.0
    assert rr.cosine([0, 0], [1, 1]) == 0.0
    assert math.isnan(rr.cosine([np.nan, 1], [1, 1]))
    np.testing.assert_array_equal(rr.l2_normalize([0.0, 0.0]), [0.0, 0.0])


def test_l2_normalize_returns_a_copy():
    v = np.array([3.0, 4.0], np.float32)
    out = rr.l2_normalize(v)
    np.testing.assert_allclose(out, [0.6, 0.8])
    np.testing.assert_array_equal(v, [3.0, 4.0])


def test_row_variants(rng):
    a = rng.standard_normal((9, 33)).astype(np.float32)
    b = rng.standard_normal((9, 33)).astype(np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    np.testing.assert_allclose(rr.dot_rows(a, b), (a64 * b64).sum(1), atol=1e-4)
    cos = (a64 * b64).sum(1) / np.linalg.norm(a64, axis=1) / np.linalg.norm(b64, axis=1)
    np.testing.assert_allclose(rr.cosine_rows(a, b), cos, atol=1e-5)
    np.testing.assert_allclose(rr.norm_rows(a), np.linalg.norm(a64, axis=1), rtol=1e-6)
    unit = rr.l2_normalize_rows(a)
    assert unit.shape == a.shape
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-6)


def test_vector_errors():
    with pytest.raises(ValueError, match="same length"):
        rr.dot([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="same length"):
        rr.cosine([1, 2], [1])
    with pytest.raises(ValueError, match="same shape"):
        rr.dot_rows(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="1-D"):
        rr.norm(np.ones((2, 2)))
    with pytest.raises(ValueError, match="2-D"):
        rr.norm_rows([1.0, 2.0])


def _reference_order(scores):
    scores = np.asarray(scores, np.float32)
    numbers = [i for i in range(len(scores)) if not np.isnan(scores[i])]
    nans = [i for i in range(len(scores)) if np.isnan(scores[i])]
    return sorted(numbers, key=lambda i: (-scores[i], i)) + nans


def test_top_k_order_ties_and_nan(rng):
    for _ in range(50):
        n = int(rng.integers(0, 40))
        s = rng.integers(-2, 3, n).astype(np.float32)
        s[rng.random(n) < 0.15] = np.nan
        k = int(rng.integers(0, n + 1))
        idx, vals = rr.top_k(s, k)
        assert idx.dtype == np.int64 and vals.dtype == np.float32
        assert list(idx) == _reference_order(s)[:k]
        np.testing.assert_array_equal(vals, s[idx])
        all_idx, _ = rr.rank_all(s)
        assert list(all_idx) == _reference_order(s)


def test_top_k_errors():
    with pytest.raises(ValueError, match="k"):
        rr.top_k([1.0, 2.0], 3)
    with pytest.raises((ValueError, TypeError)):
        rr.top_k([1.0, 2.0], -1)
    idx, vals = rr.top_k([], 0)
    assert idx.shape == (0,) and vals.shape == (0,)


def test_bm25_idf_and_idf_weights():
    df = np.array([0, 1, 5, 10])
    want = np.log(1 + (10 - df + 0.5) / (df + 0.5))
    np.testing.assert_allclose(rr.bm25_idf(df, 10), want, rtol=1e-6)
    table = np.array([5, 0, 10])
    np.testing.assert_allclose(
        rr.idf_weights([2, 0, 7], table, 10),
        np.log(1 + (10 - np.array([10, 5, 0]) + 0.5) / (np.array([10, 5, 0]) + 0.5)),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="outside"):
        rr.bm25_idf([11], 10)
    with pytest.raises(ValueError, match="negative"):
        rr.idf_weights([-1], table, 10)
    with pytest.raises(ValueError, match="n_docs"):
        rr.bm25_idf([0], -5)


def test_bm25_weights_and_weighted_maxsim(rng):
    tf = np.array([1.0, 2.0, 0.0])
    df = np.array([3, 1, 2])
    dl, avgdl, k1, b = 20.0, 10.0, 1.5, 0.6
    idf = np.log(1 + (50 - df + 0.5) / (df + 0.5))
    want = idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
    got = rr.bm25_weights(tf, df, 50, dl, avgdl, k1=k1, b=b)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(ValueError, match="avg_doc_length"):
        rr.bm25_weights(tf, df, 50, dl, 0.0)
    with pytest.raises(ValueError, match="term_frequencies"):
        rr.bm25_weights([-1.0, 1.0, 1.0], df, 50, dl, avgdl)
    with pytest.raises(ValueError, match="aligned"):
        rr.bm25_weights(tf, df[:2], 50, dl, avgdl)
    # The weights plug straight into weighted MaxSim.
    q = rng.standard_normal((3, 8)).astype(np.float32)
    d = rng.standard_normal((5, 8)).astype(np.float32)
    best = (q.astype(np.float64) @ d.astype(np.float64).T).max(1)
    assert rr.maxsim(q, d, weights=got) == pytest.approx(float((want * best).sum()), abs=1e-4)


def test_attention_weights():
    np.testing.assert_allclose(rr.attention_weights([1.0, 3.0]), [0.25, 0.75])
    np.testing.assert_allclose(rr.attention_weights([0.0, 0.0]), [0.5, 0.5])
    assert rr.attention_weights([]).shape == (0,)


def test_quantize_matches_numpy_definitions(rng):
    x = rng.standard_normal((7, 21)).astype(np.float32)
    half, none = rr.quantize(x, "float16")
    assert none is None and half.dtype == np.float16
    np.testing.assert_array_equal(half, x.astype(np.float16))
    bf, _ = rr.quantize(x, "bfloat16")
    np.testing.assert_array_equal(bf, bf16_bits(x))
    codes, scales = rr.quantize(x, "int8")
    np.testing.assert_allclose(scales, np.abs(x).max(1) / 127, rtol=1e-6)
    assert np.abs(codes.astype(np.int32) - np.rint(x / scales[:, None])).max() <= 1
    bits, _ = rr.quantize(x, "bit")
    np.testing.assert_array_equal(bits, np.packbits(x > 0, axis=-1))
    # And back.
    np.testing.assert_array_equal(rr.dequantize(half), x.astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(rr.dequantize(bf, "bfloat16"), bf16_decode(bf))
    np.testing.assert_allclose(rr.dequantize(codes, scales=scales), codes * scales[:, None], rtol=1e-6)
    np.testing.assert_array_equal(rr.dequantize(bits, "bit", dim=21), np.where(x > 0, 1.0, -1.0))
    with pytest.raises(ValueError, match="dtype"):
        rr.quantize(x, "int4")
    with pytest.raises(ValueError, match="2-D"):
        rr.quantize(x[0], "int8")
