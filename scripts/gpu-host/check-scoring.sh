#!/usr/bin/env bash
# One call on the GPU host (16 Xeon cores, torch + PyLate available): build, run every C++ and
# Python test (the PyTorch / PyLate comparisons run here, they skip in CI), then the CPU scoring
# benchmarks side by side with NumPy, PyTorch and maxsim-cpu. Every step runs even when an
# earlier one fails; the exit status says whether any failed. Logs go to $OUT when set.
set -o pipefail
out="${OUT:-/tmp/rank-rerank-out}"
mkdir -p "$out"
. scripts/gpu-host/prepare.sh || exit 1
set +e
status=0
step() { "$@" || { echo "FAILED: $*" >&2; status=1; }; }
lscpu | grep -E "Model name|^CPU\(s\)|Thread|MHz" | tee "$out/cpu.txt"
step bash -c "ctest --preset release -j 16 2>&1 | tee '$out/ctest.txt' | tail -n 4"
step bash -c ".venv/bin/python -m pytest -q -rs tests/python 2>&1 | tee '$out/pytest.txt' | tail -n 12"
step bash -c "build/release/bench/bench_maxsim_kernel --benchmark_min_time=0.2 2>&1 | tee '$out/bench_maxsim_kernel.txt' | tail -n 30"
step bash -c "build/release/bench/bench_pooling --benchmark_min_time=0.2 2>&1 | tee '$out/bench_pooling.txt' | tail -n 12"
step bash -c ".venv/bin/python bench/bench_maxsim.py --threads 1 2 4 8 16 --repeats 5 2>&1 | tee '$out/bench_maxsim.txt'"
exit $status
