// The MaxSim block loop shared by every kernel family (per Highway target; included inside
// HWY_NAMESPACE by kernels/maxsim_hwy.cpp and kernels/maxsim_native.cpp).
//
// A document is scored kTileTokens rows at a time. For each pass over kTileVectors query vectors
// (lanes = query rows), a "source" computes the tile acc[v][t] = q_v . d_t; the tile is scaled
// per token (cosine norm, int8 scale) and folded into the running row maxima. Running maxima are
// elementwise Max of whole vectors, so there is no horizontal reduction on the main path;
// argmax / token_best take a slower fold that is only used when they are asked for.

// Per-target include guard (see hwy/highway.h).
#if defined(RANK_RERANK_MAXSIM_BLOCKS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef RANK_RERANK_MAXSIM_BLOCKS_INL_H_
#undef RANK_RERANK_MAXSIM_BLOCKS_INL_H_
#else
#define RANK_RERANK_MAXSIM_BLOCKS_INL_H_
#endif

#include <algorithm>
#include <cmath>
#include <limits>

#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "scoring/maxsim_prepared.hpp"

HWY_BEFORE_NAMESPACE();
namespace rank_rerank::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Tile shape: kTileVectors x kTileTokens accumulators plus kTileVectors query vectors fill the
// register file (AVX-512: 24 + 2 of 32 zmm, with broadcasts folded into the FMA; AVX2: 12 + 2
// of 16 ymm plus one broadcast register).
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
inline constexpr std::size_t kTileTokens = 12;
#elif HWY_TARGET == HWY_SCALAR
inline constexpr std::size_t kTileTokens = 4;
#else
inline constexpr std::size_t kTileTokens = 6;
#endif
inline constexpr std::size_t kTileVectors = 2;

template <std::size_t NV>
using Tile = VF[NV][kTileTokens];

// Per-token factors of one block: similarity = dot * mult[t] when `scaled`, and exactly 0 for
// tokens flagged `zero` (the zero vector under cosine, whatever the query holds).
struct BlockScale {
  float mult[kTileTokens];
  bool zero[kTileTokens];
  bool scaled = false;
  bool any_zero = false;
};

// The document bytes of the block after the current one, fetched into cache while the current
// block is scored (one line per dimension step of the tile): tiles read a block column by column,
// 12 rows at once, which hardware prefetchers follow poorly from DRAM.
struct NextBlock {
  const std::uint8_t* bytes = nullptr;
  std::size_t lines = 0;

  NextBlock() = default;
  NextBlock(const TokenMatrix& doc, std::size_t begin) {
    const std::size_t next = begin + kTileTokens;
    if (next >= doc.rows) return;
    const std::size_t stride = row_bytes(doc.dtype, doc.dim);
    bytes = static_cast<const std::uint8_t*>(doc.data) + next * stride;
    lines = (std::min(kTileTokens, doc.rows - next) * stride + 63) / 64;
  }
  HWY_INLINE void Fetch(std::size_t i) const {
    if (i < lines) hwy::Prefetch(bytes + 64 * i);
  }
};

// Sum of squares of n floats.
HWY_INLINE float SquaredNorm(const float* HWY_RESTRICT x, std::size_t n) {
  const DF d;
  const std::size_t lanes = hn::Lanes(d);
  VF s0 = hn::Zero(d), s1 = hn::Zero(d);
  std::size_t k = 0;
  for (; k + 2 * lanes <= n; k += 2 * lanes) {
    const VF a = hn::LoadU(d, x + k), b = hn::LoadU(d, x + k + lanes);
    s0 = hn::MulAdd(a, a, s0);
    s1 = hn::MulAdd(b, b, s1);
  }
  float sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
  for (; k < n; ++k) sum += x[k] * x[k];
  return sum;
}

// 1 / |x| for a cosine, given float32 sum of squares `n2`; recomputed in float64 when a finite
// row overflowed float32 (|x|^2 > 3.4e38), so that only non-finite rows get 1/inf = 0.
HWY_INLINE float InverseNorm(float n2, const float* HWY_RESTRICT x, std::size_t n) {
  if (!(n2 < std::numeric_limits<float>::infinity())) {
    double wide = 0.0;
    for (std::size_t k = 0; k < n; ++k) wide += static_cast<double>(x[k]) * x[k];
    return static_cast<float>(1.0 / std::sqrt(wide));
  }
  return 1.0f / std::sqrt(n2);
}

