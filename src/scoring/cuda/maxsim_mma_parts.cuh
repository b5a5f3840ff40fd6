// Tensor-core MaxSim parts shared by the two kernel families (maxsim_mma.cu: document tiles
// double-buffered in registers; maxsim_staged.cu: tiles staged through shared memory with
// cp.async): the per-lane tile registers and their decoding to f16 / bf16 mma operands, the query
// group held as the mma B operand, row scales, scoring one 16-row tile into the running maxima,
// and the per-document reduction.
//
// Fragment layout: lane (g, t) (g = lane / 4, t = lane % 4) holds rows g and g + 8 of a tile and,
// for each 8-dimension group p, the dimensions lane_dim(p, t, 0..7); it feeds group p to the k
// slots it owns in k-blocks 2p and 2p + 1. A dot product does not care in which order its k terms
// are summed, so any assignment works as long as the query operand uses the same one.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "scoring/cuda/maxsim_device.cuh"

namespace rank_rerank::gpu_detail::mma {

enum Kind : int { kKindF16, kKindBF16, kKindI8, kKindBitFloat, kKindBitBit };

// Per-lane document registers of one tile: rows g and g + 8, KP chunks each.
template <int KIND, int KP>
struct Tile;
template <int KP>
struct Tile<kKindF16, KP> {
  uint4 a[KP], b[KP];
};
template <int KP>
struct Tile<kKindBF16, KP> {
  uint4 a[KP], b[KP];
};
template <int KP>
struct Tile<kKindI8, KP> {
  uint2 a[KP], b[KP];
};
template <int KP>
struct Tile<kKindBitFloat, KP> {
  std::uint32_t a[KP], b[KP];  // the row's 32-bit words (the whole row: dim = 32 * KP)
};
template <int KP>
struct Tile<kKindBitBit, KP> {
  std::uint32_t a[KP], b[KP];
};

// How a lane reads its share of a document row: copies of kCopyBytes each, copy c of lane t at
// byte offset kCopyBytes * (4c + t), so the four lanes of a quad read 4 * kCopyBytes contiguous
// bytes. f16 / bf16 rows are read 16 bytes (8 dimensions) at a time; int8 rows of an even KP
// 16 bytes (16 dimensions: two 8-dimension groups) at a time, else 8. Bit rows are read whole
// (Tile<kKindBit*>), so the layout does not apply to them.
template <int KIND, int KP>
struct LaneLayout {
  static constexpr bool kWideI8 = KIND == kKindI8 && KP % 2 == 0;
  static constexpr int kElemBytes = KIND == kKindI8 ? 1 : 2;
  static constexpr int kCopyBytes = KIND == kKindI8 && !kWideI8 ? 8 : 16;
  static constexpr int kCopies = kWideI8 ? KP / 2 : KP;
  static constexpr int kGroupsPerCopy = kWideI8 ? 2 : 1;
  static constexpr std::size_t kRowBytes = static_cast<std::size_t>(4 * kCopies * kCopyBytes);
};

// The dimension in k slot i (0..7) of lane t's 8-dimension group p: document and query operands
// both follow it, so every dimension meets its partner exactly once.
template <int KIND, int KP>
__device__ __forceinline__ int lane_dim(int p, int t, int i) {
  using L = LaneLayout<KIND, KP>;
  constexpr int kElems = L::kCopyBytes / L::kElemBytes;
  const int copy = p / L::kGroupsPerCopy, half = p % L::kGroupsPerCopy;
  return kElems * (4 * copy + t) + 8 * half + i;
}

// Copy c of rows g (a) and g + 8 (b), as read by lane_dim's layout, into the tile registers.
template <int KIND, int KP>
__device__ __forceinline__ void tile_from_copy(Tile<KIND, KP>& tile, int c, uint4 a, uint4 b) {
  if constexpr (LaneLayout<KIND, KP>::kWideI8) {
    tile.a[2 * c] = make_uint2(a.x, a.y);
    tile.a[2 * c + 1] = make_uint2(a.z, a.w);
    tile.b[2 * c] = make_uint2(b.x, b.y);
    tile.b[2 * c + 1] = make_uint2(b.z, b.w);
  } else if constexpr (KIND == kKindF16 || KIND == kKindBF16) {
    tile.a[c] = a;
    tile.b[c] = b;
  }
}
template <int KIND, int KP>
__device__ __forceinline__ void tile_from_copy(Tile<KIND, KP>& tile, int c, uint2 a, uint2 b) {
  if constexpr (KIND == kKindI8) {
    tile.a[c] = a;
    tile.b[c] = b;
  }
}

// The rows lane group g reads for the walk's current tile: g and g + 8, past the document's end
// repeating its last row (which changes no maximum).
__device__ __forceinline__ void tile_rows(const DocWalk& w, int g, std::int64_t& ra,
                                          std::int64_t& rb) {
  ra = min(w.row0 + g, w.row_end - 1);
  rb = min(w.row0 + g + 8, w.row_end - 1);
}

// Four signed bytes -> two f16x2, exactly: 0x64XX as f16 is 1024 + XX, so (b ^ 0x80) placed in
// the low byte gives 1152 + b.
__device__ __forceinline__ void widen_i8(std::uint32_t w, std::uint32_t& lo, std::uint32_t& hi) {
  const std::uint32_t u = w ^ 0x80808080u;
  lo = __byte_perm(u, 0x64646464u, 0x5140);
  hi = __byte_perm(u, 0x64646464u, 0x7362);
  const __half2 bias = __floats2half2_rn(1152.0f, 1152.0f);
  __half2 l = *reinterpret_cast<__half2*>(&lo), h = *reinterpret_cast<__half2*>(&hi);
  l = __hsub2(l, bias);
  h = __hsub2(h, bias);
  lo = *reinterpret_cast<std::uint32_t*>(&l);
  hi = *reinterpret_cast<std::uint32_t*>(&h);
}

// Byte `byte` of packed bits (MSB first: bit 7 is the chunk's first dimension) -> four f16x2 of
// +-1 for dimensions (0,1), (2,3), (4,5), (6,7).
__device__ __forceinline__ void expand_bits(std::uint32_t byte, std::uint32_t out[4]) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const std::uint32_t first = (byte >> (7 - 2 * i)) & 1u;
    const std::uint32_t second = (byte >> (6 - 2 * i)) & 1u;
    // +1 is 0x3C00, -1 is 0xBC00: a clear bit sets the sign.
    out[i] = 0x3C003C00u | ((first ^ 1u) << 15) | ((second ^ 1u) << 31);
  }
}

