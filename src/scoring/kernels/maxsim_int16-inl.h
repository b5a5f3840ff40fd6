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
// form was 1.06-1.19x faster (164-185 against 155 GFLOP/s, bench_maxsim_kernel --force-avx2),
// which does not pay for the doubled error.

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

// The full AVX2 pass (2 vectors x 6 tokens) runs as fixed assembly on GCC-compatible x86-64
// compilers: GCC 13 schedules a step's 12 vpmaddwd ahead of their vpaddd, needs 12 more
// registers than AVX2 has and keeps 9 of the 12 sums on the stack, loaded and stored on every
// step (the tile then ran at 0.65x float32 on a Sapphire Rapids core held to AVX2). GCC 12 and
// clang keep them in registers, but the allocation should not depend on the compiler.
#undef RANK_RERANK_INT16_AVX2_ASM
#if RANK_RERANK_INT16_TILE && HWY_TARGET == HWY_AVX2 && HWY_ARCH_X86_64 && \
    (HWY_COMPILER_GCC || HWY_COMPILER_CLANG)
#define RANK_RERANK_INT16_AVX2_ASM 1
#else
#define RANK_RERANK_INT16_AVX2_ASM 0
#endif

#if RANK_RERANK_INT16_TILE

#if RANK_RERANK_INT16_AVX2_ASM
// sum[v][t] += sum over pairs p of query vector v of pair p . pair p of row t, in int32
// (vpmaddwd + vpaddd). `column` holds 16 query rows per pair (vector 0: rows 0-7, vector 1:
// rows 8-15, kQueryGroup = 16 lanes of 32 bits); row t starts `stride` int16 after row t - 1.
// Registers: the 12 sums in ymm0-11 (chosen by the compiler), the two query vectors, the
// broadcast and the product in ymm12-15.
HWY_INLINE void Int16PassAvx2(const std::uint32_t* column, const std::int16_t* rows,
                              std::size_t stride, std::size_t pairs, const NextBlock& next,
                              __m256i (&sum)[2][kTileTokens]) {
  static_assert(kTileTokens == 6 && kQueryGroup == 16, "the assembly names 6 tokens, 16 rows");
  __m256i s00 = sum[0][0], s01 = sum[0][1], s02 = sum[0][2], s03 = sum[0][3], s04 = sum[0][4],
          s05 = sum[0][5], s10 = sum[1][0], s11 = sum[1][1], s12 = sum[1][2], s13 = sum[1][3],
          s14 = sum[1][4], s15 = sum[1][5];
  const std::size_t row_bytes = stride * sizeof(std::int16_t);
  for (std::size_t p = 0; p < pairs; ++p) {
    next.Fetch(p);
    const std::uint32_t* q = column + p * kQueryGroup;
    const std::int16_t* d0 = rows + 2 * p;     // tokens 0, 1, 2
    const std::int16_t* d3 = d0 + 3 * stride;  // tokens 3, 4, 5
    // "memory": the operands are read through the pointers (the block and the query columns).
    asm("vmovdqa (%[q]), %%ymm12\n\t"
        "vmovdqa 32(%[q]), %%ymm13\n\t"
        "vpbroadcastd (%[d0]), %%ymm14\n\t"
        "vpmaddwd %%ymm14, %%ymm12, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s00], %[s00]\n\t"
        "vpmaddwd %%ymm14, %%ymm13, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s10], %[s10]\n\t"
        "vpbroadcastd (%[d0],%[rb]), %%ymm14\n\t"
        "vpmaddwd %%ymm14, %%ymm12, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s01], %[s01]\n\t"
        "vpmaddwd %%ymm14, %%ymm13, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s11], %[s11]\n\t"
        "vpbroadcastd (%[d0],%[rb],2), %%ymm14\n\t"
        "vpmaddwd %%ymm14, %%ymm12, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s02], %[s02]\n\t"
        "vpmaddwd %%ymm14, %%ymm13, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s12], %[s12]\n\t"
        "vpbroadcastd (%[d3]), %%ymm14\n\t"
        "vpmaddwd %%ymm14, %%ymm12, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s03], %[s03]\n\t"
        "vpmaddwd %%ymm14, %%ymm13, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s13], %[s13]\n\t"
        "vpbroadcastd (%[d3],%[rb]), %%ymm14\n\t"
        "vpmaddwd %%ymm14, %%ymm12, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s04], %[s04]\n\t"
        "vpmaddwd %%ymm14, %%ymm13, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s14], %[s14]\n\t"
        "vpbroadcastd (%[d3],%[rb],2), %%ymm14\n\t"
        "vpmaddwd %%ymm14, %%ymm12, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s05], %[s05]\n\t"
        "vpmaddwd %%ymm14, %%ymm13, %%ymm15\n\t"
        "vpaddd %%ymm15, %[s15], %[s15]"
        : [s00] "+x"(s00), [s01] "+x"(s01), [s02] "+x"(s02), [s03] "+x"(s03), [s04] "+x"(s04),
          [s05] "+x"(s05), [s10] "+x"(s10), [s11] "+x"(s11), [s12] "+x"(s12), [s13] "+x"(s13),
          [s14] "+x"(s14), [s15] "+x"(s15)
        : [q] "r"(q), [d0] "r"(d0), [d3] "r"(d3), [rb] "r"(row_bytes)
        : "xmm12", "xmm13", "xmm14", "xmm15", "memory");
  }
  sum[0][0] = s00, sum[0][1] = s01, sum[0][2] = s02, sum[0][3] = s03, sum[0][4] = s04;
  sum[0][5] = s05, sum[1][0] = s10, sum[1][1] = s11, sum[1][2] = s12, sum[1][3] = s13;
  sum[1][4] = s14, sum[1][5] = s15;
}
#endif  // RANK_RERANK_INT16_AVX2_ASM

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
#if RANK_RERANK_INT16_AVX2_ASM
    if constexpr (NV == 2) {
      // Passes start at multiples of 16 rows, so vector 1 is lanes 8-15 of vector 0's group.
      HWY_DASSERT(column[1] == column[0] + lanes);
      __m256i raw[2][kTileTokens] = {};
      Int16PassAvx2(column[0], rows, stride_, pairs_, next_, raw);
      for (std::size_t v = 0; v < NV; ++v)
        for (std::size_t t = 0; t < kTileTokens; ++t) sum[v][t] = VI{raw[v][t]};
    } else
#endif
    {
      for (std::size_t p = 0; p < pairs_; ++p) {
        next_.Fetch(p);
        V16 qv[NV];
        for (std::size_t v = 0; v < NV; ++v)
          qv[v] = hn::BitCast(d16, hn::Load(du, column[v] + p * kQueryGroup));
        for (std::size_t t = 0; t < kTileTokens; ++t) {
          std::uint32_t pair;
          std::memcpy(&pair, rows + t * stride_ + 2 * p, 4);
          const V16 dt = hn::BitCast(d16, hn::Set(du, pair));
          for (std::size_t v = 0; v < NV; ++v)
            sum[v][t] = hn::ReorderWidenMulAccumulate(di, qv[v], dt, sum[v][t], odd[v][t]);
        }
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
