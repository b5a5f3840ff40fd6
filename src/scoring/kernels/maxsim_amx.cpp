// MaxSim on Intel AMX tiles (Sapphire Rapids and later), for bf16 and int8 documents.
//
// The document block is the A operand, read in place: 16 consecutive rows of a row-major
// document are exactly a tile of 16 rows x 64 bytes (32 bf16 or 64 int8 dimensions), with the
// row pitch as stride. The query is the B operand, and the transposed layouts PreparedQuery
// already builds for the AVX-512 kernels are AMX's "VNNI" B layout: 16 rows of (bf16 pair | int8
// quad) x 16 query rows, 64 bytes each. One tile product then gives the similarities of 16
// document tokens with 16 query tokens; the maxima over document tokens are taken with AVX-512
// on the tile stored to L1.
//
// Numerics are those of the AVX-512 kernels in maxsim_native.cpp: tdpbf16ps multiplies bf16
// exactly and accumulates in float32 (bf16 subnormals read as zero), with the query rounded to
// bf16; tdpbssd multiplies int8 by int8 into int32 (exact), scaled by the query and document
// scales afterwards, so the document bytes need no +128 offset here.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/amx_tiles.hpp"
#include "rank_rerank/quantize.hpp"
#include "scoring/kernels/kernel_entry.hpp"

