// The int8-document tile of path highway_int8 for x86 targets without VNNI (per Highway target;
// included inside HWY_NAMESPACE by kernels/maxsim_hwy.cpp after maxsim_blocks-inl.h).
//
// AVX2 has no u8 x s8 multiply-add into int32 (vpdpbusd). vpmaddubsw multiplies u8 x s8 but
// sums each pair into a saturating int16: with the document bytes offset to u8 (up to 255) and
// the 8-bit query of the VNNI kernel (up to 127 in magnitude) a pair reaches 64,770 and
// saturates. A 7-bit query would avoid that but double the query's rounding error. So both
// operands are widened to int16 instead (the query once when prepared, the document once per
// block) and multiplied with vpmaddwd, which sums each pair of int16 products into int32:
// |q| <= 127, |d| <= 128, so the dot product is exact for dim <= 65536 and the result is bit for
// bit that of the VNNI kernel. Per 32 multiply-adds that is 2 vpmaddwd + 2 vpaddd against
// vpmaddubsw + vpmaddwd + vpaddd, the same number of multiplier instructions; on Zen 4 the 7-bit
// form was 1.06-1.19x faster in the whole kernel (164-185 against 155 GFLOP/s,
// bench_maxsim_kernel --force-avx2) and its bare loop 1.3x (0.9-1.5x on Sapphire Rapids,
// bench_avx2_tile_mix), which does not pay for the doubled error and the lost agreement with
// the VNNI kernel.

// Per-target include guard (see hwy/highway.h).
#if defined(RANK_RERANK_MAXSIM_INT16_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef RANK_RERANK_MAXSIM_INT16_INL_H_
#undef RANK_RERANK_MAXSIM_INT16_INL_H_
#else
#define RANK_RERANK_MAXSIM_INT16_INL_H_
#endif

#include <cmath>
#include <cstring>

#include "hwy/highway.h"
#include "scoring/kernels/maxsim_blocks-inl.h"

HWY_BEFORE_NAMESPACE();
namespace rank_rerank::detail::HWY_NAMESPACE {

// Measured on x86 only (vpmaddwd is a full-rate multiplier instruction there); other targets
// score int8 documents with the float32 tile. Redefined in every target's pass.
#undef RANK_RERANK_INT16_TILE
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
#define RANK_RERANK_INT16_TILE 1
#else
#define RANK_RERANK_INT16_TILE 0
#endif

#if RANK_RERANK_INT16_TILE

// One token of the tile: broadcast its dimension pair, multiply by each query vector with
// vpmaddwd and add into that vector's sum. Written as assembly on GCC-compatible compilers
// because GCC 13 moves a step's vpmaddwd ahead of their vpaddd and its broadcasts ahead of
// both, needs more registers than there are and keeps 9 of the 12 AVX2 sums (and most of the
// 24 AVX-512 ones) on the stack, loaded and stored on every step: the AVX2 tile then ran at
// 0.65x float32 on a Sapphire Rapids core. In one statement per token the order is fixed, and at
// most sums + 2 query vectors + 2 temporaries are live (16 ymm, 28 zmm). The same text serves
// both widths: the operands' types pick ymm or zmm. `pair` is read as int16, the type the block
// was written with.
#undef RANK_RERANK_INT16_ASM
#if HWY_COMPILER_GCC || HWY_COMPILER_CLANG
#define RANK_RERANK_INT16_ASM 1
template <class Raw>
HWY_INLINE void MulAddPair(const std::int16_t (&pair)[2], Raw q0, Raw q1, Raw& s0, Raw& s1) {
  Raw b, t;
  asm("vpbroadcastd %[pair], %[b]\n\t"
      "vpmaddwd %[b], %[q0], %[t]\n\t"
      "vpaddd %[t], %[s0], %[s0]\n\t"
      "vpmaddwd %[b], %[q1], %[t]\n\t"
      "vpaddd %[t], %[s1], %[s1]"
      : [s0] "+v"(s0), [s1] "+v"(s1), [b] "=&v"(b), [t] "=&v"(t)
      : [q0] "v"(q0), [q1] "v"(q1), [pair] "m"(pair));
}
template <class Raw>
HWY_INLINE void MulAddPair(const std::int16_t (&pair)[2], Raw q0, Raw& s0) {
  Raw b, t;
  asm("vpbroadcastd %[pair], %[b]\n\t"
      "vpmaddwd %[b], %[q0], %[t]\n\t"
      "vpaddd %[t], %[s0], %[s0]"
      : [s0] "+v"(s0), [b] "=&v"(b), [t] "=&v"(t)
      : [q0] "v"(q0), [pair] "m"(pair));
}
#else
#define RANK_RERANK_INT16_ASM 0
#endif

class Int16Source {
 public:
  static constexpr bool kMayBeNaN = false;

  Int16Source(const PreparedQuery::Impl& q, const TokenMatrix& doc)
      : q_(q),
        doc_(doc),
        pairs_((q.dim + 1) / 2),
        stride_(hwy::RoundUpTo(2 * pairs_, hn::Lanes(D16()))),
        rows_(hwy::AllocateAligned<std::int16_t>(kTileTokens * stride_)) {}

