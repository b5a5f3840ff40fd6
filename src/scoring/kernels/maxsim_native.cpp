// MaxSim kernels on AVX-512 dot-product instructions that Highway 1.0.3 does not expose:
//   native_bf16: AVX512_BF16 vdpbf16ps. Query lanes hold the pair of dimensions (2p, 2p + 1)
//     rounded to bf16; the document side is a 32-bit broadcast of the same two adjacent bf16
//     values read straight from the row-major document. Products are exact and accumulate in
//     float32, so the only extra error is the query's rounding to bf16 (relative 2^-8 per
//     component; the instruction also treats bf16 subnormals as zero).
//   native_int8: AVX512_VNNI vpdpbusd. The query is quantized per row to int8 (scale
//     max|q| / 127, round to nearest even) and is the signed operand; the document block is
//     copied with +128 added to every byte (the unsigned operand, 4-byte broadcasts). The
//     accumulator starts at -128 * sum_k q_k, a per-row constant, so the offset cancels
//     exactly; the integer dot is then scaled by the query and document scales. Extra error:
//     |q_k - scale * round(q_k / scale)| <= scale / 2.
// Only the AVX3_DL pass of this file holds code (compiled for AVX3_DL plus avx512bf16); it is
// only called after a run-time CPU check, and every other target gets no kernel.

#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX2 | HWY_AVX3)
#endif
#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "scoring/kernels/maxsim_native.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include <immintrin.h>

#include <cstring>

#include "core/cpu_features.hpp"
#include "hwy/highway.h"
#include "rank_rerank/quantize.hpp"
#include "scoring/kernels/kernel_entry.hpp"

// The shared block loop inlines the tiles below, so it is compiled with the extra extensions
// too (in this file only, and only in the AVX3_DL pass). The full target string is repeated
// because clang does not merge nested target attributes (GCC does).
#if HWY_TARGET == HWY_AVX3_DL
HWY_PUSH_ATTRIBUTES(HWY_TARGET_STR ",avx512bf16,avx512vnni")
#endif
// GCC 12 reports its own _mm512_undefined_* self-initialisation inside avx512fintrin.h as
// "may be used uninitialized" once the int8 tile is inlined; the headers are not ours to fix.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "scoring/kernels/maxsim_blocks-inl.h"

