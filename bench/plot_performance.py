#!/usr/bin/env python3
"""Draws docs/performance.png: rank_rerank's speed-up over each peer, one bar per measured case.

Reads bench/results/summary.json (headline figures copied from docs/performance.md, where each
was measured side by side with its peer). Bars right of 1x are faster than the peer.

    .venv/bin/pip install matplotlib
    .venv/bin/python bench/plot_performance.py [--out docs/performance.png]
"""
import argparse
import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
COLOURS = {"CPU MaxSim": "#4c72b0", "Tokenizer": "#55a868", "GPU MaxSim": "#c44e52",
           "GPU encoder": "#8172b2", "Reranking": "#ccb974", "Multi-GPU": "#64b5cd",
           "CPU encoder": "#dd8452"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", type=pathlib.Path, default=ROOT / "bench/results/summary.json")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "docs/performance.png")
    args = parser.parse_args()
    cases = json.loads(args.summary.read_text())["cases"]
    labels = [f"{c['area']}: {c['case']} vs {c['peer']}" for c in cases]
    # A case gives times (ms) or, where the figure is a throughput ratio, the ratio itself.
    ratios = [c["ratio"] if "ratio" in c else c["peer_ms"] / c["ours_ms"] for c in cases]
    fig, ax = plt.subplots(figsize=(12, 0.42 * len(cases) + 1.4))
    ys = range(len(cases))[::-1]
    ax.barh(list(ys), ratios, color=[COLOURS.get(c["area"], "grey") for c in cases])
    for y, r in zip(ys, ratios):
        ax.text(r * 1.03, y, f"{r:.2f}x", va="center", fontsize=8)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlim(min(0.5, min(ratios) * 0.8), max(ratios) * 1.6)
    ticks = [t for t in (0.5, 1, 2, 5, 10, 20, 50) if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}x" for t in ticks])
    ax.set_yticks(list(ys))
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("speed-up over the peer (peer time / our time, log scale; right of 1x is faster)")
    ax.set_title("rank-rerank vs peers, side by side on the same machine and inputs")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
