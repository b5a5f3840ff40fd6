"""CrossEncoder against sentence-transformers' CrossEncoder.predict (scripts/make_model_fixtures.py):
one label (Sigmoid stored in config.json) and three labels (Identity), pairs truncated
longest-first to model_max_length 24; activation resolution and bad input."""
import json
import pathlib
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file

import rank_rerank as rr

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "models"
PAIRS = [tuple(p) for p in json.loads((FIXTURES / "cross_pairs.json").read_text())]


def reference(labels):
    return load_file(str(FIXTURES / f"cross_tiny_{labels}_reference.safetensors"))["scores"]


@pytest.mark.parametrize("labels", [1, 3])
def test_scores_match_sentence_transformers(labels):
    ce = rr.CrossEncoder(str(FIXTURES / f"cross_tiny_{labels}"), batch_size=4)
    assert ce.num_labels == labels and ce.max_length == 24
    assert ce.activation == ("sigmoid" if labels == 1 else "identity")
    got = ce.predict(PAIRS)
    want = reference(labels)
    assert got.shape == ((len(PAIRS),) if labels == 1 else (len(PAIRS), labels))
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-4, atol=1e-6)
    soft = ce.predict(PAIRS, apply_softmax=True).reshape(want.shape)
    e = np.exp(want - want.max(axis=1, keepdims=True))
    np.testing.assert_allclose(soft, e / e.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-6)
    assert ce.predict([]).shape[0] == 0


def _with_config(tmp_path, labels, edit):
    target = tmp_path / f"cross_{labels}"
    shutil.copytree(FIXTURES / f"cross_tiny_{labels}", target)
    cfg = json.loads((target / "config.json").read_text())
    edit(cfg)
    (target / "config.json").write_text(json.dumps(cfg))
    return str(target)


def test_activation_resolution_follows_sentence_transformers(tmp_path):
    want = reference(3)
    # No stored activation: Identity for several labels (and Sigmoid for one).
    ce = rr.CrossEncoder(_with_config(tmp_path / "a", 3, lambda c: c.pop("sentence_transformers")))
    assert ce.activation == "identity"
    ce1 = rr.CrossEncoder(_with_config(tmp_path / "b", 1, lambda c: c.pop("sentence_transformers")))
    assert ce1.activation == "sigmoid"

    def legacy(c):
        c.pop("sentence_transformers")
        c["sbert_ce_default_activation_function"] = "torch.nn.modules.activation.Sigmoid"

    ce = rr.CrossEncoder(_with_config(tmp_path / "c", 3, legacy))
    assert ce.activation == "sigmoid"
    np.testing.assert_allclose(ce.predict(PAIRS), 1 / (1 + np.exp(-want)), rtol=1e-4, atol=1e-6)
    with pytest.raises(RuntimeError, match="my.module.Act"):
        rr.CrossEncoder(
            _with_config(tmp_path / "d", 3, lambda c: c["sentence_transformers"].update(activation_fn="my.module.Act"))
        )


def test_bad_input():
    with pytest.raises(RuntimeError, match="classifier.weight"):
        rr.CrossEncoder(str(FIXTURES / "bert_tiny_gelu"))
    with pytest.raises(ValueError, match="max_length"):
        rr.CrossEncoder(str(FIXTURES / "cross_tiny_1"), max_length=1000)
    ce = rr.CrossEncoder(str(FIXTURES / "cross_tiny_1"), max_length=8)
    assert ce.max_length == 8 and ce.predict([("", "")]).shape == (1,)
    with pytest.raises(TypeError):
        ce.predict([("only one",)])
