#!/usr/bin/env python3
"""Reference outputs for the RoBERTa / XLM-RoBERTa / ELECTRA / DistilBERT model tests.

Runs in the same throwaway venv as make_model_fixtures.py (torch, transformers,
sentence-transformers, PyLate; see its docstring):

    /tmp/refenv/bin/python scripts/make_arch_fixtures.py

Tokenizers are cut down from tests/fixtures/tokenizers so the embedding tables stay small:
  - RoBERTa: bpe_byte_level.json keeping its first BPE_MERGES merges (the vocabulary of a
    byte-level BPE is the specials, the 256-byte alphabet, then one token per merge in order);
  - XLM-R: unigram_precompiled.json keeping its first UNIGRAM_PIECES pieces, with the
    Precompiled normalizer (320 KB of charsmap) replaced by NFKC;
  - ELECTRA / DistilBERT: the tiny WordPiece vocabulary of make_model_fixtures.py.

Writes into tests/fixtures/models/ (random weights, hidden 20, 2 heads, 2 layers, odd sizes):
  cross_tiny_<arch>/     <Arch>ForSequenceClassification saved by sentence-transformers'
                         CrossEncoder (roberta: 1 label, xlmr: 3, electra (embedding_size 12):
                         1, distilbert: 2)
  cross_tiny_<arch>_reference.safetensors   CrossEncoder.predict scores of cross_pairs.json,
                         and the base model's last_hidden_state for random packed ids
  colbert_tiny_roberta/  a PyLate ColBERT over RobertaModel (+ its _reference.safetensors)
  sentence_tiny_<arch>/  sentence-transformers models: xlmr (mean + Normalize), distilbert (cls)
  sentence_tiny_<arch>_reference.safetensors   token ids and SentenceTransformer.encode output
"""
import json
import pathlib
import sys
import tempfile

import numpy as np
import torch
from safetensors.numpy import save_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_model_fixtures import (  # noqa: E402
    COLBERT_DOCUMENTS,
    COLBERT_QUERIES,
    OUT,
    ROOT,
    TEXTS,
    make_tiny_tokenizer,
)

TOKENIZERS = ROOT / "tests" / "fixtures" / "tokenizers"
BPE_MERGES = 200
UNIGRAM_PIECES = 400
SIZES = dict(hidden_size=20, num_attention_heads=2, num_hidden_layers=2, intermediate_size=28,
             initializer_range=0.2)


def small_bpe():
    data = json.loads((TOKENIZERS / "bpe_byte_level.json").read_text())
    model = data["model"]
    first_merge = len(data["added_tokens"]) + 256
    keep = first_merge + BPE_MERGES
    vocab = {t: i for t, i in model["vocab"].items() if i < keep}
    merges = model["merges"][:BPE_MERGES]
    for rank, (a, b) in enumerate(merges):  # the layout this cut relies on
        assert model["vocab"][a + b] == first_merge + rank, (a, b, rank)
    model["vocab"], model["merges"] = vocab, merges
    return data


def small_unigram():
    data = json.loads((TOKENIZERS / "unigram_precompiled.json").read_text())
    data["model"]["vocab"] = data["model"]["vocab"][:UNIGRAM_PIECES]
    steps = data["normalizer"]["normalizers"]
    assert steps[0]["type"] == "Precompiled", steps[0]["type"]
    steps[0] = {"type": "NFKC"}
    # XLM-R's tokenizer has a mask token at the end of its vocabulary.
    data["model"]["vocab"].append(["<mask>", 0.0])
    data["added_tokens"].append({"id": UNIGRAM_PIECES, "content": "<mask>", "single_word": False,
                                 "lstrip": True, "rstrip": False, "normalized": False,
                                 "special": True})
    return data


def save_tokenizer(data, target, max_length, **special):
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    target.mkdir(parents=True, exist_ok=True)
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(data)),
                                  model_max_length=max_length, **special)
    # These models take no token types, as the transformers RoBERTa tokenizers return none.
    tok.model_input_names = ["input_ids", "attention_mask"]
    tok.save_pretrained(str(target))
    return len(tok)


