// Row kernels of the CUDA encoder: embeddings + LayerNorm, residual + LayerNorm, bias +
// activation, pooling, L2 normalisation, dtype conversion. All memory-bound; each reads its
// inputs once and writes once, with f32 statistics (two-pass mean / variance as the CPU backend).
//
// The hot ones (the LayerNorms and bias + activation, run per layer over every token) have a
// vectorised form used whenever rows are whole 16-byte vectors and every pointer is 16-byte
// aligned: one warp per row, each lane holding its share of the row in registers (so the two
// statistics passes cost no extra memory traffic), 16-byte loads and stores throughout. The
// block-per-row forms remain for odd widths.
#include <cstdint>
#include <type_traits>

#include "backend/cuda/encoder_element.cuh"
#include "backend/cuda/encoder_kernels.hpp"

namespace rank_rerank::backend::cuda {
namespace {

constexpr int kRowThreads = 256;

// Threads per row block: enough to cover the row with few passes, a multiple of 32.
unsigned row_threads(std::size_t cols) {
  if (cols <= 128) return 64;
  if (cols <= 512) return 128;
  return kRowThreads;
}

// LayerNorm of one row already summed into shared memory `row` (f32), written to `out`.
template <typename T>
__device__ void layernorm_row(const float* row, int cols, const T* gamma, const T* beta, float eps,
                              T* out, float* scratch) {
  float sum = 0.0f;
  for (int c = static_cast<int>(threadIdx.x); c < cols; c += static_cast<int>(blockDim.x))
    sum += row[c];
  const float mean = block_sum(sum, scratch) / static_cast<float>(cols);
  float squares = 0.0f;
  for (int c = static_cast<int>(threadIdx.x); c < cols; c += static_cast<int>(blockDim.x)) {
    const float d = row[c] - mean;
    squares += d * d;
  }
  const float variance = block_sum(squares, scratch) / static_cast<float>(cols);
  const float inv = rsqrtf(variance + eps);
  for (int c = static_cast<int>(threadIdx.x); c < cols; c += static_cast<int>(blockDim.x))
    out[c] = from_float<T>((row[c] - mean) * inv * to_float(gamma[c]) + to_float(beta[c]));
}

constexpr int kWarpRows = 4;  // rows per block of the warp-per-row kernels

// Lane l's vectors l, l + 32, ... (those below `vectors`) of a row of 16-byte vectors.
template <int kVecs>
__device__ __forceinline__ void load_lane_vectors(const void* row, int vectors, int lane,
                                                  uint4 (&out)[kVecs]) {
  const uint4* p = reinterpret_cast<const uint4*>(row);
#pragma unroll
  for (int i = 0; i < kVecs; ++i)
    if (lane + 32 * i < vectors) out[i] = __ldg(p + lane + 32 * i);
}

// LayerNorm of one row held by a warp: lane l owns vectors l, l + 32, ... (those below `vectors`)
// of v, already summed; writes the normalised row to `out`. The caller loads its lanes' gamma and
// beta vectors before the row itself, so their latency hides behind the row's (with few rows, as
// in a batch of one, each load is a round trip the whole kernel waits for).
template <typename T, int kVecs>
__device__ __forceinline__ void layernorm_warp_row(float (&v)[kVecs][Vec16<T>::size], int vectors,
                                                   int cols, const uint4 (&g)[kVecs],
                                                   const uint4 (&b)[kVecs], float eps, T* out,
                                                   int lane) {
  constexpr int n = Vec16<T>::size;
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kVecs; ++i)
    if (lane + 32 * i < vectors)
#pragma unroll
      for (int j = 0; j < n; ++j) sum += v[i][j];
  const float mean = warp_sum(sum) / static_cast<float>(cols);
  float squares = 0.0f;
#pragma unroll
  for (int i = 0; i < kVecs; ++i)
    if (lane + 32 * i < vectors)
#pragma unroll
      for (int j = 0; j < n; ++j) {
        const float d = v[i][j] - mean;
        squares += d * d;
      }
  const float inv = rsqrtf(warp_sum(squares) / static_cast<float>(cols) + eps);
  uint4* o = reinterpret_cast<uint4*>(out);
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    const int k = lane + 32 * i;
    if (k >= vectors) continue;
    float gv[n], bv[n], r[n];
    unpack16<T>(g[i], gv);
    unpack16<T>(b[i], bv);
#pragma unroll
    for (int j = 0; j < n; ++j) r[j] = (v[i][j] - mean) * inv * gv[j] + bv[j];
    o[k] = pack16<T>(r);
  }
}

