// Element conversions and block reductions shared by the encoder kernels. Values are widened to
// f32 for all arithmetic and narrowed once when stored.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace rank_rerank::backend::cuda {

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ __half from_float<__half>(float v) {
  return __float2half_rn(v);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// 16-byte vectors of elements: how rows are moved by the vectorised row kernels.
template <typename T>
struct Vec16 {
  static constexpr int size = 16 / static_cast<int>(sizeof(T));
};

template <typename T>
__device__ __forceinline__ void unpack16(const uint4& packed, float* values) {
  const T* e = reinterpret_cast<const T*>(&packed);
#pragma unroll
  for (int j = 0; j < Vec16<T>::size; ++j) values[j] = to_float(e[j]);
}

template <typename T>
__device__ __forceinline__ uint4 pack16(const float* values) {
  uint4 packed;
  T* e = reinterpret_cast<T*>(&packed);
#pragma unroll
  for (int j = 0; j < Vec16<T>::size; ++j) e[j] = from_float<T>(values[j]);
  return packed;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the total.
// `scratch` holds 32 floats; the call synchronises the block twice.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int warp = static_cast<int>(threadIdx.x) >> 5;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int warps = static_cast<int>(blockDim.x) >> 5;
  float total = lane < warps ? scratch[lane] : 0.0f;
  total = warp_sum(total);
  __syncthreads();
  return total;
}

}  // namespace rank_rerank::backend::cuda