// The 8 values of chunk p of rows g (a) and g + 8 (b) as four f16x2 / bf16x2 registers each.
template <int KIND, int KP>
__device__ __forceinline__ void chunk_regs(const Tile<KIND, KP>& tile, int p, int t,
                                           std::uint32_t ra[4], std::uint32_t rb[4]) {
  if constexpr (KIND == kKindF16 || KIND == kKindBF16) {
    ra[0] = tile.a[p].x, ra[1] = tile.a[p].y, ra[2] = tile.a[p].z, ra[3] = tile.a[p].w;
    rb[0] = tile.b[p].x, rb[1] = tile.b[p].y, rb[2] = tile.b[p].z, rb[3] = tile.b[p].w;
  } else if constexpr (KIND == kKindI8) {
    widen_i8(tile.a[p].x, ra[0], ra[1]);
    widen_i8(tile.a[p].y, ra[2], ra[3]);
    widen_i8(tile.b[p].x, rb[0], rb[1]);
    widen_i8(tile.b[p].y, rb[2], rb[3]);
  } else {
    // Chunk c = 4p + t is byte t of word p (bytes in memory order).
    expand_bits((tile.a[p] >> (8 * t)) & 0xffu, ra);
    expand_bits((tile.b[p] >> (8 * t)) & 0xffu, rb);
  }
}

__device__ __forceinline__ float2 to_float2(std::uint32_t v, bool bf16) {
  if (bf16) return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&v));
  return __half22float2(*reinterpret_cast<const __half2*>(&v));
}

