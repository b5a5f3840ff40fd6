"""MMR and greedy DPP against NumPy implementations written from the definitions."""

import re

import numpy as np
import pytest

import rank_rerank as rr


def cosine_matrix(e):
    e = e.astype(np.float64)
    norms = np.linalg.norm(e, axis=1, keepdims=True)
    u = np.divide(e, norms, out=np.zeros_like(e), where=norms > 0)
    sim = u @ u.T
    np.fill_diagonal(sim, (norms[:, 0] > 0).astype(np.float64))  # cos(x, x) = 1 exactly
    return sim


def numpy_mmr(sim, relevance, k, lam, normalize=True):
    rel = relevance.astype(np.float64)
    if normalize:
        span = rel.max() - rel.min()
        rel = (rel - rel.min()) / span if span > 1e-9 else np.ones_like(rel)
    picked = []
    for _ in range(k):
        penalty = sim[:, picked].max(axis=1) if picked else np.zeros(len(rel))
        score = lam * rel - (1 - lam) * penalty
        score[picked] = -np.inf
        picked.append(int(np.argmax(score)))  # argmax: first of equal maxima
    return picked


def numpy_dpp(sim, relevance, k, alpha):
    """Greedy MAP: each step the item maximising log det L_{Y+j}, L = diag(q) S diag(q)."""
    q = np.exp(alpha * relevance.astype(np.float64))
    kernel = q[:, None] * sim * q[None, :]
    picked, gains, current = [], [], 0.0
    for _ in range(k):
        best, best_ld = None, -np.inf
        for j in range(len(q)):
            if j in picked:
                continue
            sign, ld = np.linalg.slogdet(kernel[np.ix_(picked + [j], picked + [j])])
            if sign > 0 and ld > best_ld:
                best, best_ld = j, ld
        picked.append(best)
        gains.append(best_ld - current)
        current = best_ld
    return picked, gains


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("lam", [0.0, 0.25, 0.5, 0.8, 1.0])
def test_mmr_matches_numpy(seed, lam):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((80, 24)).astype(np.float32)
    r = rng.random(80).astype(np.float32)
    sim = cosine_matrix(e)
    expected = numpy_mmr(sim, r, 20, lam)
    assert rr.mmr(e, r, k=20, lambda_=lam).tolist() == expected
    assert rr.mmr_from_similarity(sim.astype(np.float32), r, k=20, lambda_=lam).tolist() == expected
    dot = e.astype(np.float64) @ e.T.astype(np.float64)
    assert rr.mmr(e, r, k=20, lambda_=lam, similarity="dot", normalize_relevance=False).tolist() == \
        numpy_mmr(dot, r, 20, lam, normalize=False)


def test_mmr_returns_gains():
    rng = np.random.default_rng(7)
    e = rng.standard_normal((10, 4)).astype(np.float32)
    r = rng.random(10).astype(np.float32)
    idx, gains = rr.mmr(e, r, k=3, return_gains=True)
    assert idx.dtype == np.int64 and gains.dtype == np.float64
    assert gains[0] == pytest.approx(0.5)  # lambda * 1 (top relevance after scaling) - 0


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("alpha", [0.0, 0.5, 2.0])
def test_dpp_matches_numpy_logdet_greedy(seed, alpha):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((16, 24)).astype(np.float32)
    r = rng.random(16).astype(np.float32)
    sim = cosine_matrix(e)
    expected, gains = numpy_dpp(sim, r, 10, alpha)
    idx, got_gains = rr.dpp(e, r, k=10, alpha=alpha, return_gains=True)
    assert idx.tolist() == expected
    np.testing.assert_allclose(got_gains, gains, rtol=1e-6, atol=1e-8)
    assert rr.dpp_from_similarity(sim.astype(np.float32), r, k=10, alpha=alpha).tolist() == expected


def test_dpp_dot_similarity_and_rank_deficiency():
    rng = np.random.default_rng(8)
    e = rng.standard_normal((14, 20)).astype(np.float32)
    r = rng.random(14).astype(np.float32)
    dot = e.astype(np.float64) @ e.T.astype(np.float64)
    assert rr.dpp(e, r, k=8, similarity="dot").tolist() == numpy_dpp(dot, r, 8, 1.0)[0]
    low_rank = rng.standard_normal((14, 3)).astype(np.float32)
    assert len(rr.dpp(low_rank, r, k=8)) == 3  # a 4th item would make det L zero


def test_dpp_stop_at_nonpositive_gain():
    rng = np.random.default_rng(9)
    e = rng.standard_normal((12, 12)).astype(np.float32)
    r = np.full(12, 0.2, dtype=np.float32)
    idx, gains = rr.dpp(e, r, k=12, stop_at_nonpositive_gain=True, return_gains=True)
    assert 0 < len(idx) < 12 and (gains > 0).all()
    full_idx, full_gains = rr.dpp(e, r, k=12, return_gains=True)
    assert full_idx[: len(idx)].tolist() == idx.tolist()
    assert full_gains[len(idx)] <= 0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda e, r: rr.mmr(e, r, k=6), "k = 6 exceeds the 5 candidates"),
        (lambda e, r: rr.mmr(e, r, k=-1), "k must be >= 0"),
        (lambda e, r: rr.mmr(e, r[:4], k=2), "relevance has 4 scores but there are 5 candidates"),
        (lambda e, r: rr.mmr(e, r, k=2, lambda_=1.5), "lambda must lie in [0, 1]"),
        (lambda e, r: rr.mmr(e, r, similarity="l2"), "similarity must be"),
        (lambda e, r: rr.mmr(e[0], r), "embeddings must be 2-D"),
        (lambda e, r: rr.mmr(e, r[:, None]), "relevance must be 1-D"),
        (lambda e, r: rr.mmr(e, np.where(np.arange(5) == 2, np.nan, r), k=2), "relevance must be finite"),
        (lambda e, r: rr.mmr_from_similarity(e, r, k=2), "similarity must be square"),
        (lambda e, r: rr.dpp(e, r, k=6), "k = 6 exceeds"),
        (lambda e, r: rr.dpp(e, r, k=2, alpha=-1), "alpha must be finite and >= 0"),
        (lambda e, r: rr.dpp(e, r, k=2, epsilon=np.nan), "epsilon must be finite"),
        (lambda e, r: rr.dpp(np.full((5, 3), np.inf), r, k=2), "embeddings must be finite"),
        (lambda e, r: rr.dpp_from_similarity(np.zeros((5, 4)), r, k=2), "similarity must be square"),
    ],
)
def test_bad_inputs_raise_value_error(call, message):
    rng = np.random.default_rng(0)
    e = rng.standard_normal((5, 3)).astype(np.float32)
    r = rng.random(5).astype(np.float32)
    with pytest.raises(ValueError, match=re.escape(message)):
        call(e, r)


def test_lists_are_accepted():
    e = [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]
    r = [0.9, 0.85, 0.8]
    assert rr.mmr(e, r, k=2).tolist() == [0, 2]  # the seed crate's mmr_cosine example
    assert len(rr.dpp(e, r, k=2)) == 2
    assert rr.mmr(e, r, k=0).tolist() == []
