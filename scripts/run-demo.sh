#!/usr/bin/env bash
# The main job: builds what is needed, then reranks the bundled sample corpus (Python
# standard-library docstrings) with the real all-MiniLM-L6-v2, as a dense bi-encoder and as late
# interaction over its token vectors, and prints the rankings and timings. Extra arguments go to
# examples/rerank_demo.py (e.g. --model colbert-ir/colbertv2.0, --device cpu).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
.venv/bin/python examples/rerank_demo.py "$@"
