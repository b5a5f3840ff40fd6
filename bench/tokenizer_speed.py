"""Tokenizer speed, side by side with `tokenizers` in one run.

Single-thread throughput (MB/s, tokens/s) on the same texts, batch scaling over --threads, and the
load time of an 18.5 MB XLM-R-sized Unigram tokenizer.json (250k pieces, built from the Unigram
fixture). `tokenizers` runs with RAYON_NUM_THREADS=1. Every figure is the median of --repeat runs;
single-thread throughput uses process CPU time (robust on a shared machine), scaling uses wall time.

  python bench/tokenizer_speed.py [--mb 8] [--repeat 5] [--threads 2 4 8 16]
"""
import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
import tokenizers  # noqa: E402

import rank_rerank  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_parity  # noqa: E402


def timed(fn, repeat):
    """Runs fn `repeat` times; returns (CPU seconds list, wall seconds list, last result).

    CPU time of the process (all threads) is what a single-threaded run costs even when the shared
    machine preempts it; wall time is what batch scaling is judged by.
    """
    cpu, wall, out = [], [], None
    for _ in range(repeat):
        out = None
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return cpu, wall, out


def spread(xs):
    return f"median {statistics.median(xs) * 1e3:.0f} ms, min {min(xs) * 1e3:.0f}, max {max(xs) * 1e3:.0f}"


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
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[2],
                        help="thread counts for the batch-scaling columns (wall time vs 1 thread)")
    args = parser.parse_args()
    texts = [t.decode("utf-8", errors="replace") for t in tokenizer_parity.corpus_texts(int(args.mb * 1e6))]
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"texts: {len(texts)}, {mb:.1f} MB; tokenizers {tokenizers.__version__}; {args.repeat} runs each, "
          f"medians; CPU = process CPU time")
    for name, path in tokenizer_parity.tokenizer_paths().items():
        hf = tokenizers.Tokenizer.from_file(path)
        hf.no_padding()
        hf.no_truncation()
        # The same work on both sides: no truncation or padding from the file either.
        config = json.load(open(path, encoding="utf-8"))
        config["truncation"] = config["padding"] = None
        ours = rank_rerank.Tokenizer.from_str(json.dumps(config))
        hf_cpu, hf_wall, enc = timed(lambda: hf.encode_batch(texts), args.repeat)
        n_tokens = sum(len(e.ids) for e in enc)
        del enc
        our_cpu, our_wall, _ = timed(lambda: ours.encode_batch(texts, num_threads=1), args.repeat)
        scaling = {n: timed(lambda: ours.encode_batch(texts, num_threads=n), args.repeat)[1]
                   for n in args.threads}
        t_hf, t_ours = statistics.median(hf_cpu), statistics.median(our_cpu)
        columns = " | ".join(
            f"{n} threads wall {mb / statistics.median(w):6.2f} MB/s "
            f"({statistics.median(our_wall) / statistics.median(w):.2f}x of 1 thread wall)"
            for n, w in scaling.items())
        print(f"{name}: tokenizers 1 thread {mb / t_hf:6.2f} MB/s {n_tokens / t_hf / 1e6:5.2f} Mtok/s | "
              f"rank_rerank 1 thread {mb / t_ours:6.2f} MB/s {n_tokens / t_ours / 1e6:5.2f} Mtok/s "
              f"({t_hf / t_ours:.2f}x) | {columns}")
        print(f"    CPU tokenizers {spread(hf_cpu)} | ours {spread(our_cpu)}; wall tokenizers {spread(hf_wall)} | "
              f"ours 1 thread {spread(our_wall)} | "
              + " | ".join(f"{n} threads {spread(w)}" for n, w in scaling.items()))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "unigram_250k.json")
        big_unigram(path)
        size = os.path.getsize(path) / 1e6
        hf_cpu, hf_wall, _ = timed(lambda: tokenizers.Tokenizer.from_file(path), args.repeat)
        our_cpu, our_wall, _ = timed(lambda: rank_rerank.Tokenizer.from_file(path), args.repeat)
        print(f"load {size:.1f} MB Unigram tokenizer.json (250k pieces): tokenizers CPU {spread(hf_cpu)}, wall "
              f"{spread(hf_wall)} | rank_rerank CPU {spread(our_cpu)}, wall {spread(our_wall)}")


if __name__ == "__main__":
    main()
