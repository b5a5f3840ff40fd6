// The Intel AMX kernel of the bf16 linear layers.
//
// Activations are the A operand: 16 rows of the rounded buffer x 32 input columns (64 bytes) are
// one tile, read in place with the buffer's row pitch. Weight panels are already in the B
// layout: 16 consecutive 64-byte rows of a panel (16 input pairs x 16 output columns) are one
// tile. Each block computes 32 rows x 32 columns in four C tiles (2 A tiles x 2 B tiles, the
// eight tiles of palette 1), accumulating float32 over the whole depth.
//
// Loop nest (measured on a Sapphire Rapids Xeon against the earlier panels-outer nest, which
// streamed the whole activation chunk from L2 for every pair of panels and finished bias and
// activation in a separate pass over y in memory): the output columns go in blocks whose weights
// fit kWeightBlockBytes and stay in L2; for each block of 32 rows, the row block's A tiles stay in
// L1 while the block's panel pairs pass over them; the finished 32 rows x block columns land in a
// scratch buffer, from which they are copied to y and given bias and activation while in cache.
// Each tile load sits right before the first product that needs it, since AMX tile registers
// are not renamed: a product waits only for its own operands.
#include "backend/cpu/bf16_gemm_kernels.hpp"
#include "backend/cpu/bf16_linear.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_kernels.hpp"
#include "core/amx_tiles.hpp"

namespace rank_rerank::backend::cpu {
namespace {

using detail::kTileBytes;
using detail::kTileRows;

static_assert(kRowBlock == 2 * kTileRows && kDepthStep * 2 == kTileBytes &&
              kPanelColumns == kTileRows);

// Weights of one column block (it shares the core's L2 with the activation chunk and the other
// hyperthread's block).
constexpr std::size_t kWeightBlockBytes = 512 * 1024;

// uint16 of one B tile (16 rows of 64 bytes): the step from one depth step to the next in a panel.
constexpr std::size_t kBTileStep = kTileRows * kTileBytes / sizeof(std::uint16_t);

// Rows [0, 32) of the row block (A tiles from `top` and `bottom`, row pitch `pitch` bytes) times
// the panel at `b0` and, when kPair, the next one `panel_size` further: the 32 x 16 or 32 x 32
// sums go to `scratch` (row pitch `scratch_pitch` bytes).
template <bool kPair>
RANK_RERANK_AMX_TARGET void row_block_times_panels(const std::uint16_t* top,
                                                   const std::uint16_t* bottom, std::size_t pitch,
                                                   const std::uint16_t* b0, std::size_t panel_size,
                                                   std::size_t steps, float* scratch,
                                                   std::size_t scratch_pitch) {
  const std::uint16_t* b1 = b0 + panel_size;
  _tile_zero(0);
  _tile_zero(2);
  if (kPair) {
    _tile_zero(1);
    _tile_zero(3);
  }
  for (std::size_t s = 0; s < steps; ++s) {
    _tile_loadd(4, top + s * kDepthStep, pitch);
    _tile_loadd(6, b0 + s * kBTileStep, kTileBytes);
    _tile_dpbf16ps(0, 4, 6);
    if (kPair) {
      _tile_loadd(7, b1 + s * kBTileStep, kTileBytes);
      _tile_dpbf16ps(1, 4, 7);
    }
    _tile_loadd(5, bottom + s * kDepthStep, pitch);
    _tile_dpbf16ps(2, 5, 6);
    if (kPair) _tile_dpbf16ps(3, 5, 7);
  }
  float* lower = scratch + kTileRows * scratch_pitch / sizeof(float);
  _tile_stored(0, scratch, scratch_pitch);
  _tile_stored(2, lower, scratch_pitch);
  if (kPair) {
    _tile_stored(1, scratch + kPanelColumns, scratch_pitch);
    _tile_stored(3, lower + kPanelColumns, scratch_pitch);
  }
}

}  // namespace

RANK_RERANK_AMX_TARGET void gemm_bf16_amx(const Bf16Rows& a, const std::uint16_t* packed,
                                          std::size_t c0, std::size_t c1, float* y, std::size_t ldy,
                                          const float* bias, Activation activation) {
  const std::size_t pitch = a.depth * sizeof(std::uint16_t);
  const std::size_t steps = a.depth / kDepthStep;
  const std::size_t panel_size = a.depth * kPanelColumns;  // uint16 per panel
  const std::size_t first = c0 / kPanelColumns;
  const std::size_t end = (c1 + kPanelColumns - 1) / kPanelColumns;
  const std::size_t block_panels =
      std::max<std::size_t>(2, kWeightBlockBytes / (panel_size * sizeof(std::uint16_t)) / 2 * 2);
  // Grows to the widest block this thread has seen and stays (as the activation buffer does).
  thread_local std::vector<float> scratch;
  const std::size_t scratch_width = std::min(block_panels, end - first) * kPanelColumns;
  if (scratch.size() < kRowBlock * scratch_width) scratch.resize(kRowBlock * scratch_width);
  detail::configure_full_tiles();
  for (std::size_t p0 = first; p0 < end; p0 += block_panels) {
    const std::size_t p1 = std::min(end, p0 + block_panels);
    const std::size_t width = (p1 - p0) * kPanelColumns;
    const std::size_t col0 = p0 * kPanelColumns;
    const std::size_t cols = std::min(c1, p1 * kPanelColumns) - col0;
    for (std::size_t r0 = 0; r0 < a.rows; r0 += kRowBlock) {
      const std::uint16_t* top = a.data + r0 * a.depth;
      const std::uint16_t* bottom = top + kTileRows * a.depth;
      for (std::size_t p = p0; p < p1; p += 2) {
        float* out = scratch.data() + (p - p0) * kPanelColumns;
        if (p + 1 < p1)
          row_block_times_panels<true>(top, bottom, pitch, packed + p * panel_size, panel_size,
                                       steps, out, width * sizeof(float));
        else
          row_block_times_panels<false>(top, bottom, pitch, packed + p * panel_size, panel_size,
                                        steps, out, width * sizeof(float));
      }
      const std::size_t rows = std::min(kRowBlock, a.rows - r0);
      float* block = y + r0 * ldy + (col0 - c0);
      for (std::size_t r = 0; r < rows; ++r)
        std::memcpy(block + r * ldy, scratch.data() + r * width, cols * sizeof(float));
      bias_activation(block, rows, cols, ldy, bias == nullptr ? nullptr : bias + col0, activation);
    }
  }
  _tile_release();
}

}  // namespace rank_rerank::backend::cpu

#else

namespace rank_rerank::backend::cpu {

void gemm_bf16_amx(const Bf16Rows&, const std::uint16_t*, std::size_t, std::size_t, float*,
                   std::size_t, const float*, Activation) {}

}  // namespace rank_rerank::backend::cpu

#endif