template <typename T, int kVecs>
__global__ void __launch_bounds__(kWarpRows * 32)
    add_layernorm_warp_kernel(T* x, const T* residual, const T* gamma, const T* beta,
                              std::size_t rows, int cols, float eps) {
  constexpr int n = Vec16<T>::size;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const std::size_t row = blockIdx.x * std::size_t{kWarpRows} + (threadIdx.x >> 5);
  if (row >= rows) return;
  const int vectors = cols / n;
  uint4 g[kVecs], b[kVecs];
  load_lane_vectors(gamma, vectors, lane, g);
  load_lane_vectors(beta, vectors, lane, b);
  T* xr = x + row * cols;
  const uint4* xv = reinterpret_cast<const uint4*>(xr);
  const uint4* rv = reinterpret_cast<const uint4*>(residual + row * cols);
  float v[kVecs][n];
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    const int k = lane + 32 * i;
    if (k >= vectors) continue;
    float a[n];
    unpack16<T>(xv[k], v[i]);
    unpack16<T>(rv[k], a);
#pragma unroll
    for (int j = 0; j < n; ++j) v[i][j] += a[j];
  }
  layernorm_warp_row<T, kVecs>(v, vectors, cols, g, b, eps, xr, lane);
}

template <typename T, int kVecs>
__global__ void __launch_bounds__(kWarpRows * 32)
    embed_layernorm_warp_kernel(const std::int32_t* ids, const std::int32_t* type_ids,
                                const std::int32_t* positions, const T* word, const T* position,
                                const T* token_type, const T* gamma, const T* beta,
                                std::size_t tokens, int hidden, float eps, T* out) {
  constexpr int n = Vec16<T>::size;
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const std::size_t t = blockIdx.x * std::size_t{kWarpRows} + (threadIdx.x >> 5);
  if (t >= tokens) return;
  const int vectors = hidden / n;
  uint4 g[kVecs], b[kVecs];
  load_lane_vectors(gamma, vectors, lane, g);
  load_lane_vectors(beta, vectors, lane, b);
  const uint4* w = reinterpret_cast<const uint4*>(word + static_cast<std::size_t>(ids[t]) * hidden);
  const uint4* p =
      reinterpret_cast<const uint4*>(position + static_cast<std::size_t>(positions[t]) * hidden);
  const uint4* y = token_type == nullptr
                       ? nullptr
                       : reinterpret_cast<const uint4*>(
                             token_type + static_cast<std::size_t>(type_ids[t]) * hidden);
  float v[kVecs][n];
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    const int k = lane + 32 * i;
    if (k >= vectors) continue;
    float a[n];
    unpack16<T>(__ldg(w + k), v[i]);
    unpack16<T>(__ldg(p + k), a);
#pragma unroll
    for (int j = 0; j < n; ++j) v[i][j] += a[j];
    if (y != nullptr) {
      unpack16<T>(__ldg(y + k), a);
#pragma unroll
      for (int j = 0; j < n; ++j) v[i][j] += a[j];
    }
  }
  layernorm_warp_row<T, kVecs>(v, vectors, hidden, g, b, eps, out + t * hidden, lane);
}

template <typename T>
__global__ void embed_layernorm_kernel(const std::int32_t* ids, const std::int32_t* type_ids,
                                       const std::int32_t* positions, const T* word,
                                       const T* position, const T* token_type, const T* gamma,
                                       const T* beta, int hidden, float eps, T* out) {
  extern __shared__ float row[];
  __shared__ float scratch[32];
  const std::size_t t = blockIdx.x;
  const T* w = word + static_cast<std::size_t>(ids[t]) * hidden;
  const T* p = position + static_cast<std::size_t>(positions[t]) * hidden;
  const T* y =
      token_type == nullptr ? nullptr : token_type + static_cast<std::size_t>(type_ids[t]) * hidden;
  for (int c = static_cast<int>(threadIdx.x); c < hidden; c += static_cast<int>(blockDim.x))
    row[c] = to_float(w[c]) + to_float(p[c]) + (y == nullptr ? 0.0f : to_float(y[c]));
  __syncthreads();
  layernorm_row(row, hidden, gamma, beta, eps, out + t * hidden, scratch);
}

