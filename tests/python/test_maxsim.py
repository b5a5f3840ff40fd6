"""MaxSim bindings against NumPy written from the definition (maxsim_reference.py)."""

import math

import numpy as np
import pytest

import rank_rerank as rr
from maxsim_reference import bf16_bits, bf16_decode, maxsim, unit_rows


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("similarity", ["dot", "cosine"])
@pytest.mark.parametrize("weighted", [False, True])
def test_single_document_matches_definition(rng, similarity, weighted):
    for _ in range(10):
        nq, nd, dim = rng.integers(1, 33), rng.integers(0, 60), rng.integers(1, 130)
        q = rng.standard_normal((nq, dim)).astype(np.float32)
        d = rng.standard_normal((nd, dim)).astype(np.float32)
        w = rng.uniform(0, 2, nq).astype(np.float32) if weighted else None
        got = rr.maxsim(q, d, similarity=similarity, weights=w)
        want = maxsim(q, d, w, cosine=similarity == "cosine")
        assert got == pytest.approx(want, rel=1e-5, abs=1e-4)


def test_accepts_lists_float64_and_strided_arrays(rng):
    q = unit_rows(rng, 5, 16)
    d = unit_rows(rng, 9, 16)
    want = maxsim(q, d)
    assert rr.maxsim(q.tolist(), d.tolist()) == pytest.approx(want, abs=1e-5)
    assert rr.maxsim(q.astype(np.float64), d.astype(np.float64)) == pytest.approx(want, abs=1e-5)
    wide = np.zeros((9, 32), np.float32)
    wide[:, ::2] = d
    assert rr.maxsim(q, wide[:, ::2]) == pytest.approx(want, abs=1e-5)
    assert rr.maxsim(np.asfortranarray(q), d) == pytest.approx(want, abs=1e-5)


def test_seed_crate_names(rng):
    q = unit_rows(rng, 4, 8)
    docs = [unit_rows(rng, n, 8) for n in (3, 1, 7)]
    assert rr.maxsim_vecs(q.tolist(), docs[0].tolist()) == pytest.approx(maxsim(q, docs[0]), abs=1e-5)
    assert rr.maxsim_cosine_vecs(q * 3, docs[0]) == pytest.approx(maxsim(q, docs[0], cosine=True), abs=1e-5)
    batch = rr.maxsim_batch(q, docs)
    assert isinstance(batch, np.ndarray) and batch.dtype == np.float32 and batch.shape == (3,)
    np.testing.assert_allclose(batch, [maxsim(q, d) for d in docs], atol=1e-5)
    np.testing.assert_allclose(rr.maxsim_batch(q.tolist(), [d.tolist() for d in docs]), batch)
    assert rr.maxsim_batch(q, []).shape == (0,)


def test_batch_of_compressed_documents_without_packing(rng):
    q = unit_rows(rng, 4, 16)
    docs = [unit_rows(rng, n, 16) for n in (5, 0, 9)]
    bits = [rr.quantize(d, "bfloat16")[0] for d in docs]
    want = [maxsim(q, bf16_decode(b)) for b in bits]
    np.testing.assert_allclose(rr.maxsim_batch(q, bits, dtype="bfloat16"), want, atol=2e-2)
    coded = [rr.quantize(d, "int8") for d in docs]
    got = rr.maxsim_batch(q, [c for c, _ in coded], scales=[s for _, s in coded])
    want_i8 = [maxsim(q, c.astype(np.float64) * s[:, None]) for c, s in coded]
    np.testing.assert_allclose(got, want_i8, atol=2e-2)
    with pytest.raises(ValueError, match="scales"):
        rr.maxsim_batch(q, [c for c, _ in coded], scales=[coded[0][1]])


def test_empty_document_scores_zero_and_nan_propagates(rng):
    q = unit_rows(rng, 3, 8)
    assert rr.maxsim(q, np.zeros((0, 8), np.float32)) == 0.0
    assert rr.maxsim(q, []) == 0.0
    d = unit_rows(rng, 4, 8)
    bad_q = q.copy()
    bad_q[1, 2] = np.nan
    bad_d = d.copy()
    bad_d[3, 0] = np.nan
    assert math.isnan(rr.maxsim(bad_q, d))
    assert math.isnan(rr.maxsim(q, bad_d))
    assert math.isnan(rr.maxsim(q, d, weights=[1, np.nan, 1]))


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_packed_documents(rng, threads):
    dim = 32
    q = unit_rows(rng, 7, dim)
    lengths = rng.integers(0, 80, 120)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    tokens = unit_rows(rng, int(offsets[-1]), dim)
    w = rng.uniform(0, 2, 7)
    got = rr.maxsim_packed(q, tokens, offsets, weights=w, num_threads=threads)
    want = [maxsim(q, tokens[a:b], w) for a, b in zip(offsets[:-1], offsets[1:])]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-4)