template <bool BF16>
__device__ __forceinline__ void mma_16816(float c[4], const std::uint32_t a[4], std::uint32_t b0,
                                          std::uint32_t b1) {
  if constexpr (BF16) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

__device__ __forceinline__ void mma_b1(int c[4], std::uint32_t a0, std::uint32_t a1,
                                       std::uint32_t b0) {
  asm("mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(a0), "r"(a1), "r"(0u), "r"(0u), "r"(b0), "r"(0u));
}

// Query value (row, dim) as float from f32 / f16 / bf16 storage.
__device__ __forceinline__ float query_value(const Rows& q, std::int64_t row, int k) {
  const std::size_t i = static_cast<std::size_t>(row) * q.dim + static_cast<std::size_t>(k);
  if (q.dtype == kF16) return __half2float(static_cast<const __half*>(q.data)[i]);
  if (q.dtype == kBF16) return __bfloat162float(static_cast<const __nv_bfloat16*>(q.data)[i]);
  return static_cast<const float*>(q.data)[i];
}

__device__ __forceinline__ std::uint32_t pack2(float x, float y, bool bf16) {
  std::uint32_t r;
  if (bf16) {
    __nv_bfloat162 v = __floats2bfloat162_rn(x, y);
    r = *reinterpret_cast<std::uint32_t*>(&v);
  } else {
    __half2 v = __floats2half2_rn(x, y);
    r = *reinterpret_cast<std::uint32_t*>(&v);
  }
  return r;
}

// One query group in registers: the B operand for each n-tile j and chunk p, plus what the
// reduction needs for the two columns 8j + 2t + e this lane's accumulators hold.
template <int KIND, int KP>
struct QueryGroup {
  std::uint32_t b[4][KP][4];
  float weight[4][2];
  // Bit 2j + e: the column is a real query token of the group (live), or, under cosine, a zero
  // query row whose similarity is 0 with everything (zero). Masks, not bool arrays: they stay
  // in two registers for the whole walk.
  std::uint32_t live;
  std::uint32_t zero;
  int popcount[4][2];  // bit x bit: set bits of the column's query row
};

template <int KIND, int KP>
__device__ void load_group(QueryGroup<KIND, KP>& qg, const ScoreLaunch& p, std::int64_t row0,
                           int rows, int g, int t) {
  constexpr bool kBf16 = KIND == kKindBF16;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    // Lanes past the group's rows repeat its last row; their columns are not live.
    const std::int64_t row = row0 + min(8 * j + g, rows - 1);
    if constexpr (KIND == kKindBitBit) {
      const auto* words = static_cast<const std::uint32_t*>(p.queries.data) + row * KP;
#pragma unroll
      for (int q = 0; q < KP; ++q) qg.b[j][q][0] = words[q];
    } else {
      float v[KP][8];
      double n2 = 0.0;
#pragma unroll
      for (int q = 0; q < KP; ++q)
#pragma unroll
        for (int i = 0; i < 8; ++i) {
          v[q][i] = query_value(p.queries, row, lane_dim<KIND, KP>(q, t, i));
          n2 += static_cast<double>(v[q][i]) * v[q][i];
        }
      if (p.cosine) {
        // Normalised in float64 as the CPU prepares its query; a zero row stays zero.
        n2 = quad_sum(n2);
        const double inv = n2 > 0.0 ? 1.0 / sqrt(n2) : 0.0;
#pragma unroll
        for (int q = 0; q < KP; ++q)
#pragma unroll
          for (int i = 0; i < 8; ++i) v[q][i] = static_cast<float>(v[q][i] * inv);
      }
#pragma unroll
      for (int q = 0; q < KP; ++q)
#pragma unroll
        for (int i = 0; i < 4; ++i) qg.b[j][q][i] = pack2(v[q][2 * i], v[q][2 * i + 1], kBf16);
    }
  }
  qg.live = 0;
  qg.zero = 0;
#pragma unroll
  for (int j = 0; j < 4; ++j)
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      const int col = 8 * j + 2 * t + e;
      const std::int64_t row = row0 + min(col, rows - 1);
      if (col < rows) qg.live |= 1u << (2 * j + e);
      qg.weight[j][e] = p.weights ? p.weights[row] : 1.0f;
      qg.popcount[j][e] = 0;
      if constexpr (KIND == kKindBitBit) {
        const auto* words = static_cast<const std::uint32_t*>(p.queries.data) + row * KP;
        int n = 0;
#pragma unroll
        for (int q = 0; q < KP; ++q) n += __popc(words[q]);
        qg.popcount[j][e] = n;
      } else if (p.cosine) {
        bool all_zero = true;
        for (std::size_t k = 0; k < p.queries.dim; ++k)
          all_zero = all_zero && query_value(p.queries, row, static_cast<int>(k)) == 0.0f;
        if (all_zero) qg.zero |= 1u << (2 * j + e);
      }
    }
}

