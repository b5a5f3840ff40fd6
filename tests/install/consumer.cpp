// Built against an installed rank_rerank, twice: through CMake and through pkg-config.
#include <rank_rerank/tensor.hpp>

#include <cstdio>

int main() {
  const bool ok = rank_rerank::row_bytes(rank_rerank::DType::bit, 128) == 16;
  std::printf("installed rank_rerank %s\n", ok ? "works" : "is broken");
  return ok ? 0 : 1;
}
