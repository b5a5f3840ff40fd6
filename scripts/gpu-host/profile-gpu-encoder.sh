#!/usr/bin/env bash
# One call on the GPU host, for tuning the encoder: build, the GPU op and model tests, the
# per-op device-time tables of bench_gpu_forward --profile for the benchmark's three BERT-base
# shapes, then the GPU encoder benchmark side by side with PyTorch. Logs go to $OUT; the exit
# status says whether any step failed. Needs bench-tokenizer/ as check-gpu-encoder.sh does.
set -o pipefail
out="${OUT:-/tmp/rank-rerank-out}"
mkdir -p "$out"
. scripts/gpu-host/prepare.sh || exit 1
set +e
status=0
step() { "$@" || { echo "FAILED: $*" >&2; status=1; }; }
export PYTHONUNBUFFERED=1
step bash -c "build/release/tests/cpp/test_cuda_backend 2>&1 | tee '$out/test_cuda_backend.txt' \
  | grep -E 'FAILED|Failure|PASSED|SKIPPED' -A4 | tail -n 40"
step bash -c ".venv/bin/python -m pytest -q -rs tests/python/test_gpu_encoder.py 2>&1 \
  | tee '$out/pytest.txt' | tail -n 5"
# The benchmark's random-weight BERT-base, written once for the profiles below.
step .venv/bin/python -c "import sys; sys.path.insert(0, 'bench'); import bench_gpu_encoder as b; \
b.make_models('bench-tokenizer')" >/dev/null 2>&1
for shape in "256 128 128" "256 16 256" "1 128 128"; do
  set -- $shape
  step bash -c "build/release/bench/bench_gpu_forward /tmp/rr-gpu-bench/bert-base cuda float16 \
    $1 $2 $3 20 --profile 2>&1 | tee -a '$out/profile.txt'"
done
step bash -c "timeout 240 .venv/bin/python bench/bench_gpu_encoder.py --tokenizer bench-tokenizer \
  --repeats 20 --out '$out/bench.json' 2>&1 | tee '$out/bench.txt' | grep -v Warning | tail -n 12"
exit $status
