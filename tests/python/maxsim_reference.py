"""MaxSim written from its definition in NumPy (float64), for the tests.

    score(Q, D) = sum_i w_i * max_j sim(q_i, d_j)

sim is the dot product or the cosine (a zero vector has cosine 0 with anything).
"""

import numpy as np


def similarities(query, doc, cosine=False):
    q = np.asarray(query, dtype=np.float64)
    d = np.asarray(doc, dtype=np.float64)
    sims = np.einsum("id,jd->ij", q, d)
    if cosine:
        qn = np.linalg.norm(q, axis=1)[:, None]
        dn = np.linalg.norm(d, axis=1)[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            sims = np.where((qn == 0) | (dn == 0), 0.0, sims / (qn * dn))
    return sims


def maxsim(query, doc, weights=None, cosine=False, zero_floor=False):
    doc = np.asarray(doc, dtype=np.float64)
    if doc.shape[0] == 0:
        return 0.0
    best = similarities(query, doc, cosine).max(axis=1)
    if zero_floor:
        best = np.maximum(best, 0.0)
    w = np.ones(len(best)) if weights is None else np.asarray(weights, dtype=np.float64)
    return float((w * best).sum())


def unit_rows(rng, n, dim):
    x = rng.standard_normal((n, dim)).astype(np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms == 0, 1, norms)).astype(np.float32)


def bf16_bits(x):
    """float32 -> bfloat16 bit patterns, rounding to nearest even (NaN-free input)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_decode(bits):
    return (np.asarray(bits, dtype=np.uint32) << 16).view(np.float32)
