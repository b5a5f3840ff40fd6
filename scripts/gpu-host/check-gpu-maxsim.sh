#!/usr/bin/env bash
# One call on the GPU host: build, GPU MaxSim tests (C++ and Python), bench/bench_gpu_maxsim.py
# beside PyTorch and flash-maxsim, then compute-sanitizer memcheck and racecheck on the C++ GPU
# tests. The C++ tests run as dispatched by shape and with each tensor-core kernel family forced
# (RANK_RERANK_GPU_MAXSIM_KERNEL), so both families are checked whatever the dispatch picks.
# Every step runs even when an earlier one fails; logs go to $OUT.
set -o pipefail
out="${OUT:-/tmp/rank-rerank-out}"
mkdir -p "$out"
export RANK_RERANK_BUILD_TARGETS="${RANK_RERANK_BUILD_TARGETS:-test_gpu_maxsim _core}"
start=$SECONDS
. scripts/gpu-host/prepare.sh || exit 1
echo "prepare + build: $((SECONDS - start)) s"
set +e
status=0
step() { "$@" || { echo "FAILED: $*" >&2; status=1; }; }
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,memory.total --format=csv | tee "$out/gpu.txt"
test=build/release/tests/cpp/test_gpu_maxsim
for family in "" registers staged; do
  log="$out/test_gpu_maxsim${family:+_$family}.txt"
  step bash -c "RANK_RERANK_GPU_MAXSIM_KERNEL=$family $test 2>&1 | tee '$log' | grep -E 'FAILED|Failure|PASSED|SKIPPED' -A6 | head -n 40"
done
step bash -c ".venv/bin/python -m pytest -q -rs tests/python/test_gpu_maxsim.py 2>&1 | tee '$out/pytest_gpu.txt' | tail -n 25"
echo "tests done: $((SECONDS - start)) s"
step bash -c "timeout 150 .venv/bin/python bench/bench_gpu_maxsim.py --json '$out/bench_gpu_maxsim.json' 2>&1 | tee '$out/bench_gpu_maxsim.txt'"
echo "bench done: $((SECONDS - start)) s"
# Every kernel family runs in these; racecheck matters for the staged kernels' shared memory and
# the top-k sort's.
step bash -c "timeout 90 compute-sanitizer --tool memcheck --error-exitcode 1 $test 2>&1 | tee '$out/memcheck.txt' | tail -n 5"
step bash -c "RANK_RERANK_GPU_MAXSIM_KERNEL=registers timeout 40 compute-sanitizer --tool memcheck --error-exitcode 1 $test '--gtest_filter=*int8*:*float16_dim128*:GpuMaxSim.OneQuery*' 2>&1 | tee '$out/memcheck_registers.txt' | tail -n 5"
step bash -c "RANK_RERANK_GPU_MAXSIM_KERNEL=staged timeout 50 compute-sanitizer --tool racecheck --error-exitcode 1 $test '--gtest_filter=*int8_dim128*:*float16_dim128*:GpuMaxSim.*' 2>&1 | tee '$out/racecheck.txt' | tail -n 5"
echo "all done: $((SECONDS - start)) s"
exit $status
