#!/usr/bin/env bash
# Every test: C++ (GoogleTest through CTest), Python (pytest), and a short libFuzzer run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
ctest --preset release -j "$(nproc)"
.venv/bin/python -m pytest -q tests/python
bash tests/install/check_install.sh
bash scripts/run-fuzz.sh