HWY_BEFORE_NAMESPACE();
namespace rank_rerank::detail::HWY_NAMESPACE {

#if HWY_TARGET == HWY_AVX3_DL

HWY_INLINE std::uint32_t LoadWord(const std::uint8_t* p) {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// Document rows of one block: straight from the document when the block is full, otherwise
// copied to a scratch with the last row repeated (see ScoreBlocks).
class BlockRows {
 public:
  BlockRows(const TokenMatrix& doc)
      : doc_(doc),
        stride_(row_bytes(doc.dtype, doc.dim)),
        scratch_(hwy::AllocateAligned<std::uint8_t>(kTileTokens * stride_ + 64)) {}

  void Select(std::size_t begin, std::size_t count) {
    next_ = NextBlock(doc_, begin);
    const auto* base = static_cast<const std::uint8_t*>(doc_.data) + begin * stride_;
    if (count == kTileTokens) {
      rows_ = base;
      return;
    }
    std::memcpy(scratch_.get(), base, count * stride_);
    for (std::size_t t = count; t < kTileTokens; ++t)
      std::memcpy(scratch_.get() + t * stride_, base + (count - 1) * stride_, stride_);
    rows_ = scratch_.get();
  }
  const std::uint8_t* row(std::size_t t) const { return rows_ + t * stride_; }
  const NextBlock& next() const { return next_; }

 private:
  const TokenMatrix& doc_;
  std::size_t stride_;
  hwy::AlignedFreeUniquePtr<std::uint8_t[]> scratch_;
  const std::uint8_t* rows_ = nullptr;
  NextBlock next_;
};

class Bf16Source {
 public:
  static constexpr bool kMayBeNaN = true;

  Bf16Source(const PreparedQuery::Impl& q, const TokenMatrix& doc)
      : q_(q), rows_(doc), decoded_(hwy::AllocateAligned<float>(q.dim)) {}

  void Prepare(std::size_t begin, std::size_t count, BlockScale& scale) {
    rows_.Select(begin, count);
    scale.any_zero = false;
    scale.scaled = q_.cosine;
    if (!q_.cosine) return;
    const DF d;
    const hn::Rebind<hwy::bfloat16_t, DF> dh;
    const std::size_t lanes = hn::Lanes(d);
    for (std::size_t t = 0; t < kTileTokens; ++t) {
      const auto* src = reinterpret_cast<const hwy::bfloat16_t*>(rows_.row(t));
      std::size_t k = 0;
      for (; k + lanes <= q_.dim; k += lanes)
        hn::Store(hn::PromoteTo(d, hn::LoadU(dh, src + k)), d, decoded_.get() + k);
      for (; k < q_.dim; ++k) {
        std::uint16_t h;
        std::memcpy(&h, rows_.row(t) + 2 * k, 2);
        decoded_[k] = bf16_to_float(h);
      }
      const float n2 = SquaredNorm(decoded_.get(), q_.dim);
      scale.zero[t] = n2 == 0.0f;
      scale.any_zero |= scale.zero[t];
      scale.mult[t] = InverseNorm(n2, decoded_.get(), q_.dim);
    }
  }

  template <std::size_t NV>
  HWY_INLINE void ComputeTile(DF d, std::size_t row0, Tile<NV>& acc) const {
    const std::size_t pairs = q_.dim / 2;
    const std::uint32_t* column[NV];
    for (std::size_t v = 0; v < NV; ++v)
      column[v] = QueryColumn(q_.bf16_pairs.get(), pairs, row0 + v * 16);
    // Local accumulators, only ever indexed by unrolled constants, stay in registers; see
    // FloatTile in maxsim_hwy.cpp for what happens otherwise.
    __m512 a[NV][kTileTokens];
    for (std::size_t v = 0; v < NV; ++v)
      for (std::size_t t = 0; t < kTileTokens; ++t) a[v][t] = _mm512_setzero_ps();
    for (std::size_t p = 0; p < pairs; ++p) {
      rows_.next().Fetch(p);
      __m512bh qv[NV];
      for (std::size_t v = 0; v < NV; ++v)
        qv[v] = (__m512bh)_mm512_load_si512(column[v] + p * kQueryGroup);
      for (std::size_t t = 0; t < kTileTokens; ++t) {
        const __m512bh dt =
            (__m512bh)_mm512_set1_epi32(static_cast<int>(LoadWord(rows_.row(t) + 4 * p)));
        for (std::size_t v = 0; v < NV; ++v) a[v][t] = _mm512_dpbf16_ps(a[v][t], qv[v], dt);
      }
    }
    for (std::size_t v = 0; v < NV; ++v)
      for (std::size_t t = 0; t < kTileTokens; ++t) acc[v][t] = VF{a[v][t]};
    if (q_.dim % 2) {
      // The odd last dimension in float32 (a pair would read past the row), added to the
      // finished tile.
      const std::size_t k = q_.dim - 1;
      for (std::size_t t = 0; t < kTileTokens; ++t) {
        std::uint16_t h;
        std::memcpy(&h, rows_.row(t) + 2 * k, 2);
        const VF dt = hn::Set(d, bf16_to_float(h));
        for (std::size_t v = 0; v < NV; ++v) {
          const float* column_f = QueryColumn(q_.transposed.get(), q_.dim, row0 + v * 16);
          acc[v][t] = hn::MulAdd(hn::Load(d, column_f + k * kQueryGroup), dt, acc[v][t]);
        }
      }
    }
  }

 private:
  const PreparedQuery::Impl& q_;
  BlockRows rows_;
  hwy::AlignedFreeUniquePtr<float[]> decoded_;
};

class Int8Source {
 public:
  static constexpr bool kMayBeNaN = false;

  Int8Source(const PreparedQuery::Impl& q, const TokenMatrix& doc)
      : q_(q),
        doc_(doc),
        stride_((q.dim + 3) / 4 * 4),
        biased_(hwy::AllocateAligned<std::uint8_t>(kTileTokens * stride_)) {}

  // Copies the block with every byte offset by +128 (XOR 0x80: signed to unsigned) into rows
  // padded to whole 4-byte words; padding bytes are 0x80, i.e. document value 0.
  void Prepare(std::size_t begin, std::size_t count, BlockScale& scale) {
    next_ = NextBlock(doc_, begin);
    const std::size_t dim = q_.dim;
    const auto* data = static_cast<const std::uint8_t*>(doc_.data);
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    scale.any_zero = false;
    scale.scaled = true;
    for (std::size_t t = 0; t < kTileTokens; ++t) {
      const std::size_t r = begin + std::min(t, count - 1);
      const std::uint8_t* row = data + r * dim;
      std::uint8_t* out = biased_.get() + t * stride_;
      std::size_t k = 0;
      for (; k + 64 <= dim; k += 64)
        _mm512_storeu_si512(out + k, _mm512_xor_si512(_mm512_loadu_si512(row + k), bias));
      for (; k < dim; ++k) out[k] = row[k] ^ 0x80u;
      for (; k < stride_; ++k) out[k] = 0x80u;
      const float doc_scale = doc_.scales[r];
      scale.mult[t] = doc_scale;
      scale.zero[t] = false;
      if (q_.cosine) {
        const std::int32_t n2 = SquaredNormInt8(row, dim);
        scale.zero[t] = n2 == 0 || doc_scale == 0.0f;
        scale.any_zero |= scale.zero[t];
        // cos = s (q . b) / (|s| |b|): the scale only contributes its sign.
        scale.mult[t] = doc_scale / std::fabs(doc_scale) / std::sqrt(static_cast<float>(n2));
      }
    }
  }

  // acc = sum_k (d_k + 128) q_k - 128 sum_k q_k = q . d exactly, in int32; then scaled by the
  // query row's scale (per lane) and, in ApplyScale, the document's (per token).
  template <std::size_t NV>
  HWY_INLINE void ComputeTile(DF d, std::size_t row0, Tile<NV>& acc) const {
    const std::size_t quads = stride_ / 4;
    const std::uint32_t* column[NV];
    // Held as the compiler's 16 x int32 vector type, vpdpbusd's own element type: as __m512i
    // (a may_alias vector of 8 x int64) GCC 12 and 13 store every accumulator to the stack on
    // each step.
    __v16si a[NV][kTileTokens];
    for (std::size_t v = 0; v < NV; ++v) {
      column[v] = QueryColumn(q_.int8_quads.get(), quads, row0 + v * 16);
      const auto start = (__v16si)_mm512_loadu_si512(q_.int8_corrections.data() + row0 + v * 16);
      for (std::size_t t = 0; t < kTileTokens; ++t) a[v][t] = start;
    }
    const std::uint8_t* rows = biased_.get();
    for (std::size_t p = 0; p < quads; ++p) {
      next_.Fetch(p);
      __m512i qv[NV];
      for (std::size_t v = 0; v < NV; ++v) qv[v] = _mm512_load_si512(column[v] + p * kQueryGroup);
      for (std::size_t t = 0; t < kTileTokens; ++t) {
        const __m512i dt =
            _mm512_set1_epi32(static_cast<int>(LoadWord(rows + t * stride_ + 4 * p)));
        for (std::size_t v = 0; v < NV; ++v)
          a[v][t] = (__v16si)_mm512_dpbusd_epi32((__m512i)a[v][t], dt, qv[v]);
      }
    }
    for (std::size_t v = 0; v < NV; ++v) {
      const VF query_scale = hn::LoadU(d, q_.int8_scales.data() + row0 + v * 16);
      for (std::size_t t = 0; t < kTileTokens; ++t)
        acc[v][t] = hn::Mul(VF{_mm512_cvtepi32_ps((__m512i)a[v][t])}, query_scale);
    }
  }

 private:
  // sum_k d_k^2, exact in int32 (|d| <= 128, dim <= 65536).
  static std::int32_t SquaredNormInt8(const std::uint8_t* row, std::size_t dim) {
    __m512i squares = _mm512_setzero_si512();
    std::size_t k = 0;
    for (; k + 32 <= dim; k += 32) {
      const __m512i x =
          _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + k)));
      squares = _mm512_dpwssd_epi32(squares, x, x);
    }
    std::int32_t sum = _mm512_reduce_add_epi32(squares);
    for (; k < dim; ++k) {
      const std::int32_t x = static_cast<std::int8_t>(row[k]);
      sum += x * x;
    }
    return sum;
  }

  const PreparedQuery::Impl& q_;
  const TokenMatrix& doc_;
  std::size_t stride_;
  hwy::AlignedFreeUniquePtr<std::uint8_t[]> biased_;
  NextBlock next_;
};

