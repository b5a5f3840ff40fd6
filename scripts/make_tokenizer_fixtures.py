"""Builds the small tokenizer fixtures in tests/fixtures/tokenizers/ from local text.

- wordpiece_cased.json: BERT-style cased WordPiece trained with `tokenizers`.
- bpe_byte_level.json: RoBERTa-style byte-level BPE trained with `tokenizers`.
- unigram_precompiled.json: XLM-R-style Unigram with a Precompiled normalizer: a sentencepiece
  model converted with transformers' XLMRobertaConverter (run with --unigram from a throwaway venv
  that has `transformers` and `sentencepiece`; they are not CI requirements).
- expected.json (--expected): what the real `tokenizers` package returns on the three fixtures
  for single texts, pairs, truncated and padded batches and decoding, plus the doubles it reads
  for JSON score literals. The C++ tests compare against this file; it is never produced by
  rank_rerank itself.
"""
import argparse
import glob
import gzip
import os
import sys
import tempfile

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tokenizers")


def training_lines(limit_bytes=4_000_000):
    total = 0
    for path in sorted(glob.glob("/usr/share/doc/**/*", recursive=True)):
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        try:
            raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
        except OSError:
            continue
        text = raw.decode("utf-8", errors="replace")
        for line in text.splitlines():
            if line.strip():
                total += len(line)
                yield line
        if total > limit_bytes:
            return


