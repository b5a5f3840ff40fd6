#!/usr/bin/env bash
# The main job: builds what is needed, then reranks a sample corpus of token embeddings and
# prints rankings and timings.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
.venv/bin/python examples/rerank_demo.py
