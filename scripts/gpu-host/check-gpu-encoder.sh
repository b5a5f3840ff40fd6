#!/usr/bin/env bash
# One call on the GPU host: build, the GPU backend and model tests, every C++ and Python test,
# compute-sanitizer memcheck and racecheck on the GPU test binary (small inputs), then the GPU
# encoder benchmark side by side with PyTorch / sentence-transformers / PyLate, and the per-op
# device-time table of the 256 x 128 forward. Every step runs
# even when an earlier one fails; the exit status says whether any failed. Logs go to $OUT.
# Needs the MiniLM tokenizer files in bench-tokenizer/ (tokenizer.json, vocab.txt, ...), which
# name the vocabulary of the random-weight benchmark models.
set -o pipefail
out="${OUT:-/tmp/rank-rerank-out}"
mkdir -p "$out"
. scripts/gpu-host/prepare.sh || exit 1
set +e
status=0
step() { "$@" || { echo "FAILED: $*" >&2; status=1; }; }
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv | tee "$out/gpu.txt"
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
gpu_tests=build/release/tests/cpp/test_cuda_backend
step bash -c "$gpu_tests 2>&1 | tee '$out/test_cuda_backend.txt' | grep -E 'FAILED|Failure|error|PASSED|SKIPPED' -A4 | tail -n 60"
# GPU_ENCODER_QUICK=1: GPU tests and the benchmark only (a re-run after the full checks passed).
if [ -z "${GPU_ENCODER_QUICK:-}" ]; then
step bash -c "ctest --preset release -j 16 -E 'Cuda' 2>&1 | tee '$out/ctest.txt' | tail -n 6"
step bash -c ".venv/bin/python -m pytest -q -rs tests/python 2>&1 | tee '$out/pytest.txt' | tail -n 15"
step bash -c "'$sanitizer' --tool memcheck --leak-check full --error-exitcode 9 $gpu_tests \
  --gtest_filter='DTypes/CudaOps.*:DTypes/CudaRowWidths.*:DTypes/CudaModels.TinyBert*:DTypes/CudaModels.Cross*:DTypes/CudaModels.Repeated*' \
  2>&1 | tee '$out/memcheck.txt' | tail -n 8"
step bash -c "'$sanitizer' --tool racecheck --error-exitcode 9 $gpu_tests \
  --gtest_filter='DTypes/CudaOps.PackedAttention*:DTypes/CudaRowWidths.*:DTypes/CudaOps.Pooling*' \
  2>&1 | tee '$out/racecheck.txt' | tail -n 8"
else
step bash -c ".venv/bin/python -m pytest -q -rs tests/python/test_gpu_encoder.py 2>&1 | tee '$out/pytest.txt' | tail -n 15"
fi
step bash -c ".venv/bin/python bench/bench_gpu_encoder.py --tokenizer bench-tokenizer --out '$out/bench.json' 2>&1 | tee '$out/bench.txt' | grep -v Warning | tail -n 30"
# Where the 256 x 128 forward's device time goes (the benchmark wrote the model).
step bash -c "build/release/bench/bench_gpu_forward /tmp/rr-gpu-bench/bert-base cuda float16 256 128 128 20 \
  --profile 2>&1 | tee '$out/profile.txt'"
exit $status