// Per-row factors of a tile for rows g (index 0) and g + 8 (index 1): similarity = dot * mult,
// or exactly 0 for a row flagged zero (a zero vector or a zero int8 scale under cosine).
struct RowScale {
  float mult[2];
  bool zero[2];
};

template <int KIND, int KP>
__device__ __forceinline__ RowScale row_scale(const Tile<KIND, KP>& tile, const ScoreLaunch& p,
                                              float scale_a, float scale_b, int t) {
  RowScale s{{1.0f, 1.0f}, {false, false}};
  const float scale[2] = {scale_a, scale_b};  // int8 only; 1 for the other kinds
  if constexpr (KIND == kKindBitFloat) {
    if (p.cosine) {
      // Every +-1 row has norm sqrt(dim).
      const float inv = 1.0f / sqrtf(static_cast<float>(32 * KP));
      s.mult[0] = s.mult[1] = inv;
    }
    return s;
  }
  if (!p.cosine) {
    s.mult[0] = scale[0];
    s.mult[1] = scale[1];
    return s;
  }
  if constexpr (KIND == kKindF16 || KIND == kKindBF16 || KIND == kKindI8) {
    constexpr bool kBf16 = KIND == kKindBF16;
    float n2[2] = {0.0f, 0.0f};
#pragma unroll
    for (int q = 0; q < KP; ++q) {
      std::uint32_t ra4[4], rb4[4];
      chunk_regs<KIND, KP>(tile, q, t, ra4, rb4);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const float2 x = to_float2(ra4[i], kBf16), y = to_float2(rb4[i], kBf16);
        n2[0] = fmaf(x.x, x.x, fmaf(x.y, x.y, n2[0]));
        n2[1] = fmaf(y.x, y.x, fmaf(y.y, y.y, n2[1]));
      }
    }
    n2[0] = quad_sum(n2[0]);
    n2[1] = quad_sum(n2[1]);
    float inv[2] = {1.0f / sqrtf(n2[0]), 1.0f / sqrtf(n2[1])};
    // A finite row whose squares overflow float32 (bf16 only) is measured in float64, so that
    // only non-finite rows get 1 / inf = 0, as on the CPU.
    if (__any_sync(kFullMask, !(n2[0] < INFINITY) || !(n2[1] < INFINITY))) {
      double w2[2] = {0.0, 0.0};
#pragma unroll
      for (int q = 0; q < KP; ++q) {
        std::uint32_t ra4[4], rb4[4];
        chunk_regs<KIND, KP>(tile, q, t, ra4, rb4);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const float2 x = to_float2(ra4[i], kBf16), y = to_float2(rb4[i], kBf16);
          w2[0] += static_cast<double>(x.x) * x.x + static_cast<double>(x.y) * x.y;
          w2[1] += static_cast<double>(y.x) * y.x + static_cast<double>(y.y) * y.y;
        }
      }
      w2[0] = quad_sum(w2[0]);
      w2[1] = quad_sum(w2[1]);
      if (!(n2[0] < INFINITY)) inv[0] = static_cast<float>(1.0 / sqrt(w2[0]));
      if (!(n2[1] < INFINITY)) inv[1] = static_cast<float>(1.0 / sqrt(w2[1]));
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      s.zero[r] = n2[r] == 0.0f || scale[r] == 0.0f;
      // cos = s (q . b) / (|s| |b|): an int8 scale only contributes its sign (NaN stays NaN).
      s.mult[r] = (KIND == kKindI8 ? scale[r] / fabsf(scale[r]) : 1.0f) * inv[r];
    }
  }
  return s;
}