void ScoreNative(const PreparedQuery::Impl& q, const TokenMatrix& doc, const RowState& state) {
  if (q.path == KernelPath::native_bf16) {
    Bf16Source source(q, doc);
    ScoreBlocks(q, doc.rows, state, source);
  } else {
    Int8Source source(q, doc);
    ScoreBlocks(q, doc.rows, state, source);
  }
}

#endif  // HWY_TARGET == HWY_AVX3_DL

}  // namespace rank_rerank::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_TARGET == HWY_AVX3_DL
HWY_POP_ATTRIBUTES
#endif

#if HWY_ONCE
namespace rank_rerank::detail {

#if HWY_ARCH_X86 && (HWY_TARGETS & HWY_AVX3_DL)

namespace {
// The extensions of Highway's AVX3_DL set that compiled code can contain, checked directly
// rather than through hwy::SupportedTargets(), which tests mock to exercise the portable
// targets. (VAES is left out: compilers only emit AES instructions for AES intrinsics, and
// clang 14 has no name for it here.)
bool cpu_has_avx3_dl() noexcept {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2") &&
         __builtin_cpu_supports("avx512bitalg") && __builtin_cpu_supports("avx512vpopcntdq") &&
         __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx512vnni");
}
}  // namespace

bool native_bf16_preferred() noexcept {
  static const bool preferred = cpu_has_avx3_dl() && avx512_bf16_beats_decoding();
  return preferred;
}

bool native_int8_available() noexcept {
  static const bool available = cpu_has_avx3_dl();
  return available;
}

void score_native(const PreparedQuery::Impl& q, const TokenMatrix& doc, const RowState& state) {
  // Called directly rather than through HWY_DYNAMIC_DISPATCH: only the AVX3_DL pass has these
  // kernels, and the caller checked the CPU with native_bf16_preferred() /
  // native_int8_available().
  N_AVX3_DL::ScoreNative(q, doc, state);
}

#else

bool native_bf16_preferred() noexcept { return false; }
bool native_int8_available() noexcept { return false; }
void score_native(const PreparedQuery::Impl&, const TokenMatrix&, const RowState&) {}

#endif

}  // namespace rank_rerank::detail
#endif  // HWY_ONCE
