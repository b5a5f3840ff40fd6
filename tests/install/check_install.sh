#!/usr/bin/env bash
# Installs the release build into a scratch prefix, then builds and runs a consumer with
# find_package(rank_rerank) and with pkg-config.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/build/install-check/prefix"
rm -rf "$ROOT/build/install-check"
cmake --install "$ROOT/build/release" --prefix "$PREFIX" >/dev/null
cmake -S "$ROOT/tests/install" -B "$ROOT/build/install-check/cmake" -G Ninja \
  -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$ROOT/build/install-check/cmake" >/dev/null
"$ROOT/build/install-check/cmake/consumer"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# shellcheck disable=SC2046
c++ -std=c++20 "$ROOT/tests/install/consumer.cpp" -o "$ROOT/build/install-check/consumer-pc" \
  $(pkg-config --cflags rank_rerank) $(pkg-config --static --libs rank_rerank)
"$ROOT/build/install-check/consumer-pc"
# examples/cpp_embedding: the documented embedding example, built against the same prefix and run
# on a committed fixture model.
cmake -S "$ROOT/examples/cpp_embedding" -B "$ROOT/build/install-check/example" -G Ninja \
  -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$ROOT/build/install-check/example" >/dev/null
"$ROOT/build/install-check/example/rerank_example" "$ROOT/tests/fixtures/models/colbert_tiny_pylate" \
  "cat on mat" "the cat sat on the mat" "stock market rates" 2>/dev/null | grep -q "the cat sat"
echo "install check: consumer, pkg-config consumer and examples/cpp_embedding ok"
