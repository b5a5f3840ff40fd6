#!/usr/bin/env bash
# One call on the GPU host (16 Xeon cores, torch + PyLate available): build, run every C++ and
# Python test (the PyTorch / PyLate comparisons run here, they skip in CI), then the CPU scoring
# benchmarks side by side with NumPy, PyTorch and maxsim-cpu. Logs go to $OUT when set.
set -eo pipefail
out="${OUT:-/tmp/rank-rerank-out}"
mkdir -p "$out"
. scripts/gpu-host/prepare.sh
lscpu | grep -E "Model name|^CPU\(s\)|Thread|MHz" | tee "$out/cpu.txt"
ctest --preset release -j 16 2>&1 | tee "$out/ctest.txt" | tail -n 4
.venv/bin/python -m pytest -q -rs tests/python 2>&1 | tee "$out/pytest.txt" | tail -n 12
build/release/bench/bench_maxsim_kernel --benchmark_min_time=0.2 2>&1 | tee "$out/bench_maxsim_kernel.txt" | tail -n 30
build/release/bench/bench_pooling --benchmark_min_time=0.2 2>&1 | tee "$out/bench_pooling.txt" | tail -n 12
.venv/bin/python bench/bench_maxsim.py --threads 1 2 4 8 16 --repeats 5 2>&1 | tee "$out/bench_maxsim.txt"
