// What every Intel AMX kernel shares: the target attribute its functions are compiled with (the
// rest of the build stays generic x86-64) and the one tile shape they all use. Include only from
// x86-64 code that checked amx_bf16_available() / amx_int8_available() (core/cpu_features.hpp)
// before running it.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#define RANK_RERANK_AMX_TARGET                                                  \
  __attribute__((                                                               \
      target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,amx-tile,amx-bf16," \
             "amx-int8")))

namespace rank_rerank::detail {

inline constexpr std::size_t kTileRows = 16;   // rows of every tile
inline constexpr std::size_t kTileBytes = 64;  // bytes per tile row

// Palette 1 with all eight tiles at 16 rows x 64 bytes, for the calling thread (the
// configuration is per thread; _tile_release() drops it).
RANK_RERANK_AMX_TARGET inline void configure_full_tiles() {
  struct alignas(64) TileConfig {
    std::uint8_t palette = 1;
    std::uint8_t start_row = 0;
    std::uint8_t reserved[14] = {};
    std::uint16_t bytes_per_row[16] = {};
    std::uint8_t rows[16] = {};
  } config;
  for (int t = 0; t < 8; ++t) {
    config.bytes_per_row[t] = kTileBytes;
    config.rows[t] = kTileRows;
  }
  _tile_loadconfig(&config);
}

}  // namespace rank_rerank::detail
