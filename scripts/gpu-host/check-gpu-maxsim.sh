#!/usr/bin/env bash
# One call on the GPU host: build, GPU MaxSim tests (C++ and Python), bench/bench_gpu_maxsim.py
# beside PyTorch and flash-maxsim, then compute-sanitizer memcheck and racecheck on the C++ GPU
# tests. Every step runs even when an earlier one fails; logs go to $OUT.
set -o pipefail
out="${OUT:-/tmp/rank-rerank-out}"
mkdir -p "$out"
. scripts/gpu-host/prepare.sh || exit 1
set +e
status=0
step() { "$@" || { echo "FAILED: $*" >&2; status=1; }; }
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,memory.total --format=csv | tee "$out/gpu.txt"
test=build/release/tests/cpp/test_gpu_maxsim
step bash -c "$test 2>&1 | tee '$out/test_gpu_maxsim.txt' | grep -E 'FAILED|Failure|PASSED|SKIPPED' -A6 | head -n 60"
step bash -c ".venv/bin/python -m pytest -q -rs tests/python/test_gpu_maxsim.py 2>&1 | tee '$out/pytest_gpu.txt' | tail -n 25"
step bash -c "timeout 300 .venv/bin/python bench/bench_gpu_maxsim.py --json '$out/bench_gpu_maxsim.json' 2>&1 | tee '$out/bench_gpu_maxsim.txt'"
# Every kernel family runs in these; racecheck matters for the shared memory of the top-k sort.
step bash -c "timeout 150 compute-sanitizer --tool memcheck --error-exitcode 1 $test 2>&1 | tee '$out/memcheck.txt' | tail -n 5"
step bash -c "timeout 90 compute-sanitizer --tool racecheck --error-exitcode 1 $test '--gtest_filter=*/3?:GpuMaxSim.*' 2>&1 | tee '$out/racecheck.txt' | tail -n 5"
exit $status
