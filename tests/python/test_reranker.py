"""rank_rerank.Reranker against the peers' outputs (PyLate ColBERT embeddings, sentence-transformers
cross-encoder scores and all-MiniLM-L6-v2 embeddings from scripts/make_model_fixtures.py) scored
here with NumPy from the definitions; results, statistics, precomputed vectors, bad inputs."""
import json
import pathlib
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file

import rank_rerank as rr
from test_models import MINILM, needs_minilm

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "models"
COLBERT = str(FIXTURES / "colbert_tiny_pylate")
CROSS = str(FIXTURES / "cross_tiny_1")


def maxsim(q, d, cosine=False):
    q = q.astype(np.float64)
    d = d.astype(np.float64)
    if len(d) == 0:
        return 0.0
    if cosine:
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        d = d / np.linalg.norm(d, axis=1, keepdims=True)
    return float((q @ d.T).max(axis=1).sum())


def split(values, offsets):
    return [values[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]


def expect_ranking(result, want, tol=1e-4):
    want = np.asarray(want)
    assert sorted(h["index"] for h in result) == list(range(len(want)))
    for h in result:
        assert h["score"] == pytest.approx(want[h["index"]], rel=tol, abs=tol)
    scores = [h["score"] for h in result]
    assert scores == sorted(scores, reverse=True)
    order = np.argsort(-want, kind="stable")
    for rank, h in enumerate(result):
        if abs(want[order[rank]] - want[h["index"]]) > 1e-6:
            assert h["index"] == order[rank]


@pytest.fixture(scope="module")
def colbert():
    return rr.Reranker(COLBERT, max_batch_tokens=40)


@pytest.fixture(scope="module")
def texts():
    return json.loads((FIXTURES / "colbert_texts.json").read_text())


def test_colbert_matches_numpy_maxsim_over_pylate_embeddings(colbert, texts):
    ref = load_file(str(FIXTURES / "colbert_tiny_pylate_reference.safetensors"))
    queries = split(ref["query_embeddings"], ref["query_offsets"])
    docs = split(ref["document_embeddings"], ref["document_offsets"])
    assert colbert.kind == "colbert"
    assert colbert.device == rr.resolve_device("auto")  # the GPU when one is usable
    for qi, query in enumerate(texts["queries"]):
        result = colbert.rerank(query, texts["documents"])
        expect_ranking(result, [maxsim(queries[qi], d) for d in docs])


def test_result_is_a_sequence_of_dicts_with_stats(colbert, texts):
    docs = texts["documents"]
    result = colbert.rerank("cat on mat", docs, top_k=3, return_documents=True)
    assert len(result) == 3
    assert result[0] == list(result)[0] == result[-3]
    assert set(result[0]) == {"index", "score", "text"}
    assert result[1]["text"] == docs[result[1]["index"]]
    assert result == result.to_list()
    with pytest.raises(IndexError):
        result[3]
    stats = result.stats
    assert stats.queries == 1 and stats.texts == 1 + len(docs)
    assert sum(stats.batch_texts) == stats.texts
    assert sum(stats.batch_tokens) == stats.tokens
    assert max(t for t, n in zip(stats.batch_tokens, stats.batch_texts) if n > 1) <= 40
    assert stats.device == rr.resolve_device("auto")
    assert stats.total_ms >= stats.encode_ms > 0
    assert stats.tokens_per_second > 0
    assert json.loads(stats.to_json())["tokens"] == stats.tokens
    assert stats.as_dict()["batch_texts"] == stats.batch_texts
    assert rr.last_stats().tokens == stats.tokens


def test_rerank_many_equals_one_query_at_a_time(colbert, texts):
    queries = texts["queries"]
    lists = [texts["documents"][i % 3:] for i in range(len(queries))]
    lists[2] = []
    many = colbert.rerank_many(queries, lists, top_k=2)
    assert len(many) == len(queries) and len(many[2]) == 0
    assert many[0].stats.queries == len(queries)
    for q, docs, got in zip(queries, lists, many):
        one = colbert.rerank(q, docs, top_k=2)
        assert [h["index"] for h in got] == [h["index"] for h in one]
        np.testing.assert_allclose([h["score"] for h in got], [h["score"] for h in one], rtol=1e-5)
    scores = colbert.score(queries[0], texts["documents"])
    assert scores.dtype == np.float32
    for h in colbert.rerank(queries[0], texts["documents"]):
        assert scores[h["index"]] == h["score"]


def test_cross_encoder_matches_sentence_transformers():
    pairs = json.loads((FIXTURES / "cross_pairs.json").read_text())
    want = load_file(str(FIXTURES / "cross_tiny_1_reference.safetensors"))["scores"][:, 0]
    reranker = rr.Reranker(CROSS, max_batch_tokens=64)
    assert reranker.kind == "cross_encoder"
    queries = list(dict.fromkeys(q for q, _ in pairs))
    for q in queries:
        idx = [i for i, (pq, _) in enumerate(pairs) if pq == q]
        expect_ranking(reranker.rerank(q, [pairs[i][1] for i in idx]), want[idx])
    with pytest.raises(RuntimeError, match="cross-encoder"):
        reranker.encode_documents(["a"])


@needs_minilm
def test_minilm_dense_and_token_maxsim_match_sentence_transformers():
    texts = json.loads((FIXTURES / "minilm_texts.json").read_text())
    ref = load_file(str(FIXTURES / "minilm_reference.safetensors"))
    sentences = ref["sentence_embeddings"].astype(np.float64)
    dense = rr.Reranker(str(MINILM), max_batch_tokens=128)
    assert dense.kind == "dense" and dense.model["dim"] == 384
    cos = sentences[1:] @ sentences[0] / (
        np.linalg.norm(sentences[1:], axis=1) * np.linalg.norm(sentences[0]))
    expect_ranking(dense.rerank(texts[0], texts[1:]), cos)
    late = rr.Reranker(str(MINILM), kind="dense_maxsim")
    tokens = split(ref["token_embeddings"], ref["token_offsets"])
    expect_ranking(late.rerank(texts[0], texts[1:]),
                   [maxsim(tokens[0], t, cosine=True) for t in tokens[1:]])


def test_detect_model_kind():
    assert rr.detect_model_kind(COLBERT) == "colbert"
    assert rr.detect_model_kind(str(FIXTURES / "colbert_tiny_stanford")) == "colbert"
    assert rr.detect_model_kind(CROSS) == "cross_encoder"
    assert rr.detect_model_kind(str(FIXTURES / "bert_tiny_gelu")) == "dense"


def test_saved_vectors_score_like_the_texts(colbert, texts, tmp_path):
    docs = texts["documents"]
    ids = [f"doc{i}" for i in range(len(docs))]
    direct = colbert.score("cat on mat", docs)
    for dtype, tol in (("float32", 1e-5), ("float16", 2e-2), ("bfloat16", 5e-2)):
        path = tmp_path / f"{dtype}.rrv"
        stats = colbert.save_vectors(path, docs, ids, dtype=dtype)
        assert stats.texts == len(docs)
        vectors = rr.DocumentVectors(path)
        assert len(vectors) == len(docs) and vectors.dtype == dtype
        assert vectors.ids() == ids and "doc3" in vectors and "nope" not in vectors
        assert vectors.model["fingerprint"] == colbert.model["fingerprint"]
        values, offsets = colbert.encode_documents(docs)
        np.testing.assert_allclose(vectors.vectors("doc1"), values[offsets[1]:offsets[2]], atol=tol)
        candidates = ["doc5", "doc0", "doc1"]
        result = colbert.rerank_vectors("cat on mat", vectors, candidates)
        assert result.stats.texts == 1
        for h in result:
            assert h["score"] == pytest.approx(direct[int(candidates[h["index"]][3:])], abs=tol)
        with pytest.raises(ValueError, match="'missing'"):
            colbert.rerank_vectors("q", vectors, ["doc1", "missing"])
        with pytest.raises(ValueError, match="'missing'"):
            vectors.vectors("missing")


def test_vectors_of_another_model_are_refused(colbert, tmp_path):
    colbert.save_vectors(tmp_path / "v.rrv", ["a b", "c"], ["x", "y"])
    vectors = rr.DocumentVectors(tmp_path / "v.rrv")
    chain = rr.Reranker(str(FIXTURES / "colbert_tiny_chain"))
    with pytest.raises(ValueError, match="fingerprint differs"):
        chain.rerank_vectors("q", vectors, ["x"])
    shorter = rr.Reranker(COLBERT, max_length=16)
    with pytest.raises(ValueError, match="max_length differs"):
        shorter.rerank_vectors("q", vectors, ["x"])
    copy = tmp_path / "copy"
    shutil.copytree(COLBERT, copy)
    assert len(rr.Reranker(str(copy)).rerank_vectors("q", vectors, ["x", "y"])) == 2


def test_bad_vector_files(tmp_path, colbert):
    path = tmp_path / "v.rrv"
    colbert.save_vectors(path, ["a b", "c"], ["x", "y"])
    data = path.read_bytes()
    (tmp_path / "cut.rrv").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.rrv"):
        rr.DocumentVectors(tmp_path / "cut.rrv")
    (tmp_path / "text.rrv").write_bytes(b"not a vectors file")
    with pytest.raises(ValueError):
        rr.DocumentVectors(tmp_path / "text.rrv")
    with pytest.raises(RuntimeError):
        rr.DocumentVectors(tmp_path / "absent.rrv")
    with pytest.raises(ValueError, match="more than once"):
        colbert.save_vectors(tmp_path / "dup.rrv", ["a", "b"], ["x", "x"])
    with pytest.raises(ValueError, match="1 ids for 2 documents"):
        colbert.save_vectors(tmp_path / "n.rrv", ["a", "b"], ["x"])
    with pytest.raises(ValueError, match="storage"):
        colbert.save_vectors(tmp_path / "n.rrv", ["a"], ["x"], dtype="int8")


def test_bad_arguments(colbert):
    with pytest.raises(ValueError, match="top_k"):
        colbert.rerank("q", ["a"], top_k=0)
    assert len(colbert.rerank("q", [])) == 0
    assert len(colbert.rerank("q", ["a", "b"], top_k=9)) == 2
    assert len(colbert.rerank("", ["", "a"])) == 2  # empty texts are valid
    with pytest.raises(TypeError):
        colbert.rerank("q", "not a list")
    with pytest.raises(TypeError):
        colbert.rerank("q", [1, 2])
    with pytest.raises(ValueError, match="1 queries but 2"):
        colbert.rerank_many(["q"], [["a"], ["b"]])
    with pytest.raises(ValueError, match="kind"):
        rr.Reranker(COLBERT, kind="splade")
    with pytest.raises(ValueError, match="tpu"):
        rr.Reranker(COLBERT, device="tpu")
    with pytest.raises(ValueError, match="int4"):
        rr.Reranker(COLBERT, dtype="int4")
    with pytest.raises(RuntimeError, match="CUDA"):
        rr.Reranker(COLBERT, device="cpu", dtype="float16")
    with pytest.raises(ValueError, match="max_batch_tokens"):
        rr.Reranker(COLBERT, max_batch_tokens=0)
    with pytest.raises(ValueError, match="query_length"):
        rr.Reranker(CROSS, query_length=8)
    with pytest.raises(RuntimeError, match="3 labels"):
        rr.Reranker(str(FIXTURES / "cross_tiny_3"))
    with pytest.raises((RuntimeError, ValueError)):
        rr.Reranker(str(FIXTURES / "no_such_model"), offline=True)
