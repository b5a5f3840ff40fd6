// The Intel AMX kernel of the bf16 linear layers.
//
// Activations are the A operand: 16 rows of the rounded buffer x 32 input columns (64 bytes) are
// one tile, read in place with the buffer's row pitch. Weight panels are already in the B
// layout: 16 consecutive 64-byte rows of a panel (16 input pairs x 16 output columns) are one
// tile. Each block computes 32 rows x 32 columns in four C tiles (2 A tiles x 2 B tiles, the
// eight tiles of palette 1), accumulating float32 over the whole depth before storing.
#include "backend/cpu/bf16_gemm_kernels.hpp"
#include "backend/cpu/bf16_linear.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <algorithm>

#include "core/amx_tiles.hpp"

namespace rank_rerank::backend::cpu {
namespace {

using detail::kTileBytes;
using detail::kTileRows;

static_assert(kRowBlock == 2 * kTileRows && kDepthStep * 2 == kTileBytes &&
              kPanelColumns == kTileRows);

// Rows [row, row + 16) x panel columns of one C tile, stored to `tile` (16 x 16 float32), into
// y (columns from c0) where they are real rows and columns.
RANK_RERANK_AMX_TARGET void copy_tile(const float* tile, std::size_t row, std::size_t rows,
                                      std::size_t panel, std::size_t c0, std::size_t c1, float* y,
                                      std::size_t ldy) {
  const std::size_t col = panel * kPanelColumns;
  if (row >= rows || col >= c1) return;
  const std::size_t valid_cols = std::min(kPanelColumns, c1 - col);
  const auto mask = static_cast<__mmask16>((1u << valid_cols) - 1);
  for (std::size_t r = 0; r < std::min(kTileRows, rows - row); ++r)
    _mm512_mask_storeu_ps(y + (row + r) * ldy + (col - c0), mask,
                          _mm512_load_ps(tile + r * kPanelColumns));
}

}  // namespace

RANK_RERANK_AMX_TARGET void gemm_bf16_amx(const Bf16Rows& a, const std::uint16_t* packed,
                                          std::size_t c0, std::size_t c1, float* y,
                                          std::size_t ldy) {
  alignas(64) float c[4][kTileRows * kPanelColumns];
  const std::size_t pitch = a.depth * sizeof(std::uint16_t);
  const std::size_t steps = a.depth / kDepthStep;
  const std::size_t panel_size = a.depth * kPanelColumns;  // uint16 per panel
  const std::size_t b_step = kTileRows * kTileBytes / sizeof(std::uint16_t);
  const std::size_t first = c0 / kPanelColumns;
  const std::size_t end = (c1 + kPanelColumns - 1) / kPanelColumns;
  detail::configure_full_tiles();
  for (std::size_t p0 = first; p0 < end; p0 += 2) {
    const bool pair = p0 + 1 < end;
    const std::uint16_t* b0 = packed + p0 * panel_size;
    const std::uint16_t* b1 = b0 + panel_size;
    for (std::size_t r0 = 0; r0 < a.rows; r0 += kRowBlock) {
      const std::uint16_t* top = a.data + r0 * a.depth;
      const std::uint16_t* bottom = top + kTileRows * a.depth;
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      for (std::size_t s = 0; s < steps; ++s) {
        _tile_loadd(4, top + s * kDepthStep, pitch);
        _tile_loadd(5, bottom + s * kDepthStep, pitch);
        _tile_loadd(6, b0 + s * b_step, kTileBytes);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(2, 5, 6);
        if (!pair) continue;
        _tile_loadd(7, b1 + s * b_step, kTileBytes);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(3, 5, 7);
      }
      _tile_stored(0, c[0], kTileBytes);
      _tile_stored(2, c[2], kTileBytes);
      copy_tile(c[0], r0, a.rows, p0, c0, c1, y, ldy);
      copy_tile(c[2], r0 + kTileRows, a.rows, p0, c0, c1, y, ldy);
      if (!pair) continue;
      _tile_stored(1, c[1], kTileBytes);
      _tile_stored(3, c[3], kTileBytes);
      copy_tile(c[1], r0, a.rows, p0 + 1, c0, c1, y, ldy);
      copy_tile(c[3], r0 + kTileRows, a.rows, p0 + 1, c0, c1, y, ldy);
    }
  }
  _tile_release();
}

}  // namespace rank_rerank::backend::cpu

#else

namespace rank_rerank::backend::cpu {

void gemm_bf16_amx(const Bf16Rows&, const std::uint16_t*, std::size_t, std::size_t, float*,
                   std::size_t) {}

}  // namespace rank_rerank::backend::cpu

#endif
