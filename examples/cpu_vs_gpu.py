"""The same reranking on the CPU and on the GPU: scores side by side and the speed-up.

Without a usable GPU it runs the CPU half and says why the GPU half was skipped.

    .venv/bin/python examples/cpu_vs_gpu.py [--model DIR_OR_HF_ID] [--candidates 100]
"""
import argparse
import statistics

import numpy as np

import rank_rerank as rr
from _common import default_model, sample_passages


def timed_rerank(reranker, query, docs, repeat):
    times, result = [], None
    for _ in range(repeat):
        result = reranker.rerank(query, docs)
        times.append(result.stats.total_ms)
    return result, statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    model = args.model or default_model()
    docs = [p["text"] for p in sample_passages()][: args.candidates]
    query = "compress and decompress files"

    cpu = rr.Reranker(model, device="cpu")
    cpu_result, cpu_ms = timed_rerank(cpu, query, docs, args.repeat)
    print(f"cpu: {len(docs)} candidates in {cpu_ms:.1f} ms (median of {args.repeat})")

    try:
        gpu = rr.Reranker(model, device="cuda")
    except RuntimeError as error:
        print(f"GPU half skipped: {error}")
        return
    gpu_result, gpu_ms = timed_rerank(gpu, query, docs, args.repeat)
    print(f"{gpu.device}: {gpu_ms:.1f} ms, {cpu_ms / gpu_ms:.1f}x the CPU")
    cpu_scores = np.array([h["score"] for h in sorted(cpu_result, key=lambda h: h["index"])])
    gpu_scores = np.array([h["score"] for h in sorted(gpu_result, key=lambda h: h["index"])])
    print(f"largest score difference: {np.abs(cpu_scores - gpu_scores).max():.2e}")
    same = [h["index"] for h in cpu_result][:10] == [h["index"] for h in gpu_result][:10]
    print(f"same top 10: {same}")


if __name__ == "__main__":
    main()
