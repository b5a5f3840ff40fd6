// Attention over packed variable-length sequences, FlashAttention-2 style: each block owns a tile
// of query rows of one (sequence, head), streams the sequence's keys and values through shared
// memory in tiles and keeps a running max and sum per row (online softmax), so the score matrix
// never reaches device memory. Blocks exist only for tiles holding real tokens (the backend lists
// them), so no work is spent on padding beyond the last partial tile of a sequence.
//
// f16 / bf16 with head_dim 32, 64 or 128: tensor cores through mma.sync (m16n8k16, f32
// accumulation) in the FlashAttention-2 register layout. Four warps own 16 query rows each; a
// warp's Q fragments, scores, probabilities and output accumulator all live in registers (the
// score accumulator of S = Q K^T is, element for element, the A operand of O += P V once
// narrowed), so shared memory holds only Q and the K / V tiles, loaded with cp.async two tiles
// deep so the next tile's copy overlaps this tile's products. ldmatrix (.trans for V) feeds the B
// operands; rows are padded by 16 bytes so its eight row addresses hit distinct banks.
// Everything else (f32, other head sizes): one warp per query row, f32 arithmetic throughout.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>

#include "backend/cuda/encoder_element.cuh"
#include "backend/cuda/encoder_kernels.hpp"

namespace rank_rerank::backend::cuda {
namespace {

constexpr int kTcRows = 64;  // query rows per tensor-core block: 4 warps x 16
constexpr int kTcKeys = 64;  // keys per shared-memory tile
constexpr int kTcWarps = 4;
constexpr int kRowsPerBlock = 4;  // fallback: one warp per query row
constexpr float kLog2e = 1.4426950408889634f;

template <int D>
struct TcLayout {
  static constexpr int ld = D + 8;  // row pitch in elements: 16 bytes of padding
  static constexpr int q_elems = kTcRows * ld;
  static constexpr int kv_elems = kTcKeys * ld;  // one K or V tile
  template <typename T>
  static constexpr std::size_t bytes() {
    return static_cast<std::size_t>(q_elems + 4 * kv_elems) * sizeof(T);  // Q, 2 x (K, V)
  }
};

__device__ __forceinline__ unsigned shared_address(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// 16 bytes global -> shared without passing through registers; zero-filled when !valid.
__device__ __forceinline__ void copy16_async(void* destination, const void* source, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(destination)),
               "l"(source), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void commit_copies() { asm volatile("cp.async.commit_group;\n" ::); }
template <int kPending>
__device__ __forceinline__ void wait_copies() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

__device__ __forceinline__ void load_matrices(std::uint32_t (&r)[4], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row)));
}
__device__ __forceinline__ void load_matrices_transposed(std::uint32_t (&r)[4], const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(shared_address(row)));
}

// d += a b for one 16 x 8 x 16 tile (a: 16 x 16 row-major fragment, b: 16 x 8 column-major).
__device__ __forceinline__ void mma(float (&d)[4], const std::uint32_t (&a)[4], std::uint32_t b0,
                                    std::uint32_t b1, __half) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ void mma(float (&d)[4], const std::uint32_t (&a)[4], std::uint32_t b0,
                                    std::uint32_t b1, __nv_bfloat16) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two f32 narrowed into one register, the first in the low half (the lower column).
__device__ __forceinline__ std::uint32_t pack2(float lo, float hi, __half) {
  const __half2 v = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const std::uint32_t*>(&v);
}
__device__ __forceinline__ std::uint32_t pack2(float lo, float hi, __nv_bfloat16) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const std::uint32_t*>(&v);
}

__device__ __forceinline__ float quad_max(float v) {
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
}
__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  return v + __shfl_xor_sync(0xffffffffu, v, 2);
}

// Starts copying `tile` rows of D elements (16-byte chunks) from global rows `ld` apart into
// shared rows TcLayout<D>::ld apart; rows from `rows` on are zero-filled, so padded keys and
// values contribute 0 * 0 and padded query rows produce finite, unused results.
template <typename T, int D>
__device__ __forceinline__ void load_tile_async(const T* source, std::size_t ld, int rows, int tile,
                                                T* destination) {
  constexpr int per_chunk = 16 / static_cast<int>(sizeof(T));
  constexpr int chunks = D / per_chunk;
  for (int i = static_cast<int>(threadIdx.x); i < tile * chunks;
       i += static_cast<int>(blockDim.x)) {
    const int r = i / chunks;
    const int c = (i % chunks) * per_chunk;
    const bool valid = r < rows;
    copy16_async(destination + r * TcLayout<D>::ld + c, valid ? source + r * ld + c : source,
                 valid);
  }
}

