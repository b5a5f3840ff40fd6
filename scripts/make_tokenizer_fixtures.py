"""Builds the small tokenizer fixtures in tests/fixtures/tokenizers/ from local text.

- wordpiece_cased.json: BERT-style cased WordPiece trained with `tokenizers`.
- bpe_byte_level.json: RoBERTa-style byte-level BPE trained with `tokenizers`.
- unigram_precompiled.json: XLM-R-style Unigram with a Precompiled normalizer: a sentencepiece
  model converted with transformers' XLMRobertaConverter (run with --unigram from a throwaway venv
  that has `transformers` and `sentencepiece`; they are not CI requirements).
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--unigram", action="store_true", help="only the sentencepiece-converted Unigram fixture")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if args.unigram:
        unigram_precompiled()
    else:
        wordpiece_cased()
        bpe_byte_level()
    sys.exit(0)