template <typename T>
__global__ void add_layernorm_kernel(T* x, const T* residual, const T* gamma, const T* beta,
                                     int cols, float eps) {
  extern __shared__ float row[];
  __shared__ float scratch[32];
  T* xr = x + static_cast<std::size_t>(blockIdx.x) * cols;
  const T* rr = residual + static_cast<std::size_t>(blockIdx.x) * cols;
  for (int c = static_cast<int>(threadIdx.x); c < cols; c += static_cast<int>(blockDim.x))
    row[c] = to_float(xr[c]) + to_float(rr[c]);
  __syncthreads();
  layernorm_row(row, cols, gamma, beta, eps, xr, scratch);
}

__device__ __forceinline__ float activate(float v, ActivationCode activation) {
  switch (activation) {
    case ActivationCode::identity:
      return v;
    case ActivationCode::gelu_erf:
      return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case ActivationCode::gelu_tanh:
      return 0.5f * v * (1.0f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v)));
    case ActivationCode::relu:
      return fmaxf(v, 0.0f);
    case ActivationCode::tanh:
      return tanhf(v);
    case ActivationCode::sigmoid:
      return 1.0f / (1.0f + expf(-v));
  }
  return v;
}

template <typename T>
__global__ void bias_activation_kernel(T* y, const T* bias, std::size_t rows, std::size_t cols,
                                       ActivationCode activation) {
  const std::size_t n = rows * cols;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const float b = bias == nullptr ? 0.0f : to_float(bias[i % cols]);
    y[i] = from_float<T>(activate(to_float(y[i]) + b, activation));
  }
}

// Vectorised bias + activation: rows are whole vectors (cols a multiple of the vector size).
template <typename T, ActivationCode kActivation>
__global__ void bias_activation_vec_kernel(T* y, const T* bias, std::size_t vectors,
                                           std::size_t row_vectors) {
  constexpr int n = Vec16<T>::size;
  uint4* yv = reinterpret_cast<uint4*>(y);
  const uint4* bv = reinterpret_cast<const uint4*>(bias);
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < vectors;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    float v[n];
    unpack16<T>(yv[i], v);
    if (bias != nullptr) {
      float b[n];
      unpack16<T>(__ldg(bv + i % row_vectors), b);
#pragma unroll
      for (int j = 0; j < n; ++j) v[j] += b[j];
    }
#pragma unroll
    for (int j = 0; j < n; ++j) v[j] = activate(v[j], kActivation);
    yv[i] = pack16<T>(v);
  }
}

template <typename T>
__global__ void add_kernel(T* y, const T* x, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    y[i] = from_float<T>(to_float(y[i]) + to_float(x[i]));
}

template <typename T>
__global__ void pool_kernel(const T* x, int cols, const std::int64_t* offsets, PoolingCode mode,
                            T* out, std::size_t out_stride) {
  const std::size_t s = blockIdx.x;
  const std::int64_t begin = offsets[s];
  const std::int64_t end = offsets[s + 1];
  T* dst = out + s * out_stride;
  for (int c = static_cast<int>(threadIdx.x); c < cols; c += static_cast<int>(blockDim.x)) {
    float value = 0.0f;
    if (begin < end) {
      switch (mode) {
        case PoolingCode::cls:
          value = to_float(x[begin * cols + c]);
          break;
        case PoolingCode::last_token:
          value = to_float(x[(end - 1) * cols + c]);
          break;
        case PoolingCode::max:
          value = to_float(x[begin * cols + c]);
          for (std::int64_t t = begin + 1; t < end; ++t)
            value = fmaxf(value, to_float(x[t * cols + c]));
          break;
        case PoolingCode::mean:
        case PoolingCode::mean_sqrt_len: {
          for (std::int64_t t = begin; t < end; ++t) value += to_float(x[t * cols + c]);
          const auto count = static_cast<float>(end - begin);
          value /= mode == PoolingCode::mean ? count : sqrtf(count);
          break;
        }
      }
    }
    dst[c] = from_float<T>(value);
  }
}

