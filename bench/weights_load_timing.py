"""Times opening a BERT-base-sized safetensors checkpoint (~440 MB, random values, written by the
safetensors package) with rank_rerank, against the safetensors package itself.

    .venv/bin/python bench/weights_load_timing.py [/tmp/bert_base_like.safetensors]

The file is created on first use. Opening maps the file and validates the header; tensor bytes
are read lazily by the page cache. "open + touch" also reads one value per 4 KiB page, i.e. what
a first forward pass pays with a warm page cache.
"""

import os
import sys
import time

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

import rank_rerank

HIDDEN, LAYERS, INTERMEDIATE, VOCAB, POSITIONS = 768, 12, 3072, 30522, 512


def bert_base_tensors(rng):
    def w(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    t = {"embeddings.word_embeddings.weight": w(VOCAB, HIDDEN),
         "embeddings.position_embeddings.weight": w(POSITIONS, HIDDEN),
         "embeddings.token_type_embeddings.weight": w(2, HIDDEN),
         "embeddings.LayerNorm.weight": w(HIDDEN), "embeddings.LayerNorm.bias": w(HIDDEN),
         "pooler.dense.weight": w(HIDDEN, HIDDEN), "pooler.dense.bias": w(HIDDEN)}
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            t[p + name + ".weight"] = w(HIDDEN, HIDDEN)
            t[p + name + ".bias"] = w(HIDDEN)
        t[p + "intermediate.dense.weight"] = w(INTERMEDIATE, HIDDEN)
        t[p + "intermediate.dense.bias"] = w(INTERMEDIATE)
        t[p + "output.dense.weight"] = w(HIDDEN, INTERMEDIATE)
        t[p + "output.dense.bias"] = w(HIDDEN)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            t[p + ln + ".weight"] = w(HIDDEN)
            t[p + ln + ".bias"] = w(HIDDEN)
    return t


def best_of(fn, repeats=20):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3, float(np.median(times)) * 1e3


def main(path):
    if not os.path.exists(path):
        save_file(bert_base_tensors(np.random.default_rng(0)), path)
    size_mb = os.path.getsize(path) / 1e6
    info = rank_rerank.weights_info(path)

    def touch_pages():
        for a in rank_rerank.load_weights(path).values():
            flat = a.reshape(-1).view(np.uint8)
            flat[::4096].sum()

    def safetensors_open():
        with safe_open(path, framework="numpy") as f:
            for k in f.keys():
                f.get_slice(k)

    print(f"{path}: {size_mb:.0f} MB, {len(info['tensors'])} tensors")
    for label, fn in (("rank_rerank.weights_info (open + validate)", lambda: rank_rerank.weights_info(path)),
                      ("rank_rerank.load_weights (open + numpy views)", lambda: rank_rerank.load_weights(path)),
                      ("rank_rerank.load_weights + touch every page", touch_pages),
                      ("safetensors.safe_open + get_slice (reference)", safetensors_open)):
        best, median = best_of(fn)
        print(f"  {label:48s} best {best:8.2f} ms   median {median:8.2f} ms")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/bert_base_like.safetensors")