template <typename T, int D>
__global__ void __launch_bounds__(kTcWarps * 32, D <= 64 ? 4 : 2)
    attention_tc_kernel(AttentionArgs a, float scale_log2) {
  using L = TcLayout<D>;
  constexpr int kKeyTiles = kTcKeys / 8;  // 8-key column tiles of S
  constexpr int kDimTiles = D / 8;        // 8-wide column tiles of O
  extern __shared__ __align__(128) unsigned char smem[];
  T* q_s = reinterpret_cast<T*>(smem);
  T* kv_s = q_s + L::q_elems;  // stage s: K at kv_s + 2 s kv_elems, V right after

  const int warp = static_cast<int>(threadIdx.x) >> 5;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const AttentionTile tile = a.tiles[blockIdx.x];
  const std::size_t head = blockIdx.y;
  const std::int64_t seq_begin = a.offsets[tile.sequence];
  const int len = static_cast<int>(a.offsets[tile.sequence + 1] - seq_begin);
  const int keys = a.key_lengths == nullptr ? len : static_cast<int>(a.key_lengths[tile.sequence]);
  const std::size_t hidden = a.heads * D;
  const std::size_t ld = 3 * hidden;
  const T* qkv = static_cast<const T*>(a.qkv);
  const T* q_g = qkv + (static_cast<std::size_t>(seq_begin) + tile.first_row) * ld + head * D;
  const T* k_g = qkv + static_cast<std::size_t>(seq_begin) * ld + hidden + head * D;
  const T* v_g = k_g + hidden;
  const int q_rows = min(kTcRows, len - tile.first_row);
  const int tiles = (keys + kTcKeys - 1) / kTcKeys;

  load_tile_async<T, D>(q_g, ld, q_rows, kTcRows, q_s);
  load_tile_async<T, D>(k_g, ld, min(kTcKeys, keys), kTcKeys, kv_s);
  load_tile_async<T, D>(v_g, ld, min(kTcKeys, keys), kTcKeys, kv_s + L::kv_elems);
  commit_copies();

  // Fragment coordinates: lane owns rows g and g + 8 of the warp's 16, columns 2t and 2t + 1 of
  // every 8-column tile; ldmatrix takes row addresses from lane % 8 of each 8-lane group.
  const int g = lane >> 2;
  const int t = lane & 3;
  const int group = lane >> 3;
  const int group_row = lane & 7;

  std::uint32_t q_frag[D / 16][4];
  float o[kDimTiles][4];
#pragma unroll
  for (int n = 0; n < kDimTiles; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float m_run[2] = {-INFINITY, -INFINITY};  // rows g, g + 8 (in log2 units)
  float l_run[2] = {0.0f, 0.0f};            // this lane's share of the row sums

  for (int j = 0; j < tiles; ++j) {
    const int stage = j & 1;
    if (j + 1 < tiles) {
      // The other stage was last read in iteration j - 1, which ended with a barrier.
      const int k_next = (j + 1) * kTcKeys;
      const int rows_next = min(kTcKeys, keys - k_next);
      T* next = kv_s + (stage ^ 1) * 2 * L::kv_elems;
      load_tile_async<T, D>(k_g + static_cast<std::size_t>(k_next) * ld, ld, rows_next, kTcKeys,
                            next);
      load_tile_async<T, D>(v_g + static_cast<std::size_t>(k_next) * ld, ld, rows_next, kTcKeys,
                            next + L::kv_elems);
      commit_copies();
      wait_copies<1>();
    } else {
      wait_copies<0>();
    }
    __syncthreads();
    if (j == 0) {
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk)
        load_matrices(q_frag[kk],
                      q_s + (warp * 16 + (lane & 15)) * L::ld + kk * 16 + (lane >> 4) * 8);
    }
    const T* k_t = kv_s + stage * 2 * L::kv_elems;
    const T* v_t = k_t + L::kv_elems;

    // S = Q K^T over this tile's keys: K rows are B's columns (a column-major B operand).
    float s[kKeyTiles][4];
#pragma unroll
    for (int n = 0; n < kKeyTiles; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
    for (int nn = 0; nn < kKeyTiles / 2; ++nn)
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        std::uint32_t b[4];
        load_matrices(
            b, k_t + (nn * 16 + (group >> 1) * 8 + group_row) * L::ld + kk * 16 + (group & 1) * 8);
        mma(s[2 * nn], q_frag[kk], b[0], b[1], T{});
        mma(s[2 * nn + 1], q_frag[kk], b[2], b[3], T{});
      }

    // Online softmax in base 2; keys past the end of the sequence (or key length) score -inf.
    const int valid = min(kTcKeys, keys - j * kTcKeys);
    float top[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int n = 0; n < kKeyTiles; ++n)
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const int key = n * 8 + 2 * t + (c & 1);
        const float v = key < valid ? s[n][c] * scale_log2 : -INFINITY;
        s[n][c] = v;
        top[c >> 1] = fmaxf(top[c >> 1], v);
      }
    float alpha[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      // Finite: key 0 of every tile is valid and some lane of the quad holds it.
      const float m_new = fmaxf(m_run[h], quad_max(top[h]));
      alpha[h] = exp2f(m_run[h] - m_new);
      m_run[h] = m_new;
      l_run[h] *= alpha[h];
    }
#pragma unroll
    for (int n = 0; n < kKeyTiles; ++n)
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const float p = exp2f(s[n][c] - m_run[c >> 1]);
        s[n][c] = p;
        l_run[c >> 1] += p;
      }