template <typename T>
__global__ void l2_normalize_kernel(T* x, int cols) {
  __shared__ float scratch[32];
  T* row = x + static_cast<std::size_t>(blockIdx.x) * cols;
  float squares = 0.0f;
  for (int c = static_cast<int>(threadIdx.x); c < cols; c += static_cast<int>(blockDim.x)) {
    const float v = to_float(row[c]);
    squares += v * v;
  }
  const float scale = 1.0f / fmaxf(sqrtf(block_sum(squares, scratch)), 1e-12f);
  for (int c = static_cast<int>(threadIdx.x); c < cols; c += static_cast<int>(blockDim.x))
    row[c] = from_float<T>(to_float(row[c]) * scale);
}

template <typename From, typename To>
__global__ void convert_kernel(const From* source, std::size_t n, To* destination) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    destination[i] = from_float<To>(to_float(source[i]));
}

unsigned elementwise_blocks(std::size_t n) {
  const std::size_t blocks = (n + 255) / 256;
  return static_cast<unsigned>(blocks < 8192 ? (blocks == 0 ? 1 : blocks) : 8192);
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// Vectors per lane the warp-per-row kernels provide for (2, 4 or 8), or 0 when a row of `cols`
// elements of `bytes` each is not whole vectors or is too long for one warp's registers.
int warp_row_vectors(std::size_t cols, std::size_t bytes) {
  if (cols * bytes % 16 != 0) return 0;
  const std::size_t vectors = cols * bytes / 16;
  if (vectors <= 64) return 2;
  if (vectors <= 128) return 4;
  if (vectors <= 256) return 8;
  return 0;
}

template <int... kOptions, typename F>
void with_vectors(int vecs, F&& f) {
  ((vecs == kOptions ? (f(std::integral_constant<int, kOptions>{}), 0) : 0), ...);
}

unsigned warp_row_blocks(std::size_t rows) {
  return static_cast<unsigned>((rows + kWarpRows - 1) / kWarpRows);
}

// Calls f with a typed null pointer naming the element type.
template <typename F>
void dispatch(Element e, F&& f) {
  switch (e) {
    case Element::f32:
      f(static_cast<float*>(nullptr));
      break;
    case Element::f16:
      f(static_cast<__half*>(nullptr));
      break;
    case Element::bf16:
      f(static_cast<__nv_bfloat16*>(nullptr));
      break;
  }
}

}  // namespace

void embed_layernorm(Element e, cudaStream_t stream, const std::int32_t* ids,
                     const std::int32_t* type_ids, const std::int32_t* positions, const void* word,
                     const void* position, const void* token_type, const void* gamma,
                     const void* beta, std::size_t tokens, std::size_t hidden, float eps,
                     void* out) {
  if (tokens == 0) return;
  dispatch(e, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const int vecs = warp_row_vectors(hidden, sizeof(T));
    const bool vectorised = vecs > 0 && aligned16(word) && aligned16(position) &&
                            aligned16(token_type) && aligned16(gamma) && aligned16(beta) &&
                            aligned16(out);
    if (vectorised) {
      with_vectors<2, 4, 8>(vecs, [&](auto k) {
        embed_layernorm_warp_kernel<T, decltype(k)::value>
            <<<warp_row_blocks(tokens), kWarpRows * 32, 0, stream>>>(
                ids, type_ids, positions, static_cast<const T*>(word),
                static_cast<const T*>(position), static_cast<const T*>(token_type),
                static_cast<const T*>(gamma), static_cast<const T*>(beta), tokens,
                static_cast<int>(hidden), eps, static_cast<T*>(out));
      });
      return;
    }
    embed_layernorm_kernel<T>
        <<<static_cast<unsigned>(tokens), row_threads(hidden), hidden * sizeof(float), stream>>>(
            ids, type_ids, positions, static_cast<const T*>(word), static_cast<const T*>(position),
            static_cast<const T*>(token_type), static_cast<const T*>(gamma),
            static_cast<const T*>(beta), static_cast<int>(hidden), eps, static_cast<T*>(out));
  });
}