template <std::size_t NV>
HWY_INLINE void ApplyScale(DF d, Tile<NV>& acc, const BlockScale& s) {
  if (s.scaled) {
    for (std::size_t t = 0; t < kTileTokens; ++t) {
      const VF m = hn::Set(d, s.mult[t]);
      for (std::size_t v = 0; v < NV; ++v) acc[v][t] = hn::Mul(acc[v][t], m);
    }
  }
  if (s.any_zero) {
    for (std::size_t t = 0; t < kTileTokens; ++t) {
      if (!s.zero[t]) continue;
      for (std::size_t v = 0; v < NV; ++v) acc[v][t] = hn::Zero(d);
    }
  }
}

// Main path: row_max[lane] = max(row_max[lane], max_t acc[v][t]), with NaN made sticky by an
// explicit NaN mask (Max itself does not define what NaN gives).
template <std::size_t NV, bool kMayBeNaN>
HWY_INLINE void FoldRowMax(DF d, const Tile<NV>& acc, float* HWY_RESTRICT row_max) {
  const std::size_t lanes = hn::Lanes(d);
  for (std::size_t v = 0; v < NV; ++v) {
    // Two interleaved chains shorten the Max dependency chain.
    VF m0 = acc[v][0], m1 = acc[v][1];
    auto nan = hn::Or(hn::IsNaN(acc[v][0]), hn::IsNaN(acc[v][1]));
    for (std::size_t t = 2; t + 1 < kTileTokens; t += 2) {
      m0 = hn::Max(m0, acc[v][t]);
      m1 = hn::Max(m1, acc[v][t + 1]);
      if (kMayBeNaN) nan = hn::Or(nan, hn::Or(hn::IsNaN(acc[v][t]), hn::IsNaN(acc[v][t + 1])));
    }
    if (kTileTokens % 2) {
      m0 = hn::Max(m0, acc[v][kTileTokens - 1]);
      if (kMayBeNaN) nan = hn::Or(nan, hn::IsNaN(acc[v][kTileTokens - 1]));
    }
    float* out = row_max + v * lanes;
    const VF old = hn::LoadU(d, out);
    VF updated = hn::Max(old, hn::Max(m0, m1));
    if (kMayBeNaN) {
      nan = hn::Or(nan, hn::IsNaN(old));
      updated = hn::IfThenElse(nan, hn::Set(d, std::numeric_limits<float>::quiet_NaN()), updated);
    }
    hn::StoreU(updated, d, out);
  }
}

// Slower fold for argmax and token_best: tokens are visited in order, a token replaces the
// running best only when strictly greater (so the first of equal values wins) or when it is
// the first NaN. token_best gets the max over this pass's valid lanes (query rows < rows).
template <std::size_t NV>
HWY_INLINE void FoldRich(DF d, const Tile<NV>& acc, std::size_t nt, std::int32_t first_token,
                         std::size_t row0, std::size_t rows, const RowState& state,
                         float* HWY_RESTRICT block_best) {
  const hn::RebindToSigned<DF> di;
  const std::size_t lanes = hn::Lanes(d);
  const VF nan_v = hn::Set(d, std::numeric_limits<float>::quiet_NaN());
  for (std::size_t v = 0; v < NV; ++v) {
    float* best_out = state.row_max + row0 + v * lanes;
    VF best = hn::LoadU(d, best_out);
    if (state.argmax) {
      std::int32_t* index_out = state.argmax + row0 + v * lanes;
      auto index = hn::LoadU(di, index_out);
      for (std::size_t t = 0; t < nt; ++t) {
        const auto up =
            hn::Or(hn::Gt(acc[v][t], best), hn::AndNot(hn::IsNaN(best), hn::IsNaN(acc[v][t])));
        best = hn::IfThenElse(up, acc[v][t], best);
        index = hn::IfThenElse(hn::RebindMask(di, up),
                               hn::Set(di, first_token + static_cast<std::int32_t>(t)), index);
      }
      hn::StoreU(index, di, index_out);
    } else {
      for (std::size_t t = 0; t < nt; ++t) {
        const auto nan = hn::Or(hn::IsNaN(best), hn::IsNaN(acc[v][t]));
        best = hn::IfThenElse(nan, nan_v, hn::Max(best, acc[v][t]));
      }
    }
    hn::StoreU(best, d, best_out);
  }
  if (!state.token_best) return;
  const VF neg_inf = hn::Set(d, -std::numeric_limits<float>::infinity());
  for (std::size_t t = 0; t < nt; ++t) {
    VF m = neg_inf;
    auto nan = hn::IsNaN(neg_inf);
    for (std::size_t v = 0; v < NV; ++v) {
      const std::size_t first_row = row0 + v * lanes;
      const std::size_t valid = rows > first_row ? std::min(lanes, rows - first_row) : 0;
      const VF x = hn::IfThenElse(hn::FirstN(d, valid), acc[v][t], neg_inf);
      m = hn::Max(m, x);
      nan = hn::Or(nan, hn::IsNaN(x));
    }
    const float pass_best = hn::AllFalse(d, nan) ? hn::GetLane(hn::MaxOfLanes(d, m))
                                                 : std::numeric_limits<float>::quiet_NaN();
    float& b = block_best[t];
    b = (std::isnan(b) || std::isnan(pass_best)) ? std::numeric_limits<float>::quiet_NaN()
                                                 : std::max(b, pass_best);
  }
}

