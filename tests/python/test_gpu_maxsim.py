"""GPU MaxSim against NumPy written from the definition (maxsim_reference) on random ragged data.
Argument checks run everywhere; GPU comparisons skip with the reason when no CUDA device is
usable; the torch / cupy zero-copy paths skip when those frameworks (or a GPU) are missing."""

import numpy as np
import pytest

import rank_rerank
from maxsim_reference import maxsim as ref_maxsim

GPU = rank_rerank.get_gpu_device() == "cuda"
needs_gpu = pytest.mark.skipif(not GPU, reason="no usable CUDA device (rank_rerank.get_gpu_device() != 'cuda')")


def ragged(rng, n_docs, max_len, dim):
    lengths = rng.integers(0, max_len + 1, n_docs)
    lengths[::7] = 0
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = rng.standard_normal((int(offsets[-1]), dim)).astype(np.float32)
    return tokens, offsets


def reference(query, tokens, offsets, cosine=False, weights=None):
    return np.array([ref_maxsim(query, tokens[offsets[i]:offsets[i + 1]], weights, cosine)
                     for i in range(len(offsets) - 1)])


def test_bad_arguments_are_value_errors():
    q = np.ones((3, 64), np.float32)
    with pytest.raises(ValueError, match="does not match"):
        rank_rerank.maxsim_gpu(q, np.ones((4, 32), np.float32), np.array([0, 4]))
    with pytest.raises(ValueError, match="query_offsets"):
        rank_rerank.maxsim_gpu(q, np.ones((4, 64), np.float32), np.array([0, 4]), query_offsets=[0, 0])
    with pytest.raises(ValueError, match="weights"):
        rank_rerank.maxsim_gpu(q, np.ones((4, 64), np.float32), np.array([0, 4]), weights=[1.0, 2.0])
    with pytest.raises(ValueError):
        rank_rerank.maxsim_gpu(np.ones((0, 64), np.float32), np.ones((4, 64), np.float32), np.array([0, 4]))
    with pytest.raises(ValueError, match="device"):
        rank_rerank.maxsim_gpu(q, np.ones((4, 64), np.float32), np.array([0, 4]), device="cpu")
    with pytest.raises(ValueError):
        rank_rerank.maxsim_gpu(q, np.ones((4, 64), np.float32), np.array([0, 5]))


def test_unsupported_dimension_or_missing_gpu_is_runtime_error():
    q = np.ones((3, 48), np.float32)
    with pytest.raises(RuntimeError):
        rank_rerank.maxsim_gpu(q, np.ones((4, 48), np.float32), np.array([0, 4]))
    if not GPU:
        with pytest.raises(RuntimeError):
            rank_rerank.maxsim_vecs_gpu(np.ones((3, 64), np.float32), [np.ones((2, 64), np.float32)])


@needs_gpu
@pytest.mark.parametrize("dim", [32, 64, 96, 128])
@pytest.mark.parametrize("cosine", [False, True])
def test_float32_matches_the_definition(dim, cosine):
    rng = np.random.default_rng(dim + cosine)
    tokens, offsets = ragged(rng, 120, 50, dim)
    query = rng.standard_normal((37, dim)).astype(np.float32)
    weights = rng.uniform(0.5, 1.5, 37).astype(np.float32)
    sim = "cosine" if cosine else "dot"
    got = rank_rerank.maxsim_gpu(query, tokens, offsets, similarity=sim, weights=weights)
    want = reference(query, tokens, offsets, cosine, weights)
    scale = np.abs(want).max()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * scale)


@needs_gpu
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int8", "bit"])
def test_compressed_documents_match_their_decoding(dtype):
    rng = np.random.default_rng(3)
    dim = 128
    tokens, offsets = ragged(rng, 200, 40, dim)
    query = rng.standard_normal((32, dim)).astype(np.float32)
    codes, scales = rank_rerank.quantize(tokens, dtype)
    kwargs = {"dtype": dtype}
    if dtype == "int8":
        kwargs["scales"] = scales
    if dtype == "bit":
        kwargs["dim"] = dim
    decoded = rank_rerank.dequantize(codes, **kwargs)
    got = rank_rerank.maxsim_gpu(query, codes, offsets, **kwargs)
    want = reference(query, decoded, offsets)
    np.testing.assert_allclose(got, want, rtol=1e-2, atol=1e-2 * np.abs(want).max())


@needs_gpu
def test_seed_api_many_queries_document_set_and_top_k():
    rng = np.random.default_rng(7)
    tokens, offsets = ragged(rng, 64, 30, 64)
    docs = [tokens[offsets[i]:offsets[i + 1]] for i in range(64)]
    query = rng.standard_normal((32, 64)).astype(np.float32)
    want = reference(query, tokens, offsets)
    np.testing.assert_allclose(rank_rerank.maxsim_vecs_gpu(query, docs), want, rtol=1e-5,
                               atol=1e-5 * np.abs(want).max())
    queries = rng.standard_normal((70, 64)).astype(np.float32)
    q_off = np.array([0, 32, 33, 70])
    all_pairs = rank_rerank.maxsim_gpu(queries, tokens, offsets, query_offsets=q_off)
    assert all_pairs.shape == (3, 64)
    for q in range(3):
        np.testing.assert_allclose(all_pairs[q], reference(queries[q_off[q]:q_off[q + 1]], tokens, offsets),
                                   rtol=1e-5, atol=1e-3)
    docset = rank_rerank.GpuDocumentSet(tokens, offsets)
    assert docset.size == 64 and docset.dim == 64 and docset.device_bytes >= tokens.nbytes
    np.testing.assert_array_equal(docset.score(queries, q_off), all_pairs)
    idx, best = docset.top_k(queries, 5, q_off)
    for q in range(3):
        order = sorted(range(64), key=lambda i: (-all_pairs[q, i], i))[:5]
        assert list(idx[q]) == order
        np.testing.assert_array_equal(best[q], all_pairs[q, order])
    with pytest.raises(ValueError):
        docset.top_k(queries, 65, q_off)


@needs_gpu
def test_torch_cuda_tensors_stay_on_the_device():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA device")
    rng = np.random.default_rng(11)
    tokens, offsets = ragged(rng, 50, 40, 128)
    query = rng.standard_normal((32, 128)).astype(np.float32)
    t_tokens = torch.from_numpy(tokens).cuda().half()
    t_query = torch.from_numpy(query).cuda().half()
    t_off = torch.from_numpy(offsets).cuda()
    got = rank_rerank.maxsim_gpu(t_query, t_tokens, t_off)
    assert isinstance(got, torch.Tensor) and got.is_cuda and got.dtype == torch.float32
    want = reference(t_query.float().cpu().numpy(), t_tokens.float().cpu().numpy(), offsets)
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    idx, best = rank_rerank.top_k_gpu(got[None, :].contiguous(), 5)
    assert idx.is_cuda and list(idx[0].cpu().numpy()) == sorted(range(50), key=lambda i: (-want[i], i))[:5]
    with pytest.raises(ValueError, match="CUDA"):
        rank_rerank.maxsim_gpu(torch.from_numpy(query), t_tokens, t_off)
    with pytest.raises(ValueError, match="int64"):
        rank_rerank.maxsim_gpu(t_query, t_tokens, t_off.int())
