"""RoBERTa / XLM-R / ELECTRA / DistilBERT through the Python API against the references of
scripts/make_arch_fixtures.py (transformers, sentence-transformers, PyLate): CrossEncoder.predict
and .rank, ColBERT.from_pretrained(...).encode, CandleEncoder, SentenceEncoder; token-budget
batching and bad input."""
import json
import pathlib
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file

import rank_rerank as rr

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "models"
PAIRS = [tuple(p) for p in json.loads((FIXTURES / "cross_pairs.json").read_text())]
COLBERT_TEXTS = json.loads((FIXTURES / "colbert_texts.json").read_text())
TEXTS = json.loads((FIXTURES / "minilm_texts.json").read_text())[:18]
LABELS = {"roberta": 1, "xlmr": 3, "electra": 1, "distilbert": 2}


def reference(name):
    return load_file(str(FIXTURES / f"{name}_reference.safetensors"))


@pytest.mark.parametrize("family", sorted(LABELS))
def test_cross_encoder_scores_match_sentence_transformers(family):
    ce = rr.CrossEncoder(str(FIXTURES / f"cross_tiny_{family}"), batch_size=4, max_batch_tokens=50)
    assert ce.num_labels == LABELS[family] and ce.max_length == 24
    want = reference(f"cross_tiny_{family}")["scores"]
    got = ce.predict(PAIRS).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("family", ["roberta", "electra"])
