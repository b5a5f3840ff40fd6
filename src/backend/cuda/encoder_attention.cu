// Attention over packed variable-length sequences, FlashAttention-2 style: each block owns a tile
// of query rows of one (sequence, head), streams the sequence's keys and values through shared
// memory in tiles and keeps a running max and sum per row (online softmax), so the score matrix
// never reaches device memory. Blocks exist only for tiles holding real tokens (the backend lists
// them), so no work is spent on padding beyond the last partial tile of a sequence.
//
// f16 / bf16 with head_dim 32, 64 or 128: tensor cores through WMMA fragments (HMMA, i.e.
// mma.sync, on sm80+). Four warps own 16 query rows each; scores and the f32 output accumulator
// are staged in shared memory between the two products so the running rescale stays exact f32.
// Everything else (f32, other head sizes): one warp per query row, f32 arithmetic throughout.
#include <mma.h>

#include <cmath>
#include <cstdint>

#include "backend/cuda/encoder_element.cuh"
#include "backend/cuda/encoder_kernels.hpp"

namespace rank_rerank::backend::cuda {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kTcRows = 64;  // query rows per tensor-core block: 4 warps x 16
constexpr int kTcKeys = 64;  // keys per shared-memory tile
constexpr int kTcWarps = 4;
constexpr int kRowsPerBlock = 4;  // fallback: one warp per query row
constexpr float kLog2e = 1.4426950408889634f;

// Shared-memory layout of the tensor-core kernel. Row pitches are padded (against bank
// conflicts) but keep every 16-row fragment 32-byte aligned, as WMMA requires.
template <typename T, int D>
struct TcLayout {
  static constexpr int ldt = D + 8;        // Q, K, V rows (T)
  static constexpr int lds = kTcKeys + 4;  // scores (f32)
  static constexpr int ldp = kTcKeys + 8;  // probabilities (T)
  static constexpr int ldo = D + 4;        // output accumulator (f32)
  static constexpr std::size_t q_elems = kTcRows * ldt;
  static constexpr std::size_t kv_elems = kTcKeys * ldt;
  static constexpr std::size_t bytes =
      (q_elems + 2 * kv_elems) * sizeof(T) + kTcWarps * 16 * lds * sizeof(float) +
      kTcWarps * 16 * ldp * sizeof(T) + kTcWarps * 16 * ldo * sizeof(float);
};

// Copies `rows` rows of D elements (16-byte chunks) from global rows `ld` apart into shared rows
// `lds` apart; rows from `rows` up to `tile` are zero-filled so padded keys contribute 0 * 0.
template <typename T, int D>
__device__ __forceinline__ void load_tile(const T* source, std::size_t ld, int rows, int tile,
                                          T* destination, int lds) {
  constexpr int chunks = D * static_cast<int>(sizeof(T)) / 16;
  constexpr int per_chunk = 16 / static_cast<int>(sizeof(T));
  for (int i = static_cast<int>(threadIdx.x); i < tile * chunks;
       i += static_cast<int>(blockDim.x)) {
    const int r = i / chunks;
    const int c = (i % chunks) * per_chunk;
    uint4 v = make_uint4(0, 0, 0, 0);
    if (r < rows) v = *reinterpret_cast<const uint4*>(source + r * ld + c);
    *reinterpret_cast<uint4*>(destination + r * lds + c) = v;
  }
}

template <typename T, int D>
__global__ void __launch_bounds__(kTcWarps * 32)
    attention_tc_kernel(AttentionArgs a, float scale_log2) {
  using L = TcLayout<T, D>;
  extern __shared__ __align__(128) unsigned char smem[];
  T* q_s = reinterpret_cast<T*>(smem);
  T* k_s = q_s + L::q_elems;
  T* v_s = k_s + L::kv_elems;
  float* s_all = reinterpret_cast<float*>(v_s + L::kv_elems);
  T* p_all = reinterpret_cast<T*>(s_all + kTcWarps * 16 * L::lds);
  float* o_all = reinterpret_cast<float*>(p_all + kTcWarps * 16 * L::ldp);

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

  load_tile<T, D>(q_g, ld, q_rows, kTcRows, q_s, L::ldt);
  float* s_w = s_all + warp * 16 * L::lds;
  T* p_w = p_all + warp * 16 * L::ldp;
  float* o_w = o_all + warp * 16 * L::ldo;
  for (int i = lane; i < 16 * L::ldo; i += 32) o_w[i] = 0.0f;

  // Lane pair (2r, 2r + 1) owns row r of the warp's 16: each lane half of the keys / columns.
  const int r = lane >> 1;
  const int half = lane & 1;
  float m_run = -INFINITY;
  float l_run = 0.0f;

  for (int k0 = 0; k0 < keys; k0 += kTcKeys) {
    const int kn = min(kTcKeys, keys - k0);
    __syncthreads();  // every warp is done with the previous K / V tile
    load_tile<T, D>(k_g + static_cast<std::size_t>(k0) * ld, ld, kn, kTcKeys, k_s, L::ldt);
    load_tile<T, D>(v_g + static_cast<std::size_t>(k0) * ld, ld, kn, kTcKeys, v_s, L::ldt);
    __syncthreads();

    // S = Q_w K^T: K's rows are the columns of K^T, i.e. a column-major B operand.
#pragma unroll
    for (int n = 0; n < kTcKeys / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.0f);
#pragma unroll
      for (int k = 0; k < D / 16; ++k) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb;
        wmma::load_matrix_sync(fa, q_s + warp * 16 * L::ldt + k * 16, L::ldt);
        wmma::load_matrix_sync(fb, k_s + n * 16 * L::ldt + k * 16, L::ldt);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(s_w + n * 16, acc, L::lds, wmma::mem_row_major);
    }
    __syncwarp();

    float* srow = s_w + r * L::lds + half * 32;
    float top = -INFINITY;
    for (int c = 0; c < 32; ++c) {
      const float v = half * 32 + c < kn ? srow[c] * scale_log2 : -INFINITY;
      srow[c] = v;
      top = fmaxf(top, v);
    }
    top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 1));
    const float m_new = fmaxf(m_run, top);  // finite: every tile holds at least one key
    const float alpha = exp2f(m_run - m_new);
    float sum = 0.0f;
    T* prow = p_w + r * L::ldp + half * 32;
    for (int c = 0; c < 32; ++c) {
      const float p = exp2f(srow[c] - m_new);
      sum += p;
      prow[c] = from_float<T>(p);
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    l_run = l_run * alpha + sum;
    m_run = m_new;
    float* orow = o_w + r * L::ldo + half * (D / 2);
    for (int c = 0; c < D / 2; ++c) orow[c] *= alpha;
    __syncwarp();

    // O_w += P_w V.
#pragma unroll
    for (int n = 0; n < D / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, o_w + n * 16, L::ldo, wmma::mem_row_major);
#pragma unroll
      for (int k = 0; k < kTcKeys / 16; ++k) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> fb;
        wmma::load_matrix_sync(fa, p_w + k * 16, L::ldp);
        wmma::load_matrix_sync(fb, v_s + k * 16 * L::ldt + n * 16, L::ldt);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(o_w + n * 16, acc, L::ldo, wmma::mem_row_major);
    }
    __syncwarp();
  }

  const int row = warp * 16 + r;
  if (row < q_rows) {
    const float inv = 1.0f / l_run;
    const float* orow = o_w + r * L::ldo + half * (D / 2);
    T* out = static_cast<T*>(a.out) +
             (static_cast<std::size_t>(seq_begin) + tile.first_row + row) * hidden + head * D +
             half * (D / 2);
    for (int c = 0; c < D / 2; ++c) out[c] = from_float<T>(orow[c] * inv);
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
  constexpr std::size_t bytes = TcLayout<T, D>::bytes;
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