template <std::size_t NV, class Source>
HWY_INLINE void ScorePass(DF d, Source& source, const BlockScale& scale, std::size_t nt,
                          std::int32_t first_token, std::size_t row0, const PreparedQuery::Impl& q,
                          const RowState& state, float* HWY_RESTRICT block_best, bool rich) {
  Tile<NV> acc;
  source.template ComputeTile<NV>(d, row0, acc);
  ApplyScale<NV>(d, acc, scale);
  if (rich) {
    FoldRich<NV>(d, acc, nt, first_token, row0, q.rows, state, block_best);
  } else {
    FoldRowMax<NV, Source::kMayBeNaN>(d, acc, state.row_max + row0);
  }
}

// Scores `n` document rows. Source provides:
//   void Prepare(size_t begin, size_t count, BlockScale&): make rows [begin, begin + count)
//     the current block, padding it to kTileTokens rows by repeating the last row (repeats
//     change neither maxima nor first-index argmax), and fill the per-token scale;
//   template <size_t NV> void ComputeTile(DF, size_t row0, Tile<NV>&): the dot products of
//     query rows row0 .. row0 + NV * lanes with the block;
//   static constexpr bool kMayBeNaN.
template <class Source>
void ScoreBlocks(const PreparedQuery::Impl& q, std::size_t n, const RowState& state,
                 Source& source) {
  const DF d;
  const std::size_t lanes = hn::Lanes(d);
  const std::size_t pass_rows = kTileVectors * lanes;
  const bool rich = state.argmax != nullptr || state.token_best != nullptr;
  BlockScale scale;
  float block_best[kTileTokens];
  for (std::size_t begin = 0; begin < n; begin += kTileTokens) {
    const std::size_t nt = std::min(kTileTokens, n - begin);
    source.Prepare(begin, nt, scale);
    std::fill_n(block_best, kTileTokens, -std::numeric_limits<float>::infinity());
    const auto first_token = static_cast<std::int32_t>(begin);
    for (std::size_t row0 = 0; row0 < q.rows; row0 += pass_rows) {
      if (q.padded_rows() - row0 >= pass_rows) {
        ScorePass<kTileVectors>(d, source, scale, nt, first_token, row0, q, state, block_best,
                                rich);
      } else {
        ScorePass<1>(d, source, scale, nt, first_token, row0, q, state, block_best, rich);
      }
    }
    if (state.token_best) std::copy_n(block_best, nt, state.token_best + begin);
  }
}

// Pointer to the transposed column of query row `row` (lane `row % kQueryGroup` of its group);
// dimension k is at result + k * kQueryGroup.
template <class T>
HWY_INLINE const T* QueryColumn(const T* transposed, std::size_t per_row, std::size_t row) {
  return transposed + (row / kQueryGroup) * per_row * kQueryGroup + row % kQueryGroup;
}

}  // namespace rank_rerank::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // include guard