def test_rank_orders_like_sentence_transformers(family):
    ce = rr.CrossEncoder(str(FIXTURES / f"cross_tiny_{family}"), num_threads=1)
    scores = reference(f"cross_tiny_{family}")["scores"].ravel()
    docs = 6  # cross_pairs.json: 3 queries x 6 documents
    for q in range(len(PAIRS) // docs):
        query = PAIRS[q * docs][0]
        documents = [PAIRS[q * docs + d][1] for d in range(docs)]
        # sentence-transformers: sorted(results, key=score, reverse=True)[:top_k] (stable).
        want = sorted(range(docs), key=lambda d: scores[q * docs + d], reverse=True)
        ranked = ce.rank(query, documents, return_documents=True)
        assert [r["corpus_id"] for r in ranked] == want
        for r in ranked:
            assert r["text"] == documents[r["corpus_id"]]
            assert r["score"] == pytest.approx(scores[q * docs + r["corpus_id"]], rel=1e-4)
        top = ce.rank(query, documents, top_k=2)
        assert [r["corpus_id"] for r in top] == want[:2] and set(top[0]) == {"corpus_id", "score"}
        assert ce.rank(query, []) == []


def test_rank_needs_one_label():
    ce = rr.CrossEncoder(str(FIXTURES / "cross_tiny_xlmr"))
    with pytest.raises(ValueError, match="3 labels"):
        ce.rank("q", ["a", "b"])


def test_colbert_from_pretrained_matches_pylate_over_roberta():
    assert rr.ColBERT is rr.ColbertEncoder
    model = rr.ColBERT.from_pretrained(str(FIXTURES / "colbert_tiny_roberta"), batch_size=2,
                                       max_batch_tokens=30)
    want = reference("colbert_tiny_roberta")
    for kind, is_query in (("query", True), ("document", False)):
        texts = COLBERT_TEXTS["queries" if is_query else "documents"]
        got = model.encode(texts, is_query=is_query)
        offsets = want[f"{kind}_offsets"]
        assert [len(g) for g in got] == list(np.diff(offsets))
        np.testing.assert_allclose(np.concatenate(got), want[f"{kind}_embeddings"], atol=1e-5)
        single = model.encode(texts[0], is_query=is_query)
        np.testing.assert_allclose(single, got[0], atol=1e-6)


def test_candle_encoder_is_a_thin_alias_of_colbert():
    path = str(FIXTURES / "colbert_tiny_roberta")
    candle = rr.CandleEncoder.from_huggingface(path, device="cpu")
    colbert = rr.ColBERT.from_pretrained(path, device="cpu")
    query = candle.encode("what is the capital of france?")
    np.testing.assert_array_equal(query, colbert.encode("what is the capital of france?"))
    docs = candle.encode_batch(["paris is the capital of france.", ""])
    for got, want in zip(docs, colbert.encode(["paris is the capital of france.", ""],
                                              is_query=False)):
        np.testing.assert_array_equal(got, want)
    assert candle.dimension == 16
    with pytest.raises(ValueError, match="bogus"):
        rr.CandleEncoder.from_huggingface(path, device="bogus")
    with pytest.raises(ValueError, match="bogus"):
        candle.encode("q", device="bogus")


@pytest.mark.parametrize("family", ["xlmr", "distilbert"])
def test_sentence_encoder_matches_sentence_transformers(family):
    model = rr.SentenceEncoder(str(FIXTURES / f"sentence_tiny_{family}"), max_batch_tokens=40)
    want = reference(f"sentence_tiny_{family}")
    np.testing.assert_allclose(model.encode(TEXTS), want["sentence_embeddings"], rtol=1e-4,
                               atol=1e-6)
    _, offsets = model.encode_tokens(TEXTS)
    np.testing.assert_array_equal(offsets, want["token_offsets"])


def test_results_do_not_depend_on_the_token_budget():
    path = str(FIXTURES / "cross_tiny_electra")
    whole = rr.CrossEncoder(path, num_threads=1).predict(PAIRS)
    one_each = rr.CrossEncoder(path, num_threads=1, max_batch_tokens=1, batch_size=1).predict(PAIRS)
    np.testing.assert_allclose(one_each, whole, rtol=1e-6)
    for cls, name in ((rr.CrossEncoder, "cross_tiny_roberta"), (rr.ColBERT, "colbert_tiny_roberta"),
                      (rr.SentenceEncoder, "sentence_tiny_xlmr")):
        with pytest.raises(ValueError, match="max_batch_tokens"):
            cls(str(FIXTURES / name), max_batch_tokens=0)


def _edited(tmp_path, name, edit):
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    config = json.loads((target / "config.json").read_text())
    edit(config)
    (target / "config.json").write_text(json.dumps(config))
    return str(target)


def test_bad_configs_and_checkpoints_say_what_was_expected(tmp_path):
    unknown = _edited(tmp_path, "sentence_tiny_xlmr", lambda c: c.update(model_type="gpt2"))
    with pytest.raises(RuntimeError, match="supported: bert, distilbert, electra, roberta"):
        rr.SentenceEncoder(unknown)
    # A RoBERTa config over DistilBERT tensors: the first missing tensor is named.
    foreign = _edited(tmp_path, "sentence_tiny_distilbert",
                      lambda c: c.update(model_type="roberta", hidden_size=20,
                                         num_attention_heads=2, num_hidden_layers=2,
                                         intermediate_size=28, type_vocab_size=1))
    with pytest.raises(ValueError, match="'embeddings.token_type_embeddings.weight' not found"):
        rr.SentenceEncoder(foreign)
    wider = _edited(tmp_path, "cross_tiny_roberta", lambda c: c.update(intermediate_size=30))
    with pytest.raises(ValueError, match="intermediate.dense.weight"):
        rr.CrossEncoder(wider)
    with pytest.raises(ValueError, match=r"\[2, 34\]"):
        rr.CrossEncoder(str(FIXTURES / "cross_tiny_xlmr"), max_length=35)


def test_empty_strings_are_valid():
    ce = rr.CrossEncoder(str(FIXTURES / "cross_tiny_roberta"))
    assert np.isfinite(ce.predict([("", ""), ("", "x")])).all()
    colbert = rr.ColBERT.from_pretrained(str(FIXTURES / "colbert_tiny_roberta"))
    assert colbert.encode("", is_query=True).shape == (12, 16)
    assert colbert.encode("", is_query=False).shape == (3, 16)
    assert rr.SentenceEncoder(str(FIXTURES / "sentence_tiny_xlmr")).encode([""]).shape == (1, 20)