ROBERTA_SPECIAL = dict(bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
                       unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")


def packed_ids(rng, vocab, lengths, avoid=None):
    ids = []
    for n in lengths:
        row = rng.integers(0, vocab, size=n)
        if avoid is not None:  # transformers gives a pad id the pad position, not the next one
            row[row == avoid] = (avoid + 1) % vocab
        ids.append(row)
    return ids


def base_reference(base, vocab, max_len, seed, pad=None, types=False):
    """The base model's last hidden state for random sequences, one at a time (no padding)."""
    rng = np.random.default_rng(seed)
    lengths = [1, 7, max_len, 13, 3]
    ids = packed_ids(rng, vocab, lengths, avoid=pad)
    type_ids = [rng.integers(0, 2, size=n) if types else np.zeros(n, np.int64) for n in lengths]
    outputs = []
    with torch.no_grad():
        for i, t in zip(ids, type_ids):
            kwargs = {"input_ids": torch.tensor(i)[None]}
            if types:
                kwargs["token_type_ids"] = torch.tensor(t)[None]
            outputs.append(base(**kwargs).last_hidden_state[0].numpy())
    return {
        "input_ids": np.concatenate(ids).astype(np.int64),
        "token_type_ids": np.concatenate(type_ids).astype(np.int64),
        "offsets": np.cumsum([0] + lengths).astype(np.int64),
        "last_hidden_state": np.concatenate(outputs).astype(np.float32),
    }


def perturb_norms(model):
    """Non-trivial LayerNorm parameters, so a swapped gamma / beta cannot go unnoticed."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name:
                p.add_(0.3 * torch.randn_like(p))


def make_cross(name, build, tokenizer_dir, seed, pairs, base_kwargs):
    from sentence_transformers import CrossEncoder

    torch.manual_seed(seed)
    model = build()
    perturb_norms(model)
    model.eval()
    target = OUT / f"cross_tiny_{name}"
    model.save_pretrained(str(target))
    for f in tokenizer_dir.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens", "vocab")):
            (target / f.name).write_bytes(f.read_bytes())
    ce = CrossEncoder(str(target), device="cpu")
    ce.save(str(target))  # records the activation in config.json
    (target / "README.md").unlink(missing_ok=True)
    scores = CrossEncoder(str(target), device="cpu").predict(pairs, batch_size=4)
    labels = model.config.num_labels
    reference = base_reference(model.base_model, model.config.vocab_size, **base_kwargs,
                               seed=seed)
    reference["scores"] = np.asarray(scores, dtype=np.float32).reshape(len(pairs), labels)
    save_file(reference, str(OUT / f"cross_tiny_{name}_reference.safetensors"))
    print("cross", name, reference["scores"].ravel()[:4])


def make_cross_encoders(work):
    from transformers import (DistilBertConfig, DistilBertForSequenceClassification,
                              ElectraConfig, ElectraForSequenceClassification, RobertaConfig,
                              RobertaForSequenceClassification, XLMRobertaConfig,
                              XLMRobertaForSequenceClassification)

    pairs = [tuple(p) for p in json.loads((OUT / "cross_pairs.json").read_text())]
    roberta_tok = work / "roberta_tok"
    roberta_vocab = save_tokenizer(small_bpe(), roberta_tok, 24, **ROBERTA_SPECIAL)
    xlmr_tok = work / "xlmr_tok"
    xlmr_vocab = save_tokenizer(small_unigram(), xlmr_tok, 24, **ROBERTA_SPECIAL)
    wordpiece_tok = work / "wordpiece_tok"
    wordpiece_vocab = make_tiny_tokenizer(wordpiece_tok)
    from transformers import BertTokenizerFast

    BertTokenizerFast.from_pretrained(str(wordpiece_tok), model_max_length=24).save_pretrained(
        str(wordpiece_tok))
    # Roberta-family: 34 positions after padding_idx + 1 = 2.
    family = dict(max_position_embeddings=36, type_vocab_size=1, pad_token_id=1, **SIZES)
    make_cross("roberta", lambda: RobertaForSequenceClassification(RobertaConfig(
        vocab_size=roberta_vocab, num_labels=1, **family)), roberta_tok, 30, pairs,
        dict(max_len=34, pad=1))
    make_cross("xlmr", lambda: XLMRobertaForSequenceClassification(XLMRobertaConfig(
        vocab_size=xlmr_vocab, num_labels=3, layer_norm_eps=1e-5, **family)), xlmr_tok, 31,
        pairs, dict(max_len=34, pad=1))
    make_cross("electra", lambda: ElectraForSequenceClassification(ElectraConfig(
        vocab_size=wordpiece_vocab, embedding_size=12, max_position_embeddings=34, num_labels=1,
        **SIZES)), wordpiece_tok, 32, pairs, dict(max_len=34, types=True))
    distil_tok = work / "distil_tok"
    distil_tok.mkdir()
    for f in wordpiece_tok.iterdir():
        (distil_tok / f.name).write_bytes(f.read_bytes())
    config = json.loads((distil_tok / "tokenizer_config.json").read_text())
    config["model_input_names"] = ["input_ids", "attention_mask"]  # DistilBERT takes no types
    (distil_tok / "tokenizer_config.json").write_text(json.dumps(config, indent=1))
    make_cross("distilbert", lambda: DistilBertForSequenceClassification(DistilBertConfig(
        vocab_size=wordpiece_vocab, dim=20, n_heads=2, n_layers=2, hidden_dim=28,
        max_position_embeddings=34, initializer_range=0.2, num_labels=2)), distil_tok, 33, pairs,
        dict(max_len=34))
    return roberta_tok, xlmr_tok, distil_tok


def make_colbert_roberta(roberta_tok, work):
    from pylate import models as pylate_models
    from transformers import RobertaConfig, RobertaModel

    base = work / "colbert_roberta_base"
    base.mkdir()
    for f in roberta_tok.iterdir():
        (base / f.name).write_bytes(f.read_bytes())
    torch.manual_seed(40)
    vocab = len(json.loads((roberta_tok / "tokenizer.json").read_text())["model"]["vocab"])
    model = RobertaModel(RobertaConfig(vocab_size=vocab, max_position_embeddings=36,
                                       type_vocab_size=1, pad_token_id=1, **SIZES),
                         add_pooling_layer=False)
    perturb_norms(model)
    model.save_pretrained(str(base))
    colbert = pylate_models.ColBERT(str(base), embedding_size=16, query_length=12,
                                    document_length=24, device="cpu")
    target = OUT / "colbert_tiny_roberta"
    colbert.save(str(target))
    (target / "README.md").unlink(missing_ok=True)
    model = pylate_models.ColBERT(str(target), device="cpu")
    queries = model.encode(COLBERT_QUERIES, is_query=True, batch_size=2)
    documents = model.encode(COLBERT_DOCUMENTS, is_query=False, batch_size=4)
    save_file({
        "query_embeddings": np.concatenate(queries).astype(np.float32),
        "query_offsets": np.cumsum([0] + [len(q) for q in queries]).astype(np.int64),
        "document_embeddings": np.concatenate(documents).astype(np.float32),
        "document_offsets": np.cumsum([0] + [len(d) for d in documents]).astype(np.int64),
    }, str(OUT / "colbert_tiny_roberta_reference.safetensors"))
    print("colbert roberta", [len(q) for q in queries], [len(d) for d in documents])


def make_sentence(name, base_model, tokenizer_dir, pooling, normalize, work):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer

    base = work / f"sentence_{name}_base"
    base.mkdir()
    for f in tokenizer_dir.iterdir():
        (base / f.name).write_bytes(f.read_bytes())
    perturb_norms(base_model)
    base_model.save_pretrained(str(base))
    transformer = Transformer(str(base), max_seq_length=24)
    modules = [transformer, Pooling(transformer.get_word_embedding_dimension(), pooling)]
    if normalize:
        modules.append(Normalize())
    target = OUT / f"sentence_tiny_{name}"
    SentenceTransformer(modules=modules, device="cpu").save(str(target))
    (target / "README.md").unlink(missing_ok=True)
    model = SentenceTransformer(str(target), device="cpu")
    texts = TEXTS[:18]
    ids = [model.tokenize([t])["input_ids"][0].numpy() for t in texts]
    save_file({
        "token_ids": np.concatenate(ids).astype(np.int64),
        "token_offsets": np.cumsum([0] + [len(i) for i in ids]).astype(np.int64),
        "sentence_embeddings": model.encode(texts, batch_size=4).astype(np.float32),
    }, str(OUT / f"sentence_tiny_{name}_reference.safetensors"))
    print("sentence", name, [len(i) for i in ids])


def main():
    from transformers import DistilBertConfig, DistilBertModel, XLMRobertaConfig, XLMRobertaModel

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        roberta_tok, xlmr_tok, distil_tok = make_cross_encoders(work)
        make_colbert_roberta(roberta_tok, work)
        torch.manual_seed(50)
        vocab = len(json.loads((xlmr_tok / "tokenizer.json").read_text())["model"]["vocab"])
        make_sentence("xlmr", XLMRobertaModel(XLMRobertaConfig(
            vocab_size=vocab, max_position_embeddings=36, type_vocab_size=1, pad_token_id=1,
            **SIZES), add_pooling_layer=False), xlmr_tok, "mean", True, work)
        torch.manual_seed(51)
        vocab = len(json.loads((distil_tok / "tokenizer.json").read_text())["model"]["vocab"])
        make_sentence("distilbert", DistilBertModel(DistilBertConfig(
            vocab_size=vocab, dim=20, n_heads=2, n_layers=2, hidden_dim=28,
            max_position_embeddings=34, activation="relu", initializer_range=0.2)), distil_tok,
            "cls", False, work)


if __name__ == "__main__":
    main()