def wordpiece_cased():
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(training_lines(), trainers.WordPieceTrainer(vocab_size=6000, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    tok.decoder = decoders.WordPiece()
    tok.save(os.path.join(OUT, "wordpiece_cased.json"))


def bpe_byte_level():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer = trainers.BpeTrainer(vocab_size=6000, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_lines(), trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")))
    tok.decoder = decoders.ByteLevel()
    tok.save(os.path.join(OUT, "bpe_byte_level.json"))


def unigram_precompiled():
    import sentencepiece as spm
    from transformers import XLMRobertaTokenizer
    from transformers.convert_slow_tokenizer import XLMRobertaConverter

    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w") as f:
            for line in training_lines(2_000_000):
                f.write(line + "\n")
        prefix = os.path.join(tmp, "spm")
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=prefix, vocab_size=4000, model_type="unigram",
                                       character_coverage=0.9995, normalization_rule_name="nmt_nfkc")
        slow = XLMRobertaTokenizer(vocab_file=prefix + ".model")
        XLMRobertaConverter(slow).converted().save(os.path.join(OUT, "unigram_precompiled.json"))


# Texts for the expected values: multilingual, adversarial, and raw bytes that are not UTF-8 (the
# reference for those is `tokenizers` on bytes.decode("utf-8", errors="replace")).
EXPECTED_TEXTS = [
    b"Hello, world! Don't stop.", b"naive caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u4e2d\u6587\uff0c\ud55c\uad6d\uc5b4".encode(),
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0661\u0662\u0663 \u0939\u093f\u0928\u094d\u0926\u0940".encode(),
    "family \U0001F468\u200d\U0001F469\u200d\U0001F467 e\u0301\u0302 \u0130I\u0131i \u00df \ufb01 \u2167".encode(),
    b"tabs\t\tand\nnewlines\r\n  and   spaces  ", b"ctrl\x01\x07\x1b[0m\x7f end", b"", b" ",
    b"'s 're 've 'll 'd 'm 't", b"[CLS] [SEP] <s> </s> <mask> [MASK] <unk>", b"mixed123numbers 3.14159 1,000,000",
    b"supercalifragilisticexpialidocious" * 3, b"x" * 120, b"*" * 74 + b"\n*" + b" " * 44,
    b"bad \xff\xfe utf8", b"\xed\xa0\x80 lone surrogate \xed\xbf\xbf", b"trunc \xe6\x97", b"\xc0\xaf overlong",
    b"\xf4\x90\x80\x80 too big", b"\x80\x80 cont", b"mix \xe2\x82 \xf0\x9f\x98 end",
]
EXPECTED_PAIRS = [(b"What is the capital of France?", b"Paris is the capital and largest city of France."),
                  (b"short", b"a considerably longer second sequence with many words in it"),
                  ("\u00bfQu\u00e9 tal?".encode(), b"\xff bad second")]
# Score literals for the Unigram reading test: the fixture's first scores plus edge cases.
EXTRA_SCORES = ["0", "-0", "-0.0", "5", "-12", "1.5e3", "-2.5E-3", "1e-400", "-7.2285284996032715",
                "123456789012345678901234.5", "0.12345678901234567890123", "-3.99322915077209472656250",
                "18446744073709551615.5", "18446744073709551616.75", "1e308", "4.9e-324"]


def encoding_dict(e):
    return {"ids": e.ids, "type_ids": e.type_ids, "attention_mask": e.attention_mask,
            "special_tokens_mask": e.special_tokens_mask, "offsets": [list(o) for o in e.offsets],
            "tokens": e.tokens}


def expected():
    import json
    out = {"tokenizers_version": __import__("tokenizers").__version__, "tokenizers": {}}
    for name in ("wordpiece_cased", "bpe_byte_level", "unigram_precompiled"):
        path = os.path.join(OUT, name + ".json")
        tok = Tokenizer.from_file(path)
        cases = {"single": [], "pairs": [], "batches": [], "decode": []}
        for raw in EXPECTED_TEXTS:
            e = tok.encode(raw.decode("utf-8", errors="replace"))
            cases["single"].append({"text_hex": raw.hex(), **encoding_dict(e)})
            no_special = tok.encode(raw.decode("utf-8", errors="replace"), add_special_tokens=False)
            cases["single"][-1]["ids_without_special_tokens"] = no_special.ids
        for a, b in EXPECTED_PAIRS:
            e = tok.encode(a.decode("utf-8", errors="replace"), b.decode("utf-8", errors="replace"))
            cases["pairs"].append({"text_hex": a.hex(), "pair_hex": b.hex(), **encoding_dict(e)})
        texts = [t.decode("utf-8", errors="replace") for t in EXPECTED_TEXTS[:8]]
        for strategy in ("longest_first", "only_first", "only_second"):
            for direction in ("right", "left"):
                tok.enable_truncation(max_length=16, strategy=strategy, direction=direction)
                tok.enable_padding(pad_to_multiple_of=8, direction=direction, pad_id=0, pad_token="[PAD]")
                batch_pairs = [(a.decode("utf-8", "replace"), b.decode("utf-8", "replace")) for a, b in EXPECTED_PAIRS]
                try:
                    encs = tok.encode_batch(batch_pairs)
                except Exception:
                    encs = None  # the strategy cannot shorten these pairs: an error is expected
                cases["batches"].append({"strategy": strategy, "direction": direction, "max_length": 16,
                                         "pad_to_multiple_of": 8, "pairs": True,
                                         "encodings": None if encs is None else [encoding_dict(e) for e in encs]})
                if strategy == "longest_first":
                    tok.enable_truncation(max_length=12, strategy=strategy, direction=direction)
                    encs = tok.encode_batch(texts)
                    cases["batches"].append({"strategy": strategy, "direction": direction, "max_length": 12,
                                             "pad_to_multiple_of": 8, "pairs": False, "texts_hex": [t.hex() for t in EXPECTED_TEXTS[:8]],
                                             "encodings": [encoding_dict(e) for e in encs]})
                tok.no_truncation()
                tok.no_padding()
        for raw in EXPECTED_TEXTS[:6] + list(EXPECTED_PAIRS[0]):
            ids = tok.encode(raw.decode("utf-8", errors="replace")).ids
            cases["decode"].append({"ids": ids, "skip_special_tokens": True, "text": tok.decode(ids)})
            cases["decode"].append({"ids": ids, "skip_special_tokens": False,
                                    "text": tok.decode(ids, skip_special_tokens=False)})
        out["tokenizers"][name] = cases
    # The doubles `tokenizers` reads for score literals, read back through its own serializer.
    unigram = json.load(open(os.path.join(OUT, "unigram_precompiled.json")))
    raw_text = open(os.path.join(OUT, "unigram_precompiled.json")).read()
    import re
    literals = re.findall(r'\[\s*"(?:[^"\\]|\\.)*",\s*(-?[0-9.eE+-]+)\s*\]', raw_text)[:300] + EXTRA_SCORES
    vocab = [["<unk>", 0.0]] + [[f"p{i}", 0.0] for i in range(len(literals))]
    model_json = json.dumps({"version": "1.0", "model": {"type": "Unigram", "unk_id": 0, "vocab": vocab}})
    for i, lit in enumerate(literals):
        model_json = model_json.replace(f'["p{i}", 0.0]', f'["p{i}", {lit}]', 1)
    read_back = json.loads(Tokenizer.from_str(model_json).to_str())["model"]["vocab"][1:]
    out["unigram_score_literals"] = [{"literal": lit, "value_hex": float(v).hex()} for lit, (_, v) in zip(literals, read_back)]
    del unigram
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--unigram", action="store_true", help="only the sentencepiece-converted Unigram fixture")
    parser.add_argument("--expected", action="store_true", help="only expected.json, from the committed fixtures")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if args.expected:
        expected()
    elif args.unigram:
        unigram_precompiled()
    else:
        wordpiece_cased()
        bpe_byte_level()
    sys.exit(0)
