#!/usr/bin/env bash
# One or two calls on the GPU host. Part "tests": build, every C++ and Python test with the GPU
# present (the CUDA, PyTorch and PyLate comparisons run here; they skip in CI), the CLI on the
# GPU. Part "gpu-bench": the GPU encoder against PyTorch / sentence-transformers and the
# multi-GPU benchmark (one device listed twice where there is one). Part "cpu-bench": the CPU benchmarks that need the host's 16 Xeon cores and PyTorch /
# ONNX Runtime: tokenizer batch scaling, encoder throughput vs PyTorch and ONNX Runtime, MaxSim
# thread scaling as an AVX2-only CPU. Every step runs even when an earlier one fails; the exit
# status says whether any failed. Logs go to $OUT. Needs the all-MiniLM-L6-v2 tokenizer files in
# bench-tokenizer/ (tokenizer.json, vocab.txt, tokenizer_config.json, special_tokens_map.json).
#   bash scripts/gpu-host/check-all.sh tests|gpu-bench|cpu-bench
set -o pipefail
out="${OUT:-/tmp/rank-rerank-out}"
mkdir -p "$out"
. scripts/gpu-host/prepare.sh || exit 1
set +e
status=0
step() { "$@" || { echo "FAILED: $*" >&2; status=1; }; }
export PYTHONUNBUFFERED=1
cli=build/release/cli/rank-rerank
case "${1:-tests}" in
tests)
  nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$out/gpu.txt"
  step bash -c "ctest --preset release -j 8 --output-on-failure 2>&1 | tee '$out/ctest.txt' | grep -E 'tests passed|Failed|\\*\\*\\*Failed|Exception' | tail -n 20"
  step bash -c ".venv/bin/python -m pytest -q -rs tests/python 2>&1 | tee '$out/pytest.txt' | tail -n 20"
  step bash -c "$cli devices 2>&1 | tee '$out/devices.txt'"
  model=tests/fixtures/models/colbert_tiny_roberta
  step bash -c "printf '%s\n' '{\"query\": \"what is a tensor\", \"documents\": [\"a tensor is an array\", \"cats sleep\"]}' \
    | $cli rerank -m $model --device cuda --dtype float16 --stats 2>&1 | tee '$out/cli_rerank_gpu.txt'"
  ;;
gpu-bench)
  step bash -c ".venv/bin/python bench/bench_gpu_encoder.py --tokenizer bench-tokenizer --out '$out/bench_gpu_encoder.json' 2>&1 | tee '$out/bench_gpu_encoder.txt' | grep -v Warning | tail -n 30"
  step bash -c ".venv/bin/python bench/bench_multi_gpu.py --tokenizer bench-tokenizer --out '$out/bench_multi_gpu.json' 2>&1 | tee '$out/bench_multi_gpu.txt' | grep -v Warning | tail -n 20"
  ;;
cpu-bench)
  # The benchmarks need only MiniLM's tokenizer (the tests read this variable as the whole model).
  export RANK_RERANK_MINILM_DIR="$PWD/bench-tokenizer"
  lscpu | grep -E "Model name|^CPU\(s\)" | tee "$out/cpu.txt"
  step bash -c ".venv/bin/python bench/tokenizer_speed.py --mb 8 --repeat 3 --threads 2 4 8 16 2>&1 | tee '$out/tokenizer_speed.txt'"
  step bash -c "build/release/bench/bench_maxsim_kernel --force-avx2 --benchmark_filter=_threads --benchmark_min_time=0.2 2>&1 | tee '$out/maxsim_avx2_threads.txt' | tail -n 16"
  step bash -c ".venv/bin/python bench/encoder_cpu_throughput.py --models MiniLM-L6 --threads 1 4 16 --repeats 5 --dtypes float32 bfloat16 2>&1 | tee '$out/encoder_cpu_minilm.txt' | grep -v Warning | tail -n 30"
  step bash -c ".venv/bin/python bench/encoder_cpu_throughput.py --models BERT-base --threads 16 --repeats 5 --dtypes float32 bfloat16 2>&1 | tee '$out/encoder_cpu_bert.txt' | grep -v Warning | tail -n 30"
  ;;
esac
exit $status
