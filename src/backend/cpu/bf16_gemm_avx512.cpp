// The AVX512_BF16 kernel of the bf16 linear layers, and the rounding of activations to bf16 that
// both kernels share (every AMX CPU has AVX512_BF16 too).
//
// vdpbf16ps multiplies 16 pairs of bf16 by 16 pairs and adds both products to 16 float32 lanes:
// with one activation pair (x[2p], x[2p + 1]) broadcast to every lane and one 64-byte row of a
// weight panel, lane n gains x[2p] W[n][2p] + x[2p + 1] W[n][2p + 1]. A micro-tile keeps 8 rows
// x 3 panels of accumulators in registers (24 of the 32, plus 3 weight rows and a broadcast),
// so each weight row loaded serves 8 rows and each broadcast 3 panels.
#include <cstring>

#include "backend/cpu/bf16_gemm_kernels.hpp"
#include "backend/cpu/bf16_linear.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <immintrin.h>

#include <algorithm>

#define RANK_RERANK_BF16_TARGET \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

namespace rank_rerank::backend::cpu {
namespace {

constexpr std::size_t kTileRows = 8;
constexpr std::size_t kTilePanels = 3;

__mmask16 first_lanes(std::size_t count) {
  return count >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << count) - 1);
}

// y rows [0, valid_rows) and columns [0, valid_cols) (past 16 * panels: all) of one micro-tile.
// a: its first activation row; w: its first panel; `pairs` input pairs per row and panel row.
template <std::size_t panels>
RANK_RERANK_BF16_TARGET void micro_tile(const std::uint16_t* a, std::size_t pairs,
                                        const std::uint16_t* w, std::size_t valid_rows,
                                        std::size_t valid_cols, float* y, std::size_t ldy) {
  const std::size_t a_row = 2 * pairs;                  // uint16 per activation row
  const std::size_t panel = pairs * 2 * kPanelColumns;  // uint16 per panel
  __m512 acc[kTileRows][panels];
  for (std::size_t r = 0; r < kTileRows; ++r)
    for (std::size_t c = 0; c < panels; ++c) acc[r][c] = _mm512_setzero_ps();
  for (std::size_t p = 0; p < pairs; ++p) {
    __m512bh weights[panels];
    for (std::size_t c = 0; c < panels; ++c)
      weights[c] = (__m512bh)_mm512_loadu_si512(w + c * panel + p * 2 * kPanelColumns);
    for (std::size_t r = 0; r < kTileRows; ++r) {
      std::int32_t pair;
      std::memcpy(&pair, a + r * a_row + 2 * p, sizeof pair);
      const __m512bh x = (__m512bh)_mm512_set1_epi32(pair);
      for (std::size_t c = 0; c < panels; ++c)
        acc[r][c] = _mm512_dpbf16_ps(acc[r][c], x, weights[c]);
    }
  }
  for (std::size_t r = 0; r < valid_rows; ++r)
    for (std::size_t c = 0; c < panels && c * kPanelColumns < valid_cols; ++c)
      _mm512_mask_storeu_ps(y + r * ldy + c * kPanelColumns,
                            first_lanes(valid_cols - c * kPanelColumns), acc[r][c]);
}

}  // namespace

RANK_RERANK_BF16_TARGET void round_rows_to_bf16(const float* x, std::size_t rows, std::size_t in,
                                                std::size_t padded_rows, std::size_t depth,
                                                std::uint16_t* out) {
  for (std::size_t r = 0; r < padded_rows; ++r) {
    std::uint16_t* row = out + r * depth;
    std::size_t k = 0;
    if (r < rows) {
      // depth is a multiple of 32, so the last (masked) group of 16 still fits the row.
      for (; k < in; k += 16) {
        const __m512 v = _mm512_maskz_loadu_ps(first_lanes(in - k), x + r * in + k);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + k), (__m256i)_mm512_cvtneps_pbh(v));
      }
    }
    std::fill(row + k, row + depth, std::uint16_t{0});
  }
}

RANK_RERANK_BF16_TARGET void gemm_bf16_avx512(const Bf16Rows& a, const std::uint16_t* packed,
                                              std::size_t c0, std::size_t c1, float* y,
                                              std::size_t ldy) {
  const std::size_t pairs = a.depth / 2;
  const std::size_t first = c0 / kPanelColumns;
  const std::size_t end = (c1 + kPanelColumns - 1) / kPanelColumns;
  // Panels outer, rows inner: a group of panels (3 x 12 KiB at in = 384) stays in cache while
  // every row block passes over it.
  for (std::size_t p0 = first; p0 < end; p0 += kTilePanels) {
    const std::uint16_t* w = packed + p0 * a.depth * kPanelColumns;
    const std::size_t valid_cols = c1 - p0 * kPanelColumns;
    float* y_cols = y + (p0 * kPanelColumns - c0);
    for (std::size_t r0 = 0; r0 < a.rows; r0 += kTileRows) {
      const std::uint16_t* rows = a.data + r0 * a.depth;
      const std::size_t valid_rows = std::min(kTileRows, a.rows - r0);
      float* out = y_cols + r0 * ldy;
      switch (std::min(kTilePanels, end - p0)) {
        case 3:
          micro_tile<3>(rows, pairs, w, valid_rows, valid_cols, out, ldy);
          break;
        case 2:
          micro_tile<2>(rows, pairs, w, valid_rows, valid_cols, out, ldy);
          break;
        default:
          micro_tile<1>(rows, pairs, w, valid_rows, valid_cols, out, ldy);
      }
    }
  }
}

}  // namespace rank_rerank::backend::cpu

#else

namespace rank_rerank::backend::cpu {

void round_rows_to_bf16(const float*, std::size_t, std::size_t, std::size_t, std::size_t,
                        std::uint16_t*) {}
void gemm_bf16_avx512(const Bf16Rows&, const std::uint16_t*, std::size_t, std::size_t, float*,
                      std::size_t) {}

}  // namespace rank_rerank::backend::cpu

#endif
