// Row kernels of the CUDA encoder: embeddings + LayerNorm, residual + LayerNorm, bias +
// activation, pooling, L2 normalisation, dtype conversion. All memory-bound; each reads its
// inputs once and writes once, with f32 statistics (two-pass mean / variance as the CPU backend).
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
