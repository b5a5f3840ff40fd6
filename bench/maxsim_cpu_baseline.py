"""Times the maxsim-cpu PyPI package on the shape of bench_maxsim_kernel.cpp (a 32 x 128 float32
query against 1,000 documents of 128..1,536 tokens), for comparison with BM_MaxSim/f32_*.

    RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1 taskset -c 1 .venv/bin/python bench/maxsim_cpu_baseline.py

Prints the best and median GFLOP/s over the repetitions (2 * 32 * 128 * tokens per second).
"""

import statistics
import sys
import time

import numpy as np

import maxsim_cpu


def unit_rows(rng, rows, dim):
    x = rng.standard_normal((rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main(repetitions=7):
    rng = np.random.default_rng(123)
    lengths = rng.integers(128, 1537, size=1000)
    docs = [unit_rows(rng, int(n), 128) for n in lengths]
    query = unit_rows(rng, 32, 128)
    flops = 2.0 * 32 * 128 * float(lengths.sum())
    maxsim_cpu.maxsim_scores_variable(query, docs)  # warm-up
    rates = []
    for _ in range(repetitions):
        start = time.perf_counter()
        maxsim_cpu.maxsim_scores_variable(query, docs)
        rates.append(flops / (time.perf_counter() - start) * 1e-9)
    print(f"maxsim-cpu maxsim_scores_variable: best {max(rates):.1f} GFLOP/s, "
          f"median {statistics.median(rates):.1f} GFLOP/s over {repetitions} runs, "
          f"{int(lengths.sum())} tokens")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
