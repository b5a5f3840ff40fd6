// Portable MaxSim kernels (Highway, one copy per compiled target, chosen at run time):
//   highway_float: float32 query x f32 / f16 / bf16 / int8 / bit documents. Non-f32 blocks
//     are decoded to float32 (bit: +1 / -1) in a small scratch and scored by the same FMA tile;
//     the int8 scale and the cosine norm are applied per token after the dot product.
//   highway_bits: bit query x bit documents, sim = dim - 2 * popcount(q XOR d).
//   highway_int8: float32 query quantized to int8 x int8 documents, both widened to int16 and
//     multiplied in int32 (kernels/maxsim_int16-inl.h) on the x86 targets, as highway_float on
//     the others.

// Compile AVX2, AVX3 and AVX3_DL (Ice Lake / Zen 4: native 32-bit popcount) plus the scalar
// fallback; the 128-bit x86 targets would only cost build time.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4)
#endif
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "scoring/kernels/maxsim_hwy.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <array>
#include <cstring>

#include "hwy/highway.h"
#include "rank_rerank/quantize.hpp"
#include "scoring/kernels/kernel_entry.hpp"
#include "scoring/kernels/maxsim_blocks-inl.h"
#include "scoring/kernels/maxsim_int16-inl.h"

HWY_BEFORE_NAMESPACE();
namespace rank_rerank::detail::HWY_NAMESPACE {

// +1 / -1 for the 8 bits of a byte, most significant bit first (numpy.packbits order).
struct BitTable {
  float values[256][8];
  constexpr BitTable() : values() {
    for (int b = 0; b < 256; ++b)
      for (int i = 0; i < 8; ++i) values[b][i] = ((b >> (7 - i)) & 1) ? 1.0f : -1.0f;
  }
};
inline constexpr BitTable kBitTable{};

// Decodes document row `r` to float32 (int8: the raw byte values; the scale is applied later).
void DecodeRow(const TokenMatrix& doc, std::size_t r, float* HWY_RESTRICT out) {
  const DF d;
  const std::size_t lanes = hn::Lanes(d);
  const std::size_t dim = doc.dim;
  const auto* row = static_cast<const std::uint8_t*>(doc.data) + r * row_bytes(doc.dtype, dim);
  std::size_t k = 0;
  switch (doc.dtype) {
    case DType::f32:
      std::memcpy(out, row, dim * sizeof(float));
      return;
    case DType::f16: {
      const hn::Rebind<hwy::float16_t, DF> dh;
      const auto* src = reinterpret_cast<const hwy::float16_t*>(row);
      // Highway 1.0.3's software PromoteTo (SCALAR, EMU128) turns f16 inf / NaN into finite
      // numbers, so those targets convert with f16_to_float below; hardware ones (F16C) are exact.
      constexpr bool kHardwareHalf = HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128;
      for (; kHardwareHalf && k + lanes <= dim; k += lanes)
        hn::StoreU(hn::PromoteTo(d, hn::LoadU(dh, src + k)), d, out + k);
      for (; k < dim; ++k) {
        std::uint16_t h;
        std::memcpy(&h, row + 2 * k, 2);
        out[k] = f16_to_float(h);
      }
      return;
    }
    case DType::bf16: {
      const hn::Rebind<hwy::bfloat16_t, DF> dh;
      const auto* src = reinterpret_cast<const hwy::bfloat16_t*>(row);
      for (; k + lanes <= dim; k += lanes)
        hn::StoreU(hn::PromoteTo(d, hn::LoadU(dh, src + k)), d, out + k);
      for (; k < dim; ++k) {
        std::uint16_t h;
        std::memcpy(&h, row + 2 * k, 2);
        out[k] = bf16_to_float(h);
      }
      return;
    }
    case DType::i8: {
      const hn::RebindToSigned<DF> di;
      const hn::Rebind<std::int8_t, DF> d8;
      const auto* src = reinterpret_cast<const std::int8_t*>(row);
      for (; k + lanes <= dim; k += lanes)
        hn::StoreU(hn::ConvertTo(d, hn::PromoteTo(di, hn::LoadU(d8, src + k))), d, out + k);
      for (; k < dim; ++k) out[k] = static_cast<float>(src[k]);
      return;
    }
    case DType::bit:
      for (; k + 8 <= dim; k += 8)
        std::memcpy(out + k, kBitTable.values[row[k / 8]], 8 * sizeof(float));
      if (k < dim) std::memcpy(out + k, kBitTable.values[row[k / 8]], (dim - k) * sizeof(float));
      return;
  }
}

// out[v][t] = sum_k q[row0 + v * lanes + lane][k] * rows[t * stride + k]: per dimension, NV
// query vectors are loaded once and multiplied by a broadcast of each block token.
template <std::size_t NV>
HWY_INLINE void FloatTile(DF d, const float* HWY_RESTRICT transposed, std::size_t dim,
                          std::size_t row0, const float* HWY_RESTRICT rows, std::size_t stride,
                          const NextBlock& next, Tile<NV>& out) {
  const std::size_t lanes = hn::Lanes(d);
  const float* column[NV];
  for (std::size_t v = 0; v < NV; ++v) column[v] = QueryColumn(transposed, dim, row0 + v * lanes);
  // The sums live in a local tile, indexed only by unrolled constants, and are copied to `out`
  // once. Accumulating into `out` itself (which the rich fold indexes by run-time token) made
  // GCC 13 store all accumulators to the stack on every step: 24 zmm stores per 24 FMAs, which
  // halves the speed on cores that retire one 512-bit store per cycle.
  VF acc[NV][kTileTokens];
  for (std::size_t v = 0; v < NV; ++v)
    for (std::size_t t = 0; t < kTileTokens; ++t) acc[v][t] = hn::Zero(d);
  for (std::size_t k = 0; k < dim; ++k) {
    next.Fetch(k);
    VF qv[NV];
    for (std::size_t v = 0; v < NV; ++v) qv[v] = hn::Load(d, column[v] + k * kQueryGroup);
    for (std::size_t t = 0; t < kTileTokens; ++t) {
      const VF dt = hn::Set(d, rows[t * stride + k]);
      for (std::size_t v = 0; v < NV; ++v) acc[v][t] = hn::MulAdd(qv[v], dt, acc[v][t]);
    }
  }
  for (std::size_t v = 0; v < NV; ++v)
    for (std::size_t t = 0; t < kTileTokens; ++t) out[v][t] = acc[v][t];
}

// Float32 query against any document dtype (path highway_float).
class FloatSource {
 public:
  static constexpr bool kMayBeNaN = true;