def _padded(rng, lengths, max_len, dim, fill):
    docs = np.full((len(lengths), max_len, dim), fill, np.float32)
    for i, n in enumerate(lengths):
        docs[i, :n] = unit_rows(rng, n, dim)
    return docs


@pytest.mark.parametrize("padding", ["ignore", "zero_floor"])
@pytest.mark.parametrize("fill", [50.0, np.nan])
def test_padded_with_lengths(rng, padding, fill):
    dim, max_len = 12, 20
    q = unit_rows(rng, 6, dim)
    lengths = rng.integers(0, max_len + 1, 40)
    lengths[0] = max_len
    docs = _padded(rng, lengths, max_len, dim, fill)
    got = rr.maxsim_padded(q, docs, lengths=lengths, padding=padding, num_threads=2)
    floor = padding == "zero_floor"
    want = [maxsim(q, docs[i, :n], zero_floor=floor and n < max_len) for i, n in enumerate(lengths)]
    np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("padding", ["ignore", "zero_floor"])
def test_padded_with_mask(rng, padding):
    dim, max_len = 10, 16
    q = unit_rows(rng, 5, dim)
    docs = unit_rows(rng, 30 * max_len, dim).reshape(30, max_len, dim)
    mask = rng.random((30, max_len)) < 0.6
    mask[0] = True
    mask[1] = False
    docs[~mask] = np.nan  # masked rows must never be read
    got = rr.maxsim_padded(q, docs, mask=mask, padding=padding)
    floor = padding == "zero_floor"
    want = [maxsim(q, docs[i][mask[i]], zero_floor=floor and not mask[i].all()) for i in range(30)]
    np.testing.assert_allclose(got, want, atol=1e-5)
    # Float masks (as PyLate passes them) mean the same.
    np.testing.assert_array_equal(
        rr.maxsim_padded(q, docs, mask=mask.astype(np.float32), padding=padding), got
    )


def test_padded_without_lengths_or_mask_uses_every_position(rng):
    q = unit_rows(rng, 3, 8)
    docs = unit_rows(rng, 4 * 5, 8).reshape(4, 5, 8)
    np.testing.assert_allclose(rr.maxsim_padded(q, docs), [maxsim(q, d) for d in docs], atol=1e-5)


@pytest.mark.parametrize("similarity", ["dot", "cosine"])
def test_all_pairs_lists_and_packed(rng, similarity):
    dim = 16
    queries = [unit_rows(rng, n, dim) * 2 for n in (3, 1, 8)]
    docs = [unit_rows(rng, n, dim) for n in (5, 0, 9, 2)]
    cos = similarity == "cosine"
    w = rng.uniform(0, 2, 12)
    got = rr.maxsim_all_pairs(queries, docs, similarity=similarity, weights=w, num_threads=2)
    assert got.shape == (3, 4)
    q_off = [0, 3, 4, 12]
    want = [[maxsim(q, d, w[q_off[i]:q_off[i + 1]], cos) for d in docs] for i, q in enumerate(queries)]
    np.testing.assert_allclose(got, want, atol=1e-4)
    packed = rr.maxsim_all_pairs(
        np.concatenate(queries), np.concatenate(docs), query_offsets=q_off,
        doc_offsets=[0, 5, 5, 14, 16], similarity=similarity, weights=w,
    )
    np.testing.assert_array_equal(packed, got)


def test_candidates_both_forms(rng):
    dim = 8
    queries = [unit_rows(rng, n, dim) for n in (2, 4, 3)]
    docs = [unit_rows(rng, n, dim) for n in (3, 6, 1, 4)]
    candidates = [[3, 0, 3], [], [1]]
    got = rr.maxsim_candidates(queries, docs, candidates)
    want = [maxsim(queries[i], docs[j]) for i, ids in enumerate(candidates) for j in ids]
    np.testing.assert_allclose(got, want, atol=1e-5)
    flat = rr.maxsim_candidates(queries, docs, [3, 0, 3, 1], candidate_offsets=[0, 3, 3, 4])
    np.testing.assert_array_equal(flat, got)


def test_alignments_and_highlights(rng):
    q = unit_rows(rng, 6, 12)
    d = unit_rows(rng, 15, 12)
    sims = q.astype(np.float64) @ d.astype(np.float64).T
    al = rr.maxsim_alignments(q, d)
    assert [a[0] for a in al] == list(range(6))
    for qi, dj, s in al:
        assert dj == int(np.argmax(sims[qi]))
        assert s == pytest.approx(sims[qi].max(), abs=1e-5)
    assert rr.maxsim_alignments(q, []) == []
    hl = rr.highlight_matches(q, d, 0.3)
    assert hl == [j for j in range(15) if sims[:, j].max() >= 0.3]
    assert rr.highlight_matches(q, [], 0.3) == []
    # Seed crate example: only the strongly matching token is highlighted.
    doc = [[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]]
    assert rr.highlight_matches([[1.0, 0.0]], doc, 0.7) == [0]
    assert rr.maxsim_alignments([[1.0, 0.0], [0.0, 1.0]], doc) == [
        (0, 0, pytest.approx(0.9)), (1, 1, pytest.approx(0.9))]