template <int KIND, int KP>
__device__ __forceinline__ void score_tile(const Tile<KIND, KP>& tile,
                                           const QueryGroup<KIND, KP>& qg, const RowScale& s,
                                           const ScoreLaunch& p, int t, float mx[4][2]) {
  float sim[4][4];
  if constexpr (KIND == kKindBitBit) {
    // Row g's bits are word t of row g (dimensions 32t .. 32t + 31); lanes t >= KP hold none.
    std::uint32_t wa = 0, wb = 0;
    int pa = 0, pb = 0;
#pragma unroll
    for (int q = 0; q < KP; ++q) {
      if (q == t) wa = tile.a[q], wb = tile.b[q];
      pa += __popc(tile.a[q]);
      pb += __popc(tile.b[q]);
    }
    const float dim = static_cast<float>(32 * KP);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      std::uint32_t qb = 0;
#pragma unroll
      for (int q = 0; q < KP; ++q)
        if (q == t) qb = qg.b[j][q][0];
      int c[4] = {0, 0, 0, 0};
      mma_b1(c, wa, wb, qb);
      // popcount(q XOR d) = |q| + |d| - 2 |q AND d|; similarity = dim - 2 popcount(q XOR d).
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int pq = qg.popcount[j][e];
        sim[j][e] = dim - 2.0f * static_cast<float>(pq + pa - 2 * c[e]);
        sim[j][2 + e] = dim - 2.0f * static_cast<float>(pq + pb - 2 * c[2 + e]);
      }
    }
    if (p.cosine) {
      // Multiplied by 1 / dim as the CPU does, so that the results agree to the last bit.
      const float inv_dim = 1.0f / dim;
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int i = 0; i < 4; ++i) sim[j][i] *= inv_dim;
    }
  } else {
    constexpr bool kBf16 = KIND == kKindBF16;
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int i = 0; i < 4; ++i) sim[j][i] = 0.0f;
#pragma unroll
    for (int q = 0; q < KP; ++q) {
      std::uint32_t ra[4], rb[4];
      chunk_regs<KIND, KP>(tile, q, t, ra, rb);
      // k-block 2q takes dimensions (0,1) and (2,3) of the chunk, k-block 2q + 1 the rest.
      const std::uint32_t lo[4] = {ra[0], rb[0], ra[1], rb[1]};
      const std::uint32_t hi[4] = {ra[2], rb[2], ra[3], rb[3]};
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        mma_16816<kBf16>(sim[j], lo, qg.b[j][q][0], qg.b[j][q][1]);
        mma_16816<kBf16>(sim[j], hi, qg.b[j][q][2], qg.b[j][q][3]);
      }
    }
    const bool scaled = KIND == kKindI8 || p.cosine;
    if (scaled) {
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int r = i >> 1;
          sim[j][i] = s.zero[r] ? 0.0f : sim[j][i] * s.mult[r];
        }
    }
  }
#pragma unroll
  for (int j = 0; j < 4; ++j)
#pragma unroll
    for (int e = 0; e < 2; ++e) mx[j][e] = max_nan(mx[j][e], max_nan(sim[j][e], sim[j][2 + e]));
}

// Row maxima of the finished document -> its score for this group, written by lane 0.
template <int KIND, int KP>
__device__ __forceinline__ void finish_doc(float mx[4][2], const QueryGroup<KIND, KP>& qg,
                                           float* out, std::int64_t index, bool first_group) {
  // Summed in float64 like the CPU's reduction, so the order of the terms does not matter.
  double sum = 0.0;
#pragma unroll
  for (int j = 0; j < 4; ++j)
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      float v = mx[j][e];
      v = max_nan(v, __shfl_xor_sync(kFullMask, v, 4));
      v = max_nan(v, __shfl_xor_sync(kFullMask, v, 8));
      v = max_nan(v, __shfl_xor_sync(kFullMask, v, 16));
      if ((qg.zero >> (2 * j + e)) & 1u) v = 0.0f;
      if ((qg.live >> (2 * j + e)) & 1u) sum += static_cast<double>(qg.weight[j][e]) * v;
      mx[j][e] = -INFINITY;
    }
  // Lanes of one quad hold different columns; every quad holds the same sums after the max.
  sum = quad_sum(sum);
  if ((threadIdx.x & 31) == 0) add_score(out, index, static_cast<float>(sum), first_group);
}

// Calls launch(std::integral_constant<int, KP>{}) with KP = dim / 32 (dim 32, 64, 96 or 128): the
// number of 32-wide dimension panels, a compile-time parameter of the tensor-core kernels.
template <class Launch>
void with_dim_panels(std::size_t dim, Launch&& launch) {
  switch (dim) {
    case 32:
      return launch(std::integral_constant<int, 1>{});
    case 64:
      return launch(std::integral_constant<int, 2>{});
    case 96:
      return launch(std::integral_constant<int, 3>{});
    default:
      return launch(std::integral_constant<int, 4>{});
  }
}

}  // namespace rank_rerank::gpu_detail::mma