  FloatSource(const PreparedQuery::Impl& q, const TokenMatrix& doc)
      : q_(q), doc_(doc), scratch_(hwy::AllocateAligned<float>(kTileTokens * q.dim)) {}

  void Prepare(std::size_t begin, std::size_t count, BlockScale& scale) {
    const std::size_t dim = q_.dim;
    next_ = NextBlock(doc_, begin);
    if (doc_.dtype == DType::f32 && count == kTileTokens) {
      rows_ = static_cast<const float*>(doc_.data) + begin * dim;
    } else {
      for (std::size_t t = 0; t < count; ++t) DecodeRow(doc_, begin + t, scratch_.get() + t * dim);
      for (std::size_t t = count; t < kTileTokens; ++t)
        std::memcpy(scratch_.get() + t * dim, scratch_.get() + (count - 1) * dim,
                    dim * sizeof(float));
      rows_ = scratch_.get();
    }
    scale.any_zero = false;
    scale.scaled = q_.cosine || doc_.dtype == DType::i8;
    if (!scale.scaled) return;
    for (std::size_t t = 0; t < kTileTokens; ++t) {
      const float* row = rows_ + t * dim;
      const float doc_scale =
          doc_.dtype == DType::i8 ? doc_.scales[begin + std::min(t, count - 1)] : 1.0f;
      bool zero = false;
      float mult = doc_scale;
      if (q_.cosine) {
        const float n2 = SquaredNorm(row, dim);
        zero = n2 == 0.0f || doc_scale == 0.0f;
        // cos = s (q . b) / (|s| |b|): the scale only contributes its sign (NaN stays NaN).
        mult = doc_scale / std::fabs(doc_scale) * InverseNorm(n2, row, dim);
      }
      scale.mult[t] = mult;
      scale.zero[t] = zero;
      scale.any_zero |= zero;
    }
  }

