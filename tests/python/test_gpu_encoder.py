"""Encoders' device / dtype options: bad values raise clear errors everywhere; on a CUDA device
the fixture models match their sentence-transformers / PyLate references in float32 (1e-4),
float16 and bfloat16 (1e-2). GPU cases skip with the reason when CUDA is not usable."""
import json
import pathlib

import numpy as np
import pytest
from safetensors.numpy import load_file

import rank_rerank as rr

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "models"
STATUS = rr.cuda_status()
needs_cuda = pytest.mark.skipif(
    not (STATUS["compiled"] and STATUS["device_count"] > 0),
    reason=f"no usable CUDA device: {STATUS['reason']}",
)
DTYPES = ["float32", "float16", "bfloat16"]


def tolerance(dtype):
    # bf16 keeps 8 mantissa bits: the tiny random fixtures land up to 1.7e-2 (H100).
    return {"float32": 1e-4, "float16": 1e-2, "bfloat16": 2e-2}[dtype]


def test_bad_device_and_dtype_raise():
    path = str(FIXTURES / "cross_tiny_1")
    with pytest.raises(ValueError, match="float32, float16 or bfloat16"):
        rr.CrossEncoder(path, dtype="int8")
    with pytest.raises(ValueError, match="cuda:N"):
        rr.CrossEncoder(path, device="tpu")
    with pytest.raises(RuntimeError, match="float32 or bfloat16; float16 needs a CUDA device"):
        rr.CrossEncoder(path, device="cpu", dtype="float16")
    with pytest.raises(RuntimeError):
        rr.SentenceEncoder(path, device="cuda:99")
    # Automatic selection never fails: on the CPU fallback float16 becomes float32 (bfloat16 is
    # computed on the CPU too: tests/python/test_cpu_bf16.py).
    for dtype in ("float16", "bfloat16"):
        assert rr.CrossEncoder(path, dtype=dtype).predict([("a", "b")]).shape == (1,)


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("labels", [1, 3])
def test_cross_encoder_on_gpu(dtype, labels):
    pairs = [tuple(p) for p in json.loads((FIXTURES / "cross_pairs.json").read_text())]
    ce = rr.CrossEncoder(str(FIXTURES / f"cross_tiny_{labels}"), device="cuda", dtype=dtype)
    want = load_file(str(FIXTURES / f"cross_tiny_{labels}_reference.safetensors"))["scores"]
    got = ce.predict(pairs).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=tolerance(dtype), atol=tolerance(dtype))


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["colbert_tiny_pylate", "colbert_tiny_chain", "colbert_tiny_stanford"])
def test_colbert_on_gpu(dtype, name):
    texts = json.loads((FIXTURES / "colbert_texts.json").read_text())
    ref = load_file(str(FIXTURES / f"{name}_reference.safetensors"))
    enc = rr.ColbertEncoder(str(FIXTURES / name), device="cuda:0", dtype=dtype, batch_size=3)
    for kind, key in (("query", "queries"), ("document", "documents")):
        values, offsets = enc.encode(texts[key], is_query=kind == "query", packed=True)
        np.testing.assert_array_equal(offsets, ref[f"{kind}_offsets"])
        # Unit vectors: absolute error is relative to the norm.
        assert np.max(np.abs(values - ref[f"{kind}_embeddings"])) <= tolerance(dtype)