void add_layernorm(Element e, cudaStream_t stream, void* x, const void* residual, const void* gamma,
                   const void* beta, std::size_t rows, std::size_t cols, float eps) {
  if (rows == 0) return;
  dispatch(e, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const int vecs = warp_row_vectors(cols, sizeof(T));
    if (vecs > 0 && aligned16(x) && aligned16(residual) && aligned16(gamma) && aligned16(beta)) {
      with_vectors<2, 4, 8>(vecs, [&](auto k) {
        add_layernorm_warp_kernel<T, decltype(k)::value>
            <<<warp_row_blocks(rows), kWarpRows * 32, 0, stream>>>(
                static_cast<T*>(x), static_cast<const T*>(residual), static_cast<const T*>(gamma),
                static_cast<const T*>(beta), rows, static_cast<int>(cols), eps);
      });
      return;
    }
    add_layernorm_kernel<T>
        <<<static_cast<unsigned>(rows), row_threads(cols), cols * sizeof(float), stream>>>(
            static_cast<T*>(x), static_cast<const T*>(residual), static_cast<const T*>(gamma),
            static_cast<const T*>(beta), static_cast<int>(cols), eps);
  });
}

void bias_activation(Element e, cudaStream_t stream, void* y, const void* bias, std::size_t rows,
                     std::size_t cols, ActivationCode activation) {
  if (rows * cols == 0) return;
  dispatch(e, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    constexpr std::size_t n = Vec16<T>::size;
    if (cols % n == 0 && aligned16(y) && (bias == nullptr || aligned16(bias))) {
      const std::size_t vectors = rows * cols / n;
      const auto launch = [&](auto code) {
        bias_activation_vec_kernel<T, decltype(code)::value>
            <<<elementwise_blocks(vectors), 256, 0, stream>>>(
                static_cast<T*>(y), static_cast<const T*>(bias), vectors, cols / n);
      };
      using A = ActivationCode;
      switch (activation) {
        case A::identity:
          launch(std::integral_constant<A, A::identity>{});
          break;
        case A::gelu_erf:
          launch(std::integral_constant<A, A::gelu_erf>{});
          break;
        case A::gelu_tanh:
          launch(std::integral_constant<A, A::gelu_tanh>{});
          break;
        case A::relu:
          launch(std::integral_constant<A, A::relu>{});
          break;
        case A::tanh:
          launch(std::integral_constant<A, A::tanh>{});
          break;
        case A::sigmoid:
          launch(std::integral_constant<A, A::sigmoid>{});
          break;
      }
      return;
    }
    bias_activation_kernel<T><<<elementwise_blocks(rows * cols), 256, 0, stream>>>(
        static_cast<T*>(y), static_cast<const T*>(bias), rows, cols, activation);
  });
}

void add(Element e, cudaStream_t stream, void* y, const void* x, std::size_t n) {
  if (n == 0) return;
  dispatch(e, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    add_kernel<T><<<elementwise_blocks(n), 256, 0, stream>>>(static_cast<T*>(y),
                                                             static_cast<const T*>(x), n);
  });
}

void pool(Element e, cudaStream_t stream, const void* x, std::size_t cols,
          const std::int64_t* offsets, std::size_t sequences, PoolingCode mode, void* out,
          std::size_t out_stride) {
  if (sequences == 0) return;
  dispatch(e, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    pool_kernel<T><<<static_cast<unsigned>(sequences), row_threads(cols), 0, stream>>>(
        static_cast<const T*>(x), static_cast<int>(cols), offsets, mode, static_cast<T*>(out),
        out_stride);
  });
}

void l2_normalize_rows(Element e, cudaStream_t stream, void* x, std::size_t rows,
                       std::size_t cols) {
  if (rows == 0) return;
  dispatch(e, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    l2_normalize_kernel<T><<<static_cast<unsigned>(rows), row_threads(cols), 0, stream>>>(
        static_cast<T*>(x), static_cast<int>(cols));
  });
}

void convert_from_f32(Element e, cudaStream_t stream, const float* source, std::size_t n,
                      void* destination) {
  if (n == 0) return;
  dispatch(e, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    convert_kernel<float, T>
        <<<elementwise_blocks(n), 256, 0, stream>>>(source, n, static_cast<T*>(destination));
  });
}

void convert_to_f32(Element e, cudaStream_t stream, const void* source, std::size_t n,
                    float* destination) {
  if (n == 0) return;
  dispatch(e, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    convert_kernel<T, float>
        <<<elementwise_blocks(n), 256, 0, stream>>>(static_cast<const T*>(source), n, destination);
  });
}

}  // namespace rank_rerank::backend::cuda