  template <std::size_t NV>
  HWY_INLINE void ComputeTile(DF d, std::size_t row0, Tile<NV>& acc) const {
    FloatTile<NV>(d, q_.transposed.get(), q_.dim, row0, rows_, q_.dim, next_, acc);
  }

 private:
  const PreparedQuery::Impl& q_;
  const TokenMatrix& doc_;
  hwy::AlignedFreeUniquePtr<float[]> scratch_;
  const float* rows_ = nullptr;
  NextBlock next_;
};

// One token of the AVX3_DL bit tile: c_v += popcount(q_v XOR broadcast(word)) for both query
// vectors, in one assembly statement for the reason given at the int16 tile
// (maxsim_int16-inl.h): written with Highway operations, GCC 12 and 13 keep 18 of the 24
// counts on the stack and load and store them on every word.
#undef RANK_RERANK_POPCOUNT_ASM
#if HWY_TARGET == HWY_AVX3_DL && (HWY_COMPILER_GCC || HWY_COMPILER_CLANG)
#define RANK_RERANK_POPCOUNT_ASM 1
HWY_INLINE void XorPopcountAdd(const std::uint32_t& word, __m512i q0, __m512i q1, __m512i& c0,
                               __m512i& c1) {
  __m512i b, t;
  asm("vpbroadcastd %[word], %[b]\n\t"
      "vpxord %[b], %[q0], %[t]\n\t"
      "vpopcntd %[t], %[t]\n\t"
      "vpaddd %[t], %[c0], %[c0]\n\t"
      "vpxord %[b], %[q1], %[t]\n\t"
      "vpopcntd %[t], %[t]\n\t"
      "vpaddd %[t], %[c1], %[c1]"
      : [c0] "+v"(c0), [c1] "+v"(c1), [b] "=&v"(b), [t] "=&v"(t)
      : [q0] "v"(q0), [q1] "v"(q1), [word] "m"(word));
}
#else
#define RANK_RERANK_POPCOUNT_ASM 0
#endif

// Bit query against bit documents (path highway_bits): the tile counts differing bits with
// 32-bit XOR + popcount, then sim = dim - 2 * count (cosine: divided by dim, since |+-1| = dim).
class BitSource {
 public:
  static constexpr bool kMayBeNaN = false;

  BitSource(const PreparedQuery::Impl& q, const TokenMatrix& doc)
      : q_(q),
        doc_(doc),
        words_per_row_((q.dim + 31) / 32),
        words_(hwy::AllocateAligned<std::uint32_t>(kTileTokens * words_per_row_)) {}

  void Prepare(std::size_t begin, std::size_t count, BlockScale& scale) {
    const std::size_t bytes = row_bytes(DType::bit, q_.dim);
    const std::size_t tail_bits = q_.dim % 32;
    // Bits past dim in the last word are cleared: bytes are copied in memory order, so the
    // mask covers the first tail_bits bits in that order (MSB first within each byte).
    std::uint32_t tail_mask = ~0u;
    if (tail_bits) {
      std::uint8_t mask_bytes[4] = {0, 0, 0, 0};
      for (std::size_t i = 0; i < tail_bits; ++i)
        mask_bytes[i / 8] |= static_cast<std::uint8_t>(0x80u >> (i % 8));
      std::memcpy(&tail_mask, mask_bytes, 4);
    }
    for (std::size_t t = 0; t < kTileTokens; ++t) {
      const std::size_t r = begin + std::min(t, count - 1);
      std::uint32_t* out = words_.get() + t * words_per_row_;
      out[words_per_row_ - 1] = 0;
      std::memcpy(out, static_cast<const std::uint8_t*>(doc_.data) + r * bytes, bytes);
      out[words_per_row_ - 1] &= tail_mask;
    }
    scale.any_zero = false;
    scale.scaled = q_.cosine;
    std::fill_n(scale.mult, kTileTokens, 1.0f / static_cast<float>(q_.dim));
  }