#pragma unroll
    for (int n = 0; n < kDimTiles; ++n) {
      o[n][0] *= alpha[0];
      o[n][1] *= alpha[0];
      o[n][2] *= alpha[1];
      o[n][3] *= alpha[1];
    }

    // O += P V: two 8-key tiles of S make one 16-key A fragment; V through ldmatrix.trans.
#pragma unroll
    for (int kk = 0; kk < kTcKeys / 16; ++kk) {
      const std::uint32_t p[4] = {pack2(s[2 * kk][0], s[2 * kk][1], T{}),
                                  pack2(s[2 * kk][2], s[2 * kk][3], T{}),
                                  pack2(s[2 * kk + 1][0], s[2 * kk + 1][1], T{}),
                                  pack2(s[2 * kk + 1][2], s[2 * kk + 1][3], T{})};
#pragma unroll
      for (int dd = 0; dd < D / 16; ++dd) {
        std::uint32_t b[4];
        load_matrices_transposed(
            b, v_t + (kk * 16 + (group & 1) * 8 + group_row) * L::ld + dd * 16 + (group >> 1) * 8);
        mma(o[2 * dd], p, b[0], b[1], T{});
        mma(o[2 * dd + 1], p, b[2], b[3], T{});
      }
    }
    __syncthreads();  // every warp is done with this stage before it is refilled
  }

  const float inv[2] = {1.0f / quad_sum(l_run[0]), 1.0f / quad_sum(l_run[1])};
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int row = warp * 16 + g + 8 * h;
    if (row >= q_rows) continue;
    T* out = static_cast<T*>(a.out) +
             (static_cast<std::size_t>(seq_begin) + tile.first_row + row) * hidden + head * D +
             2 * t;
#pragma unroll
    for (int n = 0; n < kDimTiles; ++n)
      *reinterpret_cast<std::uint32_t*>(out + n * 8) =
          pack2(o[n][2 * h] * inv[h], o[n][2 * h + 1] * inv[h], T{});
  }
}

// Fallback: one warp per query row. Lanes split the keys for the scores and the head
// dimensions for the output; probabilities travel between lanes by shuffles.
template <typename T>
__global__ void __launch_bounds__(kRowsPerBlock * 32)
    attention_rows_kernel(AttentionArgs a, float scale_log2) {
  extern __shared__ float q_all[];
  constexpr int kPerLane = static_cast<int>(kMaxHeadDim) / 32;
  const int warp = static_cast<int>(threadIdx.x) >> 5;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const AttentionTile tile = a.tiles[blockIdx.x];
  const std::int64_t seq_begin = a.offsets[tile.sequence];
  const int len = static_cast<int>(a.offsets[tile.sequence + 1] - seq_begin);
  const int row = tile.first_row + warp;
  if (row >= len) return;
  const int keys = a.key_lengths == nullptr ? len : static_cast<int>(a.key_lengths[tile.sequence]);
  const int d_head = static_cast<int>(a.head_dim);
  const std::size_t head = blockIdx.y;
  const std::size_t hidden = a.heads * a.head_dim;
  const std::size_t ld = 3 * hidden;
  const T* qkv = static_cast<const T*>(a.qkv);
  const T* k_g = qkv + static_cast<std::size_t>(seq_begin) * ld + hidden + head * a.head_dim;
  const T* v_g = k_g + hidden;
  float* q = q_all + warp * d_head;
  const T* q_g = qkv + (static_cast<std::size_t>(seq_begin) + row) * ld + head * a.head_dim;
  for (int d = lane; d < d_head; d += 32) q[d] = to_float(q_g[d]);
  __syncwarp();

  float o[kPerLane];
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) o[i] = 0.0f;
  float m_run = -INFINITY;
  float l_run = 0.0f;
  for (int k0 = 0; k0 < keys; k0 += 32) {
    const int key = k0 + lane;
    float s = -INFINITY;
    if (key < keys) {
      const T* krow = k_g + static_cast<std::size_t>(key) * ld;
      float dot = 0.0f;
      for (int d = 0; d < d_head; ++d) dot += q[d] * to_float(krow[d]);
      s = dot * scale_log2;
    }
    const float m_new = fmaxf(m_run, warp_max(s));
    const float alpha = exp2f(m_run - m_new);
    const float p = key < keys ? exp2f(s - m_new) : 0.0f;
    l_run = l_run * alpha + warp_sum(p);
    m_run = m_new;
#pragma unroll
    for (int i = 0; i < kPerLane; ++i) o[i] *= alpha;
    const int n = min(32, keys - k0);
    for (int j = 0; j < n; ++j) {
      const float pj = __shfl_sync(0xffffffffu, p, j);
      const T* vrow = v_g + static_cast<std::size_t>(k0 + j) * ld;
#pragma unroll
      for (int i = 0; i < kPerLane; ++i) {
        const int d = lane + 32 * i;
        if (d < d_head) o[i] += pj * to_float(vrow[d]);
      }
    }
  }
  T* out = static_cast<T*>(a.out) + (static_cast<std::size_t>(seq_begin) + row) * hidden +
           head * a.head_dim;
  const float inv = 1.0f / l_run;
