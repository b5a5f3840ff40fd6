#!/usr/bin/env bash
# Short libFuzzer run: builds the `fuzz` preset (clang, ASan + UBSan) and runs every fuzzer
# for FUZZ_SECONDS (default 20) starting from its committed seed corpus in fuzz/corpus/<name>/.
# New inputs go to a scratch directory, so the committed corpus only changes by hand
# (`<fuzzer> -merge=1 -use_counters=0 fuzz/corpus/<name> <scratch>`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
seconds="${FUZZ_SECONDS:-20}"
[ -f build/fuzz/build.ninja ] || cmake --preset fuzz
cmake --build --preset fuzz -j 2
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# Crashing inputs are kept outside the scratch directory so they survive the run.
artifacts="$ROOT/build/fuzz/artifacts"
mkdir -p "$artifacts"
for corpus in fuzz/corpus/*/; do
  name="$(basename "$corpus")"
  mkdir -p "$scratch/$name"
  echo "fuzz: $name for ${seconds}s"
  # A finding fails the run; the crashing input lands in $artifacts.
  "build/fuzz/fuzz/$name" -max_total_time="$seconds" -max_len=4096 -print_final_stats=0 \
    -artifact_prefix="$artifacts/" "$scratch/$name" "$corpus" 2>"$scratch/$name.log" || {
    tail -n 60 "$scratch/$name.log"
    echo "fuzz: $name failed; reproduce with build/fuzz/fuzz/$name <artifact>" >&2
    exit 1
  }
  grep -E "^Done" "$scratch/$name.log" || true
done