def test_compressed_documents(rng):
    dim = 64
    q = unit_rows(rng, 8, dim)
    d = unit_rows(rng, 30, dim)
    # float16 (numpy dtype), bfloat16 (uint16 bit patterns), int8 + scales, bits.
    half = d.astype(np.float16)
    assert rr.maxsim(q, half) == pytest.approx(maxsim(q, half.astype(np.float32)), abs=2e-2)
    bits16 = bf16_bits(d)
    assert rr.maxsim(q, bits16, dtype="bfloat16") == pytest.approx(maxsim(q, bf16_decode(bits16)), abs=2e-2)
    scales = np.abs(d).max(axis=1) / 127
    codes = np.rint(d / scales[:, None]).astype(np.int8)
    want_i8 = maxsim(q, codes.astype(np.float64) * scales[:, None])
    assert rr.maxsim(q, codes, scales=scales) == pytest.approx(want_i8, abs=2e-2)
    packed = np.packbits(d > 0, axis=-1)
    want_bit = maxsim(q, np.where(d > 0, 1.0, -1.0))
    assert rr.maxsim(q, packed, dtype="bit", dim=dim) == pytest.approx(want_bit, abs=1e-3)
    # Bit query against bit documents: dot of +-1 codes = dim - 2 * hamming distance.
    qbits = np.packbits(q > 0, axis=-1)
    want_bb = maxsim(np.where(q > 0, 1.0, -1.0), np.where(d > 0, 1.0, -1.0))
    assert rr.maxsim(qbits, packed, dtype="bit", dim=dim) == want_bb
    # Packed and padded layouts take the same storage keywords.
    offsets = [0, 10, 30]
    np.testing.assert_allclose(
        rr.maxsim_packed(q, codes, offsets, scales=scales),
        [maxsim(q, codes[a:b].astype(np.float64) * scales[a:b, None]) for a, b in ((0, 10), (10, 30))],
        atol=2e-2,
    )
    got = rr.maxsim_padded(q, packed.reshape(3, 10, dim // 8), lengths=[10, 4, 0], dtype="bit", dim=dim)
    signs = np.where(d > 0, 1.0, -1.0).reshape(3, 10, dim)
    np.testing.assert_allclose(got, [maxsim(q, signs[0]), maxsim(q, signs[1, :4]), 0.0], atol=1e-3)


def test_bfloat16_torch_tensor_via_dlpack(rng):
    torch = pytest.importorskip("torch")
    q = unit_rows(rng, 4, 32)
    d = unit_rows(rng, 9, 32)
    t = torch.from_numpy(d).to(torch.bfloat16)
    want = maxsim(q, t.float().numpy())
    assert rr.maxsim(q, t) == pytest.approx(want, abs=2e-2)
    assert rr.maxsim(torch.from_numpy(q), torch.from_numpy(d)) == pytest.approx(maxsim(q, d), abs=1e-5)


def test_matches_maxsim_cpu(rng):
    maxsim_cpu = pytest.importorskip("maxsim_cpu")
    dim = 128
    q = unit_rows(rng, 32, dim)
    docs = [unit_rows(rng, int(n), dim) for n in rng.integers(1, 300, 40)]
    np.testing.assert_allclose(rr.maxsim_batch(q, docs), maxsim_cpu.maxsim_scores_variable(q, docs), rtol=1e-5, atol=1e-4)
    fixed = unit_rows(rng, 20 * 64, dim).reshape(20, 64, dim)
    np.testing.assert_allclose(rr.maxsim_padded(q, fixed), maxsim_cpu.maxsim_scores(q, fixed), rtol=1e-5, atol=1e-4)


def test_matches_pylate_colbert_scores(rng):
    torch = pytest.importorskip("torch")
    scores = pytest.importorskip("pylate.scores")
    dim, max_len = 16, 12
    queries = np.stack([unit_rows(rng, 5, dim) for _ in range(3)])
    lengths = [12, 7, 1, 4]
    docs = _padded(rng, lengths, max_len, dim, 0.0)
    mask = np.arange(max_len)[None, :] < np.array(lengths)[:, None]
    want = scores.colbert_scores(
        torch.from_numpy(queries), torch.from_numpy(docs),
        documents_mask=torch.from_numpy(mask.astype(np.float32)),
    ).numpy()
    got = np.stack([rr.maxsim_padded(q, docs, mask=mask, padding="zero_floor") for q in queries])
    np.testing.assert_allclose(got, want, atol=1e-5)