#pragma unroll
  for (int i = 0; i < kPerLane; ++i) {
    const int d = lane + 32 * i;
    if (d < d_head) out[d] = from_float<T>(o[i] * inv);
  }
}

template <typename T, int D>
void launch_tc(cudaStream_t stream, const AttentionArgs& a, float scale_log2) {
  constexpr std::size_t bytes = TcLayout<D>::template bytes<T>();
  // Above 48 KB a kernel must opt in to its dynamic shared memory; once per instantiation.
  static const cudaError_t opted_in =
      cudaFuncSetAttribute(attention_tc_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                           static_cast<int>(bytes));
  (void)opted_in;
  const dim3 grid(static_cast<unsigned>(a.tile_count), static_cast<unsigned>(a.heads));
  attention_tc_kernel<T, D><<<grid, kTcWarps * 32, bytes, stream>>>(a, scale_log2);
}

template <typename T>
void launch_rows(cudaStream_t stream, const AttentionArgs& a, float scale_log2) {
  const dim3 grid(static_cast<unsigned>(a.tile_count), static_cast<unsigned>(a.heads));
  attention_rows_kernel<T>
      <<<grid, kRowsPerBlock * 32, kRowsPerBlock * a.head_dim * sizeof(float), stream>>>(
          a, scale_log2);
}

template <typename T>
void launch_tc_for_head(cudaStream_t stream, const AttentionArgs& a, float scale_log2) {
  switch (a.head_dim) {
    case 32:
      launch_tc<T, 32>(stream, a, scale_log2);
      break;
    case 64:
      launch_tc<T, 64>(stream, a, scale_log2);
      break;
    default:
      launch_tc<T, 128>(stream, a, scale_log2);
      break;
  }
}

}  // namespace

bool attention_uses_tensor_cores(Element e, std::size_t head_dim, std::size_t hidden,
                                 const void* qkv) {
  return e != Element::f32 && (head_dim == 32 || head_dim == 64 || head_dim == 128) &&
         hidden % 8 == 0 && reinterpret_cast<std::uintptr_t>(qkv) % 16 == 0;
}

std::size_t attention_tile_rows(bool tensor_cores) {
  return tensor_cores ? kTcRows : kRowsPerBlock;
}

void attention(Element e, cudaStream_t stream, const AttentionArgs& a) {
  if (a.tile_count == 0 || a.heads == 0) return;
  const float scale_log2 = kLog2e / std::sqrt(static_cast<float>(a.head_dim));
  const bool tc = attention_uses_tensor_cores(e, a.head_dim, a.heads * a.head_dim, a.qkv);
  switch (e) {
    case Element::f32:
      launch_rows<float>(stream, a, scale_log2);
      break;
    case Element::f16:
      if (tc)
        launch_tc_for_head<__half>(stream, a, scale_log2);
      else
        launch_rows<__half>(stream, a, scale_log2);
      break;
    case Element::bf16:
      if (tc)
        launch_tc_for_head<__nv_bfloat16>(stream, a, scale_log2);
      else
        launch_rows<__nv_bfloat16>(stream, a, scale_log2);
      break;
  }
}

}  // namespace rank_rerank::backend::cuda
