"""ColbertEncoder against PyLate (scripts/make_model_fixtures.py): the PyLate layout with one
Dense module and with a Dense chain (biases, GELU / Tanh, residuals), and the Stanford layout;
bad checkpoints and inputs."""
import json
import pathlib
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file

import rank_rerank as rr

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "models"
TEXTS = json.loads((FIXTURES / "colbert_texts.json").read_text())
LAYOUTS = {"pylate": (20, 12, 24), "chain": (24, 12, 24), "stanford": (16, 10, 20)}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_queries_and_documents_match_pylate(layout):
    enc = rr.ColbertEncoder(str(FIXTURES / f"colbert_tiny_{layout}"), batch_size=4)
    assert (enc.dimension, enc.query_length, enc.document_length) == LAYOUTS[layout]
    ref = load_file(str(FIXTURES / f"colbert_tiny_{layout}_reference.safetensors"))
    for kind, is_query in (("query", True), ("document", False)):
        texts = TEXTS["queries" if is_query else "documents"]
        values, offsets = enc.encode(texts, is_query=is_query, packed=True)
        np.testing.assert_array_equal(offsets, ref[f"{kind}_offsets"])
        want = ref[f"{kind}_embeddings"]
        err = np.abs(values - want).max(axis=1) / np.abs(want).max(axis=1)
        assert err.max() <= 1e-4, (kind, err.max())
        np.testing.assert_allclose(np.linalg.norm(values, axis=1), 1.0, rtol=1e-5)
        per_text = enc.encode(texts, is_query=is_query)
        assert len(per_text) == len(texts)
        for i, m in enumerate(per_text):
            np.testing.assert_array_equal(m, values[offsets[i] : offsets[i + 1]])
    # Every query has exactly query_length vectors (expansion), whatever its length.
    assert set(np.diff(enc.encode(TEXTS["queries"], packed=True)[1])) == {enc.query_length}
    # is_query defaults to True, as in PyLate.
    assert len(enc.encode(["cat"])[0]) == enc.query_length


def test_length_overrides_and_empty_input():
    enc = rr.ColbertEncoder(str(FIXTURES / "colbert_tiny_pylate"), query_length=6, document_length=8)
    values, offsets = enc.encode(TEXTS["documents"], is_query=False, packed=True)
    assert np.diff(offsets).max() <= 8
    assert set(np.diff(enc.encode(TEXTS["queries"], packed=True)[1])) == {6}
    values, offsets = enc.encode([], packed=True)
    assert values.shape == (0, 20) and offsets.tolist() == [0]


def _copy(tmp_path, layout):
    target = tmp_path / layout
    shutil.copytree(FIXTURES / f"colbert_tiny_{layout}", target)
    return target


def test_bad_checkpoints(tmp_path):
    plain = _copy(tmp_path, "stanford")
    cfg = json.loads((plain / "config.json").read_text())
    cfg["architectures"] = ["BertModel"]
    (plain / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(RuntimeError, match="HF_ColBERT"):
        rr.ColbertEncoder(str(plain))

    pooled = _copy(tmp_path, "pylate")
    modules = json.loads((pooled / "modules.json").read_text())
    modules.append({"idx": 2, "name": "2", "path": "2_Pooling", "type": "sentence_transformers.models.Pooling"})
    (pooled / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(RuntimeError, match="Pooling"):
        rr.ColbertEncoder(str(pooled))

    broken = _copy(tmp_path, "chain")
    dense = json.loads((broken / "2_Dense" / "config.json").read_text())
    dense["activation_function"] = "torch.nn.modules.activation.Softsign"
    (broken / "2_Dense" / "config.json").write_text(json.dumps(dense))
    with pytest.raises(RuntimeError, match="Softsign"):
        rr.ColbertEncoder(str(broken))
    dense["activation_function"] = "torch.nn.modules.activation.Tanh"
    dense["in_features"] = 30
    (broken / "2_Dense" / "config.json").write_text(json.dumps(dense))
    with pytest.raises(ValueError, match="linear.weight"):
        rr.ColbertEncoder(str(broken))

    marker = _copy(tmp_path / "m", "pylate")
    st = json.loads((marker / "config_sentence_transformers.json").read_text())
    st["query_prefix"] = "[NOPE]"
    (marker / "config_sentence_transformers.json").write_text(json.dumps(st))
    with pytest.raises(ValueError, match=r"\[NOPE\]"):
        rr.ColbertEncoder(str(marker))

    with pytest.raises(ValueError, match="lengths"):
        rr.ColbertEncoder(str(FIXTURES / "colbert_tiny_pylate"), query_length=1000)
    with pytest.raises(ValueError, match="batch_size"):
        rr.ColbertEncoder(str(FIXTURES / "colbert_tiny_pylate"), batch_size=0)
    with pytest.raises(TypeError):
        rr.ColbertEncoder(str(FIXTURES / "colbert_tiny_pylate")).encode([None])