namespace rank_rerank::detail {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

namespace {

constexpr std::size_t kBlockRows = 2 * kTileRows;
constexpr __mmask16 kAllLanes = 0xffff;

// acc = max(acc, x) lane by lane, where a NaN in either stays (as the float kernels do).
RANK_RERANK_AMX_TARGET inline __m512 sticky_max(__m512 acc, __m512 x) {
  // The all-lanes masked forms spell out the pass-through operand that the plain intrinsics
  // leave "undefined", which GCC 12 reports as possibly uninitialised.
  const __m512 larger = _mm512_mask_max_ps(acc, kAllLanes, x, acc);  // acc when either is NaN
  return _mm512_mask_mov_ps(larger, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

enum class Kind { bf16, int8 };

// Blocks ahead of the one being scored whose rows are prefetched.
constexpr std::size_t kPrefetchBlocks = 2;

void prefetch_rows(const std::uint8_t* rows, std::size_t pitch, std::size_t first,
                   std::size_t total) {
  if (first >= total) return;
  const std::size_t count = std::min(kBlockRows, total - first);
  const std::uint8_t* begin = rows + first * pitch;
  for (std::size_t byte = 0; byte < count * pitch; byte += 64)
    _mm_prefetch(reinterpret_cast<const char*>(begin + byte), _MM_HINT_T0);
}

// Similarities of up to 32 document rows with the 16 query rows of one group, as stored from
// the two C tiles (rows 0-15 and 16-31), folded into the group's running maxima.
template <Kind kind>
RANK_RERANK_AMX_TARGET void fold_group(const void* top, const void* bottom, std::size_t valid,
                                       const float* doc_scales, const float* query_scales,
                                       float* running) {
  __m512 acc = _mm512_loadu_ps(running);
  const __m512 qscale = kind == Kind::int8 ? _mm512_loadu_ps(query_scales) : _mm512_setzero_ps();
  for (std::size_t r = 0; r < valid; ++r) {
    const void* tile = r < kTileRows ? top : bottom;
    const std::size_t row = r % kTileRows;
    __m512 sims;
    if constexpr (kind == Kind::bf16) {
      sims = _mm512_load_ps(static_cast<const float*>(tile) + row * kTileRows);
    } else {
      const __m512i dots =
          _mm512_load_si512(static_cast<const std::int32_t*>(tile) + row * kTileRows);
      sims = _mm512_mul_ps(_mm512_mul_ps(_mm512_mask_cvtepi32_ps(qscale, kAllLanes, dots), qscale),
                           _mm512_set1_ps(doc_scales[r]));
    }
    acc = sticky_max(acc, sims);
  }
  _mm512_storeu_ps(running, acc);
}

// One block of 32 document rows (row pitch `pitch` bytes) against every query group, two
// groups at a time: C tiles 0/1 hold rows 0-15 against groups g / g+1, C tiles 2/3 rows 16-31.
template <Kind kind>
RANK_RERANK_AMX_TARGET void score_block(const PreparedQuery::Impl& q, const std::uint8_t* block,
                                        std::size_t pitch, std::size_t valid,
                                        const float* doc_scales, float* running) {
  alignas(64) std::uint8_t c[4][kTileRows * kTileBytes];
  const std::size_t row_bytes = kind == Kind::bf16 ? q.dim * 2 : q.dim;
  const std::size_t steps = row_bytes / kTileBytes;
  const std::uint32_t* packed = kind == Kind::bf16 ? q.bf16_pairs.get() : q.int8_quads.get();
  const std::size_t words_per_row = kind == Kind::bf16 ? q.dim / 2 : q.dim / 4;
  const float* scales = kind == Kind::int8 ? q.int8_scales.data() : nullptr;
  for (std::size_t g = 0; g < q.groups; g += 2) {
    const bool pair = g + 1 < q.groups;
    const std::uint32_t* b0 = packed + g * words_per_row * kQueryGroup;
    const std::uint32_t* b1 = b0 + words_per_row * kQueryGroup;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (std::size_t s = 0; s < steps; ++s) {
      const std::size_t b_offset = s * kTileRows * kQueryGroup;  // 16 B-tile rows per step
      _tile_loadd(4, block + s * kTileBytes, pitch);
      _tile_loadd(5, block + kTileRows * pitch + s * kTileBytes, pitch);
      _tile_loadd(6, b0 + b_offset, kTileBytes);
      if constexpr (kind == Kind::bf16) {
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(2, 5, 6);
      } else {
        _tile_dpbssd(0, 4, 6);
        _tile_dpbssd(2, 5, 6);
      }
      if (!pair) continue;
      _tile_loadd(7, b1 + b_offset, kTileBytes);
      if constexpr (kind == Kind::bf16) {
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(3, 5, 7);
      } else {
        _tile_dpbssd(1, 4, 7);
        _tile_dpbssd(3, 5, 7);
      }
    }
    _tile_stored(0, c[0], kTileBytes);
    _tile_stored(2, c[2], kTileBytes);
    const std::size_t row0 = g * kQueryGroup;
    fold_group<kind>(c[0], c[2], valid, doc_scales, scales ? scales + row0 : nullptr,
                     running + row0);
    if (!pair) continue;
    _tile_stored(1, c[1], kTileBytes);
    _tile_stored(3, c[3], kTileBytes);
    fold_group<kind>(c[1], c[3], valid, doc_scales, scales ? scales + row0 + kQueryGroup : nullptr,
                     running + row0 + kQueryGroup);
  }
}

template <Kind kind>
RANK_RERANK_AMX_TARGET void score(const PreparedQuery::Impl& q, const TokenMatrix& doc,
                                  const RowState& state) {
  const std::size_t pitch = kind == Kind::bf16 ? q.dim * 2 : q.dim;
  const auto* rows = static_cast<const std::uint8_t*>(doc.data);
  // Running maxima per (padded) query row, and the last partial block copied into a zeroed
  // 32-row buffer so that tile loads never read past the document.
  thread_local std::vector<float> running;
  thread_local std::vector<std::uint8_t> tail;
  running.assign(q.padded_rows(), -std::numeric_limits<float>::infinity());
  configure_full_tiles();
  std::size_t first = 0;
  for (; first + kBlockRows <= doc.rows; first += kBlockRows) {
    // Tile loads do not train the hardware prefetchers the way streaming vector loads do:
    // without this the kernel waits on memory most of the time.
    prefetch_rows(rows, pitch, first + kPrefetchBlocks * kBlockRows, doc.rows);
    score_block<kind>(q, rows + first * pitch, pitch, kBlockRows,
                      doc.scales ? doc.scales + first : nullptr, running.data());
  }
  if (first < doc.rows) {
    const std::size_t valid = doc.rows - first;
    tail.assign(kBlockRows * pitch, 0);
    std::memcpy(tail.data(), rows + first * pitch, valid * pitch);
    score_block<kind>(q, tail.data(), pitch, valid, doc.scales ? doc.scales + first : nullptr,
                      running.data());
  }
  _tile_release();
  for (std::size_t i = 0; i < q.padded_rows(); ++i) {
    const float m = running[i];
    float& out = state.row_max[i];
    if (std::isnan(out)) continue;
    if (std::isnan(m) || m > out) out = m;
  }
}

}  // namespace

void score_amx(const PreparedQuery::Impl& q, const TokenMatrix& doc, const RowState& state) {
  if (q.path == KernelPath::amx_bf16) {
    score<Kind::bf16>(q, doc, state);
  } else {
    score<Kind::int8>(q, doc, state);
  }
}

#else

void score_amx(const PreparedQuery::Impl&, const TokenMatrix&, const RowState&) {}

#endif

}  // namespace rank_rerank::detail
