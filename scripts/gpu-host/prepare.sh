#!/usr/bin/env bash
# Run on the (offline) GPU host from the repository root, sourced:
#   . scripts/gpu-host/prepare.sh
# Unpacks the carried Debian packages (.debs/) and wheels (.whl/), links .venv to the
# host's Python (torch, transformers, nanobind are already there), configures and builds the
# release preset with the host's own GPU architecture.
set -eo pipefail
ROOT="$(pwd)"
if [ -d .debs ]; then
  eval "$(bash .debs/offline-debs unpack .debs /opt/debs)"
  lib=/opt/debs/usr/lib/x86_64-linux-gnu
  export PKG_CONFIG_PATH="$lib/openblas-pthread/pkgconfig:$lib/pkgconfig:/opt/debs/usr/share/pkgconfig:${PKG_CONFIG_PATH:-}"
  # Debian's pkg-config files name absolute /usr paths; point them at the unpacked tree.
  find /opt/debs -name '*.pc' -exec sed -i -e 's|^prefix=/usr$|prefix=/opt/debs/usr|' \
    -e 's|=/usr/|=/opt/debs/usr/|' {} +
fi
# The host's python3 lives in its own virtualenv holding torch, nanobind and friends: use it as
# the project's .venv so the presets find it.
[ -e .venv ] || ln -s "$(python3 -c 'import sys; print(sys.prefix)')" .venv
if [ -d .whl ]; then
  .venv/bin/python -m pip install -q --no-index --no-deps --no-compile --no-cache-dir .whl/*.whl
fi
[ -f build/release/build.ninja ] || cmake --preset release -DCMAKE_CUDA_ARCHITECTURES=90a >/dev/null
# RANK_RERANK_BUILD_TARGETS (optional): build only these targets, to save a call's time.
cmake --build --preset release -j 16 ${RANK_RERANK_BUILD_TARGETS:+--target $RANK_RERANK_BUILD_TARGETS} >/dev/null
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$ROOT/build/release/python" > "$site/rank_rerank_dev.pth"
echo "prepare: built $(ls build/release/python/rank_rerank/_core*.so)"
