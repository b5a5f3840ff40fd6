#!/usr/bin/env bash
# The CPU backend's bfloat16 on the GPU host's Xeon (AMX): the bf16 kernel and model tests, where
# the AMX cases run rather than skip, then the CPU encoder benchmark in float32 and bfloat16
# against PyTorch (float32 and bfloat16) and ONNX Runtime (float32). Parts, in the order given:
#   tests       bf16 GEMM / model / MaxSim AMX tests (C++) and tests/python/test_cpu_bf16.py
#   minilm      MiniLM-L6 shape, 16 and 1 threads
#   bert16      BERT-base shape, 16 threads
#   bert1       BERT-base shape, 1 thread (3 repeats: a call's time is short)
# The summary tables come last. Needs the all-MiniLM-L6-v2 tokenizer files in bench-tokenizer/.
#   bash scripts/gpu-host/check-cpu-bf16.sh tests minilm bert16
set -o pipefail
out="${OUT:-/tmp/rank-rerank-out}"
mkdir -p "$out"
export RANK_RERANK_BUILD_TARGETS="${RANK_RERANK_BUILD_TARGETS:-_core test_models test_maxsim_kernel}"
. scripts/gpu-host/prepare.sh || exit 1
set +e
status=0
step() { "$@" || { echo "FAILED: $*" >&2; status=1; }; }
export PYTHONUNBUFFERED=1
bench() {  # log name, then the benchmark's options
  local log="$out/$1.txt"
  shift
  step bash -c "RANK_RERANK_MINILM_DIR='$PWD/bench-tokenizer' .venv/bin/python \
    bench/encoder_cpu_throughput.py --dtypes float32 bfloat16 --skip-load $* 2>&1 \
    | grep -v Warning > '$log'; grep -E '^[A-Z].*threads$|^  [A-Za-z]' '$log'"
}
{ lscpu | grep -E "Model name|^CPU\(s\)"; grep -o -w -E "amx_bf16|avx512_bf16" /proc/cpuinfo |
  sort -u | tr '\n' ' '; echo; } | tee "$out/cpu.txt"
for part in "$@"; do
  case "$part" in
  tests)
    step bash -c "build/release/tests/cpp/test_models --gtest_filter='*Bf16*:CpuBackendOps*' \
      2>&1 | tee '$out/test_bf16.txt' | grep -E '^\[  (PASSED|FAILED|SKIPPED) |tests ran'"
    step bash -c "build/release/tests/cpp/test_maxsim_kernel --gtest_filter='*Amx*:*AMX*' \
      2>&1 | tee '$out/test_maxsim_amx.txt' | grep -E '^\[  (PASSED|FAILED|SKIPPED) |tests ran'"
    step bash -c ".venv/bin/python -m pytest -q -rs tests/python/test_cpu_bf16.py 2>&1 \
      | tee '$out/pytest_bf16.txt' | tail -n 4"
    ;;
  minilm) bench minilm --models MiniLM-L6 --threads 16 1 --repeats 3 ;;
  bert16) bench bert16 --models BERT-base --threads 16 --repeats 3 ;;
  bert1) bench bert1 --models BERT-base --threads 1 --repeats 3 ;;
  *) echo "unknown part $part" >&2; status=1 ;;
  esac
done
cat "$out"/{minilm,bert16,bert1}.txt 2>/dev/null | grep -E '^\|' | awk '!seen[$0]++'
exit $status
