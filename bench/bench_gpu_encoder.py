"""GPU encoder benchmark, rank_rerank side by side with PyTorch / sentence-transformers / PyLate
in the same process on the same GPU, all with random-weight models in fp16.

Cases (targets from issue 5):
  encode_256x128   BERT-base forward, 256 sequences x 128 tokens (tokens/s; >= 3.0 M, >= 1.4x)
  encode_var       BERT-base forward, 256 sequences of uniform 16-256 tokens (PyTorch pads; >= 2x)
  latency_1x128    BERT-base forward, one sequence of 128 tokens (<= 0.4 ms)
  cross_100        cross-encoder MiniLM-L6 size, 1 query x 100 docs up to 256 tokens, text in
                   (<= 1.5 ms, >= 5x CrossEncoder.predict)
  colbert_rerank   ColBERT BERT-base, 1 query + 100 docs of ~180 tokens, text in -> scores out
                   (<= 3 ms, >= 4x PyLate)
Our forward-only figures come from build/release/bench/bench_gpu_forward (token ids in, as the
PyTorch model gets them); text-in figures include our tokenization. Medians of repeats; peak GPU
memory per case (ours: device memory in use after the case, pool high-water included; PyTorch:
max_memory_allocated). Usage: bench_gpu_encoder.py --tokenizer DIR [--out results.json]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import traceback

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORWARD = os.path.join(ROOT, "build/release/bench/bench_gpu_forward")
WORK = "/tmp/rr-gpu-bench"


def median_ms(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def make_models(tokenizer_dir):
    """Random-weight BERT-base, a PyLate ColBERT on it, a MiniLM-L6-size cross-encoder."""
    from transformers import BertConfig, BertForSequenceClassification, BertModel

    os.makedirs(WORK, exist_ok=True)
    torch.manual_seed(0)

    def save(model, path):
        model.save_pretrained(path)
        for name in os.listdir(tokenizer_dir):
            if name.startswith("tokenizer") or name in ("vocab.txt", "special_tokens_map.json"):
                shutil.copy(os.path.join(tokenizer_dir, name), path)

    base = os.path.join(WORK, "bert-base")
    save(BertModel(BertConfig(), add_pooling_layer=False), base)
    cross = os.path.join(WORK, "cross-minilm")
    cfg = BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                     intermediate_size=1536, num_labels=1)
    save(BertForSequenceClassification(cfg), cross)
    # A PyLate-layout ColBERT written directly (PyLate 1.6 cannot build one from a bare BERT
    # under sentence-transformers 6): [Q] / [D] added as tokens, a 768 -> 128 Dense, no bias.
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    colbert = os.path.join(WORK, "colbert-base")
    tok = AutoTokenizer.from_pretrained(base)
    tok.add_tokens(["[Q] ", "[D] "])
    model = BertModel.from_pretrained(base)
    model.resize_token_embeddings(len(tok))
    model.save_pretrained(colbert)
    tok.save_pretrained(colbert)
    os.makedirs(os.path.join(colbert, "1_Dense"), exist_ok=True)
    save_file({"linear.weight": torch.randn(128, 768) / 768**0.5},
              os.path.join(colbert, "1_Dense/model.safetensors"))
    dump = lambda obj, name: json.dump(obj, open(os.path.join(colbert, name), "w"))
    dump({"in_features": 768, "out_features": 128, "bias": False,
          "activation_function": "torch.nn.modules.linear.Identity", "use_residual": False},
         "1_Dense/config.json")
    dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
          {"idx": 1, "name": "1", "path": "1_Dense", "type": "pylate.models.Dense.Dense"}],
         "modules.json")
    dump({"model_type": "ColBERT", "similarity_fn_name": "MaxSim", "query_prefix": "[Q] ",
          "document_prefix": "[D] ", "query_length": 32, "document_length": 256,
          "attend_to_expansion_tokens": False, "skiplist_words": list("!\"#$%&'()*+,-./:;<=>?@"),
          # PyLate 1.6 under sentence-transformers 6 does not pad queries to query_length (its
          # padding="max_length" no longer reaches the tokenizer), so it cannot expand queries:
          # both sides run without expansion to compute the same thing.
          "do_query_expansion": False},
         "config_sentence_transformers.json")
    dump({"max_seq_length": 256, "do_lower_case": False}, "sentence_bert_config.json")
    return base, cross, colbert


def words(tokenizer_dir):
    vocab = [w.strip() for w in open(os.path.join(tokenizer_dir, "vocab.txt"), encoding="utf-8")]
    return [w for w in vocab[2000:] if w.isalpha() and w.isascii() and len(w) > 2]


def text(rng, pool, n):
    return " ".join(rng.choice(pool, size=n))


def ours_forward(model, batch, lo, hi, repeats, device="cuda", dtype="float16"):
    out = subprocess.run([FORWARD, model, device, dtype, str(batch), str(lo), str(hi),
                          str(repeats)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def torch_forward(model, lengths, repeats):
    """BertModel fp16 on a padded batch (attention mask), as PyTorch users run it."""
    batch, longest = len(lengths), max(lengths)
    ids = torch.randint(1000, 29000, (batch, longest), device="cuda")
    mask = torch.zeros(batch, longest, dtype=torch.long, device="cuda")
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    torch.cuda.reset_peak_memory_stats()
    with torch.inference_mode():
        ms = median_ms(lambda: model(input_ids=ids, attention_mask=mask), repeats)
    return ms, torch.cuda.max_memory_allocated()


def used_bytes():
    free, total = torch.cuda.mem_get_info()
    return total - free


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", default=None)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--cases", nargs="+", default=["forward", "cross", "colbert"],
                    choices=["forward", "cross", "colbert"])
    args = ap.parse_args()
    base, cross_dir, colbert_dir = make_models(args.tokenizer)
    rng = np.random.default_rng(0)
    pool = words(args.tokenizer)
    rows = []

    def row(case, ours_ms, peer_ms, peer, tokens=None, ours_mem=None, peer_mem=None, extra=""):
        r = {"case": case, "ours_ms": ours_ms, "peer": peer, "peer_ms": peer_ms,
             "speedup": peer_ms / ours_ms if ours_ms and peer_ms else None,
             "tokens": tokens, "ours_mem_mib": ours_mem and ours_mem / 2**20,
             "peer_mem_mib": peer_mem and peer_mem / 2**20, "note": extra}
        rows.append(r)
        print(json.dumps(r), flush=True)

    repeats = args.repeats

    def guarded(name, case):
        try:
            case()
        except Exception as e:  # one failing peer must not hide the other cases
            where = "; ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}"
                              for f in traceback.extract_tb(e.__traceback__)[-4:])
            print(f"CASE FAILED: {name}: {type(e).__name__}: {e} (at {where})", flush=True)

    cases = {"forward": lambda: forward_cases(rng, row, base, repeats),
             "cross": lambda: cross_case(rng, pool, cross_dir, row, repeats),
             "colbert": lambda: colbert_case(rng, pool, colbert_dir, row, repeats)}
    for name in args.cases:
        guarded(name, cases[name])
    print_table(rows, args.out)


def forward_cases(rng, row, base, repeats):
    from transformers import BertModel

    # BERT-base forward: ours (ids in) vs transformers BertModel fp16 (sdpa attention).
    bert = BertModel.from_pretrained(base, torch_dtype=torch.float16).cuda().eval()
    fixed = ours_forward(base, 256, 128, 128, repeats)
    t_ms, t_mem = torch_forward(bert, [128] * 256, repeats)
    row("encode_256x128", fixed["median_ms"], t_ms, "transformers BertModel fp16",
        fixed["tokens"], fixed["device_bytes"], t_mem,
        f"ours {fixed['tokens_per_s'] / 1e6:.2f} M tok/s, torch {fixed['tokens'] / t_ms / 1e3:.2f} M tok/s")
    var = ours_forward(base, 256, 16, 256, repeats)
    lengths = list(rng.integers(16, 257, size=256))
    t_ms, t_mem = torch_forward(bert, lengths, repeats)
    row("encode_var_16_256", var["median_ms"], t_ms, "transformers BertModel fp16 (padded)",
        var["tokens"], var["device_bytes"], t_mem,
        f"ours {var['tokens_per_s'] / 1e6:.2f} M tok/s, torch {sum(lengths) / t_ms / 1e3:.2f} M tok/s")
    one = ours_forward(base, 1, 128, 128, 200)
    t_ms, t_mem = torch_forward(bert, [128], 200)
    row("latency_1x128", one["median_ms"], t_ms, "transformers BertModel fp16", 128,
        one["device_bytes"], t_mem)
    cpu = ours_forward(base, 32, 128, 128, 3, device="cpu", dtype="float32")
    row("cpu_backend_32x128", cpu["median_ms"], None, "-", cpu["tokens"], None, None,
        f"our CPU backend f32: {cpu['tokens_per_s'] / 1e3:.1f} k tok/s")
    del bert
    torch.cuda.empty_cache()


def cross_case(rng, pool, cross_dir, row, repeats):
    import rank_rerank
    from sentence_transformers import CrossEncoder as StCrossEncoder

    # Cross-encoder, text in: 1 query x 100 documents of up to 256 tokens.
    query = text(rng, pool, 12)
    docs = [text(rng, pool, int(n)) for n in rng.integers(150, 260, size=100)]
    pairs = [(query, d) for d in docs]
    before = used_bytes()
    ours_ce = rank_rerank.CrossEncoder(cross_dir, device="cuda", dtype="float16", batch_size=128,
                                       max_length=256)
    ours_ms = median_ms(lambda: ours_ce.predict(pairs), repeats)
    ours_mem = used_bytes() - before
    st = StCrossEncoder(cross_dir, device="cuda", max_length=256,
                        model_kwargs={"torch_dtype": torch.float16})
    torch.cuda.reset_peak_memory_stats()
    st_ms = median_ms(lambda: st.predict(pairs, batch_size=128), repeats)
    st_mem = torch.cuda.max_memory_allocated()
    a = np.asarray(ours_ce.predict(pairs), dtype=np.float64).ravel()
    b = np.asarray(st.predict(pairs, batch_size=128), dtype=np.float64).ravel()
    # How much of our text-in time is the encoder itself: its forward on ids of lengths uniform
    # in the range the tokenizer gives these pairs.
    try:
        from transformers import AutoTokenizer

        hf = AutoTokenizer.from_pretrained(cross_dir)
        lengths = [len(ids) for ids in hf([query] * len(docs), docs, truncation=True,
                                          max_length=256)["input_ids"]]
        lo, hi = min(lengths), max(lengths)
        fwd = ours_forward(cross_dir, len(pairs), lo, hi, repeats)
        forward_note = (f"; our forward alone on {fwd['tokens']} ids ({lo}-{hi} per pair) "
                        f"{fwd['median_ms']:.3f} ms")
    except Exception as e:  # the row below must not depend on this breakdown
        forward_note = f"; forward-only breakdown failed: {type(e).__name__}: {e}"
    row("cross_1x100", ours_ms, st_ms, "sentence-transformers CrossEncoder.predict fp16 b128",
        None, ours_mem, st_mem, f"max |score diff| {np.max(np.abs(a - b)):.2e}{forward_note}")
    # The same request through the Reranker (text in, ranked list out), with its breakdown.
    reranker = rank_rerank.Reranker(cross_dir, kind="cross_encoder", device="cuda",
                                    dtype="float16", max_length=256)
    rr_ms = median_ms(lambda: reranker.rerank(query, docs), repeats)
    row("cross_1x100_reranker", rr_ms, st_ms, "sentence-transformers CrossEncoder.predict fp16 "
        "b128", None, None, None, f"Reranker.rerank: {stats_note()}")
    del reranker
    st_ms32 = median_ms(lambda: st.predict(pairs), repeats)
    row("cross_1x100_st_b32", ours_ms, st_ms32, "CrossEncoder.predict default batch 32")
    del st, ours_ce
    torch.cuda.empty_cache()


def stats_note():
    """Where our time goes, from the statistics of the last Reranker call."""
    import rank_rerank

    s = rank_rerank.last_stats().as_dict()
    return (f"tokenize {s['tokenize_ms']:.2f} ms, encode {s['encode_ms']:.2f} ms, "
            f"score {s['score_ms']:.2f} ms of {s['total_ms']:.2f} ms")


def load_pylate(colbert_dir):
    """The PyLate model of colbert_dir, fp16 on the GPU. PyLate 1.6 under sentence-transformers
    6 does not load its own layout: sentence-transformers 6 rebuilds it as Transformer + mean
    Pooling, which PyLate then fails to convert. So it is assembled from its modules: the
    sentence-transformers Transformer of the directory and PyLate's Dense with the saved
    weights, with the settings of config_sentence_transformers.json."""
    from pylate import models
    from pylate.models import Dense
    from safetensors.torch import load_file
    from sentence_transformers.models import Transformer

    settings = json.load(open(os.path.join(colbert_dir, "config_sentence_transformers.json")))
    transformer = Transformer(colbert_dir, max_seq_length=settings["document_length"])
    weight = load_file(os.path.join(colbert_dir, "1_Dense/model.safetensors"))["linear.weight"]
    dense = Dense(in_features=weight.shape[1], out_features=weight.shape[0], bias=False)
    with torch.no_grad():
        dense.linear.weight.copy_(weight)
    model = models.ColBERT(
        modules=[transformer, dense], device="cuda", query_prefix=settings["query_prefix"],
        document_prefix=settings["document_prefix"], query_length=settings["query_length"],
        document_length=settings["document_length"],
        attend_to_expansion_tokens=settings["attend_to_expansion_tokens"],
        do_query_expansion=settings["do_query_expansion"],
        skiplist_words=settings["skiplist_words"])
    if not hasattr(type(model), "_text_length"):
        # PyLate 1.6's encode sorts texts by sentence-transformers 5's private _text_length,
        # which sentence-transformers 6 removed: the same measure (characters of a text).
        type(model)._text_length = staticmethod(
            lambda text: len(text) if isinstance(text, str) else sum(len(t) for t in text))
    return model.half()


def colbert_case(rng, pool, colbert_dir, row, repeats):
    import rank_rerank
    from pylate import rank

    # ColBERT rerank, text in -> scores out: 1 query + 100 documents of ~180 tokens.
    query = text(rng, pool, 20)
    docs = [text(rng, pool, int(n)) for n in rng.integers(170, 190, size=100)]
    before = used_bytes()
    ours_rr = rank_rerank.Reranker(colbert_dir, kind="colbert", device="cuda", dtype="float16",
                                   max_length=256)

    def ours_rerank():
        scores = np.zeros(len(docs))
        for hit in ours_rr.rerank(query, docs):
            scores[hit["index"]] = hit["score"]
        return scores

    ours_ms = median_ms(ours_rerank, repeats)
    ours_mem = used_bytes() - before
    ours_rerank()
    ours_breakdown = stats_note()  # before PyLate's torch threads share the CPU
    pylate = load_pylate(colbert_dir)

    def pylate_rerank():
        q = pylate.encode([query], is_query=True, convert_to_numpy=False)
        d = pylate.encode(docs, is_query=False, batch_size=128, convert_to_numpy=False)
        return rank.rerank([list(range(len(docs)))], q, [d], device="cuda")

    torch.cuda.reset_peak_memory_stats()
    p_ms = median_ms(pylate_rerank, repeats)
    p_mem = torch.cuda.max_memory_allocated()
    ours_scores = np.asarray(ours_rerank(), dtype=np.float64)
    ranked = pylate_rerank()[0]
    p_scores = np.zeros(len(docs))
    for r in ranked:
        p_scores[int(r["id"])] = r["score"]
    top_ours = list(np.argsort(-ours_scores, kind="stable")[:10])
    top_pylate = list(np.argsort(-p_scores, kind="stable")[:10])
    row("colbert_rerank_1x100", ours_ms, p_ms, "PyLate encode + rank.rerank fp16", None, ours_mem,
        p_mem, f"max rel score diff {np.max(np.abs(ours_scores - p_scores) / np.abs(p_scores)):.2e}, "
        f"top-10 equal {top_ours == top_pylate}; ours {ours_breakdown}")


def print_table(rows, out):
    print("\n| case | ours ms | peer | peer ms | speed-up | ours MiB | peer MiB | note |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        f = lambda v, p=3: "-" if v is None else f"{v:.{p}f}"
        print(f"| {r['case']} | {f(r['ours_ms'])} | {r['peer']} | {f(r['peer_ms'])} | "
              f"{f(r['speedup'], 2)}x | {f(r['ours_mem_mib'], 0)} | {f(r['peer_mem_mib'], 0)} | "
              f"{r['note']} |")
    if out:
        with open(out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())
