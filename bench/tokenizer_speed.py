"""Tokenizer speed, side by side with `tokenizers` in one run.

Single-thread throughput (MB/s, tokens/s) on the same texts, multi-thread batch scaling, and the
load time of a 17 MB XLM-R-sized Unigram tokenizer.json (250k pieces, built from the Unigram
fixture). `tokenizers` is limited to one thread with RAYON_NUM_THREADS=1 for the first part.

  python bench/tokenizer_speed.py [--mb 8]
"""
import argparse
import json
import os
import random
import sys
import tempfile
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
import tokenizers  # noqa: E402

import rank_rerank  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_parity  # noqa: E402


def best_of(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def big_unigram(path_out):
    src = json.load(open(os.path.join(tokenizer_parity.FIXTURES, "unigram_precompiled.json")))
    vocab = src["model"]["vocab"]
    rng = random.Random(0)
    seen = {p for p, _ in vocab}
    letters = [chr(c) for c in list(range(0x61, 0x7b)) + list(range(0x430, 0x450)) + list(range(0x4e00, 0x4f00))]
    while len(vocab) < 250_000:
        piece = "\u2581" * rng.randint(0, 1) + "".join(rng.choice(letters) for _ in range(rng.randint(2, 9)))
        if piece not in seen:
            seen.add(piece)
            vocab.append([piece, -rng.uniform(5, 20)])
    json.dump(src, open(path_out, "w"), ensure_ascii=False, indent=2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=8)
    args = parser.parse_args()
    texts = [t.decode("utf-8", errors="replace") for t in tokenizer_parity.corpus_texts(int(args.mb * 1e6))]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"texts: {len(texts)}, {mb:.1f} MB; tokenizers {tokenizers.__version__}")
    for name, path in tokenizer_parity.tokenizer_paths().items():
        hf = tokenizers.Tokenizer.from_file(path)
        hf.no_padding()
        hf.no_truncation()
        ours = rank_rerank.Tokenizer.from_file(path)
        t_hf, enc = best_of(lambda: hf.encode_batch(texts))
        n_tokens = sum(len(e.ids) for e in enc)
        t_ours, _ = best_of(lambda: ours.encode_batch(texts, num_threads=1))
        t_ours2, _ = best_of(lambda: ours.encode_batch(texts, num_threads=2))
        print(f"{name}: tokenizers 1 thread {mb / t_hf:6.2f} MB/s {n_tokens / t_hf / 1e6:5.2f} Mtok/s | "
              f"rank_rerank 1 thread {mb / t_ours:6.2f} MB/s {n_tokens / t_ours / 1e6:5.2f} Mtok/s "
              f"({t_hf / t_ours:.2f}x) | 2 threads {mb / t_ours2:6.2f} MB/s ({t_ours / t_ours2:.2f}x of 1 thread)")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "unigram_250k.json")
        big_unigram(path)
        size = os.path.getsize(path) / 1e6
        t_hf, _ = best_of(lambda: tokenizers.Tokenizer.from_file(path))
        t_ours, _ = best_of(lambda: rank_rerank.Tokenizer.from_file(path))
        print(f"load {size:.1f} MB Unigram tokenizer.json (250k pieces): tokenizers {t_hf * 1e3:.0f} ms, "
              f"rank_rerank {t_ours * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