  // Widens the block to int16 rows of whole vectors: the dimensions, then zeros (an odd last
  // dimension gets a 0 partner).
  void Prepare(std::size_t begin, std::size_t count, BlockScale& scale) {
    next_ = NextBlock(doc_, begin);
    const D16 d16;
    const hn::Rebind<std::int8_t, D16> d8;
    const std::size_t lanes = hn::Lanes(d16);
    const std::size_t dim = q_.dim;
    scale.any_zero = false;
    scale.scaled = true;
    for (std::size_t t = 0; t < kTileTokens; ++t) {
      const std::size_t r = begin + std::min(t, count - 1);
      const auto* row = static_cast<const std::int8_t*>(doc_.data) + r * dim;
      std::int16_t* out = rows_.get() + t * stride_;
      std::size_t k = 0;
      for (; k + lanes <= dim; k += lanes)
        hn::Store(hn::PromoteTo(d16, hn::LoadU(d8, row + k)), d16, out + k);
      for (; k < stride_; ++k) out[k] = k < dim ? row[k] : 0;
      const float doc_scale = doc_.scales[r];
      scale.mult[t] = doc_scale;
      scale.zero[t] = false;
      if (q_.cosine) {
        const std::int32_t n2 = SquaredNorm(out);
        scale.zero[t] = n2 == 0 || doc_scale == 0.0f;
        scale.any_zero |= scale.zero[t];
        // cos = s (q . b) / (|s| |b|): the scale only contributes its sign.
        scale.mult[t] = doc_scale / std::fabs(doc_scale) / std::sqrt(static_cast<float>(n2));
      }
    }
  }

  // acc = q . d exactly, in int32; then scaled by the query row's scale (per lane) and, in
  // ApplyScale, the document's (per token).
  template <std::size_t NV>
  HWY_INLINE void ComputeTile(DF d, std::size_t row0, Tile<NV>& acc) const {
    const hn::RebindToSigned<DF> di;
    const hn::RebindToUnsigned<DF> du;
    const D16 d16;
    using VI = hn::Vec<decltype(di)>;
    using V16 = hn::Vec<decltype(d16)>;
    const std::size_t lanes = hn::Lanes(d);
    const std::uint32_t* column[NV];
    for (std::size_t v = 0; v < NV; ++v)
      column[v] = QueryColumn(q_.int16_pairs.get(), pairs_, row0 + v * lanes);
    // Local accumulators indexed only by unrolled constants stay in registers (see FloatTile).
    // `odd` is ReorderWidenMulAccumulate's second sum, which x86 leaves untouched.
    VI sum[NV][kTileTokens], odd[NV][kTileTokens];
    for (std::size_t v = 0; v < NV; ++v)
      for (std::size_t t = 0; t < kTileTokens; ++t) sum[v][t] = odd[v][t] = hn::Zero(di);
    const std::int16_t* rows = rows_.get();
    for (std::size_t p = 0; p < pairs_; ++p) {
      next_.Fetch(p);
      V16 qv[NV];
      for (std::size_t v = 0; v < NV; ++v)
        qv[v] = hn::BitCast(d16, hn::Load(du, column[v] + p * kQueryGroup));
      for (std::size_t t = 0; t < kTileTokens; ++t) {
        const std::int16_t* pair = rows + t * stride_ + 2 * p;
#if RANK_RERANK_INT16_ASM
        const auto& pair2 = *reinterpret_cast<const std::int16_t(*)[2]>(pair);
        // Through scalar copies: a reference into `sum` would keep the array in memory.
        auto s0 = sum[0][t].raw;
        if constexpr (NV == 2) {
          auto s1 = sum[1][t].raw;
          MulAddPair(pair2, qv[0].raw, qv[1].raw, s0, s1);
          sum[1][t] = VI{s1};
        } else {
          static_assert(NV == 1);
          MulAddPair(pair2, qv[0].raw, s0);
        }
        sum[0][t] = VI{s0};
#else
        std::uint32_t bits;
        std::memcpy(&bits, pair, 4);
        const V16 dt = hn::BitCast(d16, hn::Set(du, bits));
        for (std::size_t v = 0; v < NV; ++v)
          sum[v][t] = hn::ReorderWidenMulAccumulate(di, qv[v], dt, sum[v][t], odd[v][t]);
#endif
      }
    }
    for (std::size_t v = 0; v < NV; ++v) {
      const VF query_scale = hn::LoadU(d, q_.int8_scales.data() + row0 + v * lanes);
      for (std::size_t t = 0; t < kTileTokens; ++t)
        acc[v][t] = hn::Mul(hn::ConvertTo(d, hn::RearrangeToOddPlusEven(sum[v][t], odd[v][t])),
                            query_scale);
    }
  }

 private:
  using D16 = hn::Repartition<std::int16_t, DF>;

  // sum_k d_k^2 of a widened row, exact in int32 (|d| <= 128, dim <= 65536). Whole vectors
  // only: Highway 1.0.3's AVX3_DL target enables AVX-VNNI, which Ice Lake and Zen 4 lack, and
  // GCC turns a scalar int16 multiply-add loop into its 256-bit vpdpwssd.
  std::int32_t SquaredNorm(const std::int16_t* HWY_RESTRICT row) const {
    const D16 d16;
    const hn::RebindToSigned<DF> di;
    auto sum = hn::Zero(di), odd = hn::Zero(di);
    for (std::size_t k = 0; k < stride_; k += hn::Lanes(d16)) {
      const auto x = hn::Load(d16, row + k);
      sum = hn::ReorderWidenMulAccumulate(di, x, x, sum, odd);
    }
    return hn::GetLane(hn::SumOfLanes(di, hn::RearrangeToOddPlusEven(sum, odd)));
  }

  const PreparedQuery::Impl& q_;
  const TokenMatrix& doc_;
  std::size_t pairs_;
  std::size_t stride_;  // int16 per widened row: 2 * pairs_ rounded up to whole vectors
  hwy::AlignedFreeUniquePtr<std::int16_t[]> rows_;
  NextBlock next_;
};

#endif  // RANK_RERANK_INT16_TILE

}  // namespace rank_rerank::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // include guard