  template <std::size_t NV>
  HWY_INLINE void ComputeTile(DF d, std::size_t row0, Tile<NV>& acc) const {
    const hn::RebindToUnsigned<DF> du;
    const hn::RebindToSigned<DF> di;
    const std::size_t lanes = hn::Lanes(d);
    const std::uint32_t* column[NV];
    for (std::size_t v = 0; v < NV; ++v)
      column[v] = QueryColumn(q_.bit_words.get(), words_per_row_, row0 + v * lanes);
    hn::Vec<decltype(du)> count[NV][kTileTokens];
    for (std::size_t v = 0; v < NV; ++v)
      for (std::size_t t = 0; t < kTileTokens; ++t) count[v][t] = hn::Zero(du);
    for (std::size_t w = 0; w < words_per_row_; ++w) {
      hn::Vec<decltype(du)> qv[NV];
      for (std::size_t v = 0; v < NV; ++v) qv[v] = hn::Load(du, column[v] + w * kQueryGroup);
      for (std::size_t t = 0; t < kTileTokens; ++t) {
        const std::uint32_t& word = words_[t * words_per_row_ + w];
#if RANK_RERANK_POPCOUNT_ASM
        if constexpr (NV == 2) {
          auto c0 = count[0][t].raw, c1 = count[1][t].raw;
          XorPopcountAdd(word, qv[0].raw, qv[1].raw, c0, c1);
          count[0][t] = hn::Vec<decltype(du)>{c0};
          count[1][t] = hn::Vec<decltype(du)>{c1};
          continue;
        }
#endif
        const auto dw = hn::Set(du, word);
        for (std::size_t v = 0; v < NV; ++v)
          count[v][t] = hn::Add(count[v][t], hn::PopulationCount(hn::Xor(qv[v], dw)));
      }
    }
    const VF dim = hn::Set(d, static_cast<float>(q_.dim));
    const VF two = hn::Set(d, 2.0f);
    for (std::size_t v = 0; v < NV; ++v)
      for (std::size_t t = 0; t < kTileTokens; ++t)
        acc[v][t] = hn::NegMulAdd(two, hn::ConvertTo(d, hn::BitCast(di, count[v][t])), dim);
  }

 private:
  const PreparedQuery::Impl& q_;
  const TokenMatrix& doc_;
  std::size_t words_per_row_;
  hwy::AlignedFreeUniquePtr<std::uint32_t[]> words_;
};

void ScoreDocument(const PreparedQuery::Impl& q, const TokenMatrix& doc, const RowState& state) {
  if (q.path == KernelPath::highway_bits) {
    BitSource source(q, doc);
    ScoreBlocks(q, doc.rows, state, source);
  } else {
    FloatSource source(q, doc);
    ScoreBlocks(q, doc.rows, state, source);
  }
}

// Path highway_int8, with finite document scales (the caller checks them).
void ScoreInt8Document(const PreparedQuery::Impl& q, const TokenMatrix& doc,
                       const RowState& state) {
#if RANK_RERANK_INT16_TILE
  Int16Source source(q, doc);
#else
  FloatSource source(q, doc);
#endif
  ScoreBlocks(q, doc.rows, state, source);
}

}  // namespace rank_rerank::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace rank_rerank::detail {

HWY_EXPORT(ScoreDocument);
HWY_EXPORT(ScoreInt8Document);

void score_highway(const PreparedQuery::Impl& q, const TokenMatrix& doc, const RowState& state) {
  HWY_DYNAMIC_DISPATCH(ScoreDocument)(q, doc, state);
}

void score_highway_int8(const PreparedQuery::Impl& q, const TokenMatrix& doc,
                        const RowState& state) {
  HWY_DYNAMIC_DISPATCH(ScoreInt8Document)(q, doc, state);
}

std::vector<std::int64_t> highway_kernel_targets() {
  std::vector<std::int64_t> targets;
  for (std::int64_t bits = hwy::SupportedTargets() & HWY_TARGETS; bits != 0; bits &= bits - 1)
    targets.push_back(bits & -bits);
  return targets;
}

}  // namespace rank_rerank::detail
#endif  // HWY_ONCE
