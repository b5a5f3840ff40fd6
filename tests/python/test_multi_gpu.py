"""Multi-GPU from Python: device lists (parsed and refused the same way everywhere), and on a CUDA
host the encoders, the Reranker and the sharded document set over ["cuda:0", "cuda:0"] (two
replicas on one GPU) equal one device bit for bit. GPU cases skip with the reason when CUDA is
not usable."""
import pathlib

import numpy as np
import pytest

import rank_rerank as rr

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "models"
STATUS = rr.cuda_status()
needs_cuda = pytest.mark.skipif(
    not (STATUS["compiled"] and STATUS["device_count"] > 0),
    reason=f"no usable CUDA device: {STATUS['reason']}",
)
WORDS = "the cat sat on mat paris capital france river bank bread flour water dog blue !".split()


def many_texts(n, seed):
    """1 to 30 words each: well over 2 x 4096 tokens in all, so two replicas share the work."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(1, 31))) for _ in range(n)]


def test_parse_devices_accepts_lists_and_strings():
    assert rr.parse_devices("cuda:0,cuda:1") == ["cuda:0", "cuda:1"]
    assert rr.parse_devices(["cuda:1", " cuda:0 "]) == ["cuda:1", "cuda:0"]
    assert rr.parse_devices(("cuda:0", "cuda:0")) == ["cuda:0", "cuda:0"]
    assert rr.parse_devices("cpu") == ["cpu"]


def test_bad_device_lists_raise_value_errors():
    for bad, match in [("", "empty"), ("cuda:0,,cuda:1", "empty"), (["cuda:all", "cuda:0"], "only"),
                       ("cuda:0,cpu", "CUDA devices only"), ("cuda:0,tpu", "'tpu'"), ([], "empty")]:
        with pytest.raises(ValueError, match=match):
            rr.parse_devices(bad)
    with pytest.raises(TypeError, match="devices: expected a string"):
        rr.parse_devices(3)
    with pytest.raises(TypeError, match="devices: expected a string"):
        rr.ColBERT(str(FIXTURES / "colbert_tiny_pylate"), devices=0)


def test_cuda_all_is_every_gpu_or_says_why_not():
    if STATUS["compiled"] and STATUS["device_count"] > 0:
        assert rr.parse_devices("cuda:all") == [f"cuda:{i}" for i in range(STATUS["device_count"])]
    else:
        with pytest.raises(RuntimeError):
            rr.parse_devices("cuda:all")


def test_device_and_devices_together_is_an_error():
    path = str(FIXTURES / "cross_tiny_1")
    with pytest.raises(ValueError, match="either device or devices"):
        rr.CrossEncoder(path, device="cpu", devices=["cuda:0", "cuda:1"])
    with pytest.raises(ValueError, match="either device or devices"):
        rr.Reranker(path, device="cpu", devices="cuda:0,cuda:1")
    with pytest.raises(ValueError, match="CUDA devices only"):
        rr.SentenceEncoder(path, devices=["cpu", "cpu"])
    model = rr.CrossEncoder(path, devices=["cpu"])
    assert model.devices == ["cpu"]
    assert model.device_memory() == [{"device": "cpu", "bytes_in_use": 0, "bytes_reserved": 0}]


def test_sharded_document_set_argument_errors():
    tokens = np.ones((4, 32), np.float32)
    with pytest.raises(ValueError, match="'cpu'"):
        rr.ShardedGpuDocumentSet(tokens, [0, 2, 4], devices=["cpu"])
    with pytest.raises(ValueError, match="empty"):
        rr.ShardedGpuDocumentSet(tokens, [0, 2, 4], devices=[])


@needs_cuda
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_colbert_over_two_replicas_equals_one_device(dtype):
    path = str(FIXTURES / "colbert_tiny_pylate")
    single = rr.ColBERT(path, device="cuda:0", dtype=dtype)
    multi = rr.ColBERT(path, devices=["cuda:0", "cuda:0"], dtype=dtype)
    assert multi.devices == ["cuda:0", "cuda:0"]
    docs = many_texts(900, 1)
    a_values, a_offsets = single.encode(docs, is_query=False, packed=True)
    b_values, b_offsets = multi.encode(docs, is_query=False, packed=True)
    assert a_offsets[-1] >= 2 * 4096
    np.testing.assert_array_equal(a_offsets, b_offsets)
    assert a_values.tobytes() == b_values.tobytes()
    memory = multi.device_memory()
    assert [m["device"] for m in memory] == ["cuda:0", "cuda:0"]
    # The same parameters on each replica; only the last pass's cached offsets differ (~1 KB).
    assert memory[0]["bytes_in_use"] > 0
    assert abs(memory[0]["bytes_in_use"] - memory[1]["bytes_in_use"]) < 2**20


@needs_cuda
def test_cross_and_sentence_encoders_over_replicas_equal_one_device():
    cross = str(FIXTURES / "cross_tiny_1")
    pairs = list(zip(many_texts(500, 2), many_texts(500, 3)))
    a = rr.CrossEncoder(cross, device="cuda:0").predict(pairs)
    b = rr.CrossEncoder(cross, devices="cuda:0,cuda:0").predict(pairs)
    assert a.tobytes() == b.tobytes()
    sentence = str(FIXTURES / "sentence_tiny_distilbert")
    texts = many_texts(1200, 4)
    a = rr.SentenceEncoder(sentence, device="cuda:0", dtype="bfloat16").encode(texts)
    b = rr.SentenceEncoder(sentence, devices=["cuda:0"] * 3, dtype="bfloat16").encode(texts)
    assert a.tobytes() == b.tobytes()


@needs_cuda
def test_reranker_over_replicas_equals_one_device():
    path = str(FIXTURES / "colbert_tiny_pylate")
    single = rr.Reranker(path, device="cuda:0")
    multi = rr.Reranker(path, devices=["cuda:0", "cuda:0"])
    assert multi.device == "cuda:0,cuda:0"
    docs = many_texts(900, 5)
    assert single.score("the cat", docs).tobytes() == multi.score("the cat", docs).tobytes()


@needs_cuda
def test_a_missing_gpu_in_the_list_is_a_clear_error():
    missing = f"cuda:{STATUS['device_count']}"
    with pytest.raises(RuntimeError, match=f"{missing} does not exist"):
        rr.ColBERT(str(FIXTURES / "colbert_tiny_pylate"), devices=["cuda:0", missing])


@needs_cuda
def test_sharded_document_set_equals_one_set():
    rng = np.random.default_rng(6)
    lengths = rng.integers(0, 60, size=2000)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = rng.standard_normal((offsets[-1], 128)).astype(np.float16)
    queries = rng.standard_normal((20, 128)).astype(np.float32)
    one = rr.GpuDocumentSet(tokens, offsets)
    sharded = rr.ShardedGpuDocumentSet(tokens, offsets, devices=["cuda:0", "cuda:0"],
                                       min_shard_bytes=0)
    assert sharded.devices == ["cuda:0", "cuda:0"]
    assert sharded.shard_offsets[0] == 0 and sharded.shard_offsets[-1] == 2000
    assert len(sharded.device_memory()) == 2
    assert one.score(queries).tobytes() == sharded.score(queries).tobytes()
    q_offsets = np.array([0, 5, 20], np.int64)
    for k in (1, 10, 2000):
        i1, s1 = one.top_k(queries, k, q_offsets)
        i2, s2 = sharded.top_k(queries, k, q_offsets)
        np.testing.assert_array_equal(i1, i2)
        assert s1.tobytes() == s2.tobytes()
