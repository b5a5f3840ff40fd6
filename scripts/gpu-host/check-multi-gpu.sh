#!/usr/bin/env bash
# One call on the GPU host for multi-GPU (docs/multi_gpu.md): build what is needed, the multi-GPU
# tests (C++ and Python, a one-GPU host lists the GPU twice), the tests of the code they touch
# (CUDA backend and models, GPU MaxSim, the Reranker now placed on the GPU, Python GPU encoder), then bench/bench_multi_gpu.py.
# Every step runs even when an earlier one fails; the exit status says whether any failed. Logs
# go to $OUT. Needs a BERT tokenizer in bench-tokenizer/ for the benchmark's random-weight models.
set -o pipefail
out="${OUT:-/tmp/rank-rerank-out}"
mkdir -p "$out"
export RANK_RERANK_BUILD_TARGETS="_core test_multi_gpu test_multi_device test_cuda_backend test_gpu_maxsim test_pipeline"
. scripts/gpu-host/prepare.sh || exit 1
set +e
status=0
step() { "$@" || { echo "FAILED: $*" >&2; status=1; }; }
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt"
t=build/release/tests/cpp
step bash -c "$t/test_multi_device 2>&1 | tee '$out/test_multi_device.txt' | tail -n 3"
step bash -c "$t/test_multi_gpu 2>&1 | tee '$out/test_multi_gpu.txt' | grep -E 'FAILED|Failure|error|PASSED|SKIPPED|OK \]' -A3 | tail -n 40"
step bash -c "$t/test_cuda_backend 2>&1 | tee '$out/test_cuda_backend.txt' | grep -E 'FAILED|Failure|PASSED|SKIPPED' -A3 | tail -n 20"
step bash -c "$t/test_pipeline 2>&1 | tee '$out/test_pipeline.txt' | grep -E 'FAILED|Failure|PASSED|SKIPPED' -A3 | tail -n 20"
step bash -c "$t/test_gpu_maxsim 2>&1 | tee '$out/test_gpu_maxsim.txt' | grep -E 'FAILED|Failure|PASSED|SKIPPED' -A3 | tail -n 10"
step bash -c ".venv/bin/python -m pytest -q -rs tests/python/test_multi_gpu.py tests/python/test_gpu_encoder.py tests/python/test_gpu_maxsim.py tests/python/test_reranker.py 2>&1 | tee '$out/pytest.txt' | tail -n 15"
step bash -c ".venv/bin/python bench/bench_multi_gpu.py --tokenizer bench-tokenizer --out '$out/bench_multi_gpu.json' 2>&1 | tee '$out/bench_multi_gpu.txt' | grep -v Warning | tail -n 30"
exit $status
