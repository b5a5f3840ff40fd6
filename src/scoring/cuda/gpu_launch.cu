// Launch planning and dispatch for the MaxSim kernels, device memory and copies, the device
// guard, and top-k on the device (a radix sort of (row, score) keys).
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cub/device/device_radix_sort.cuh>

#include "scoring/cuda/maxsim_device.cuh"
#include "scoring/cuda/maxsim_kernels.hpp"

namespace rank_rerank::gpu_detail {

DeviceGuard::DeviceGuard(int device) {
  check_cuda(cudaGetDevice(&previous_), "cudaGetDevice");
  if (previous_ != device) check_cuda(cudaSetDevice(device), "cudaSetDevice");
}

DeviceGuard::~DeviceGuard() {
  int current = -1;
  if (cudaGetDevice(&current) == cudaSuccess && current != previous_) cudaSetDevice(previous_);
}

Geometry plan_geometry(std::size_t n_queries, std::size_t n_docs, int blocks_per_sm) {
  int device = 0, sms = 1;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
             "cudaDeviceGetAttribute");
  Geometry geo;
  geo.query_warps = n_queries >= 4 ? 4 : n_queries >= 2 ? 2 : 1;
  const std::int64_t query_blocks =
      (static_cast<std::int64_t>(n_queries) + geo.query_warps - 1) / geo.query_warps;
  const std::int64_t lanes_per_block = kWarpsPerBlock / geo.query_warps;
  // One wave of resident blocks; each warp then walks its chunks of documents.
  const std::int64_t wave = static_cast<std::int64_t>(sms) * blocks_per_sm;
  std::int64_t doc_blocks = std::max<std::int64_t>(1, wave / query_blocks);
  const std::int64_t docs = static_cast<std::int64_t>(n_docs);
  // Chunks of a few documents keep a warp's reads contiguous; many chunks per warp lane even
  // out documents of different lengths.
  geo.chunk_docs = std::clamp<std::int64_t>(docs / (doc_blocks * lanes_per_block * 16), 1, 4);
  const std::int64_t chunks = (docs + geo.chunk_docs - 1) / geo.chunk_docs;
  doc_blocks = std::clamp<std::int64_t>((chunks + lanes_per_block - 1) / lanes_per_block, 1,
                                        std::min<std::int64_t>(doc_blocks, 65535));
  geo.grid = dim3(static_cast<unsigned>(query_blocks), static_cast<unsigned>(doc_blocks), 1);
  return geo;
}

void launch_maxsim(const ScoreLaunch& launch) {
  if (launch.n_queries == 0 || launch.n_docs == 0) return;
  ScoreLaunch p = launch;
  // One query of one 32-row group: warps claim chunks of documents from a counter as they go,
  // so documents of uneven lengths do not leave a tail of warps still busy with a long share.
  // (Several groups add into the same scores in order, which needs the same warp to score a
  // document for every group: fixed shares.)
  const bool dynamic = p.n_queries == 1 && p.max_query_rows > 0 && p.max_query_rows <= 32;
  if (dynamic) {
    p.work_counter =
        static_cast<unsigned long long*>(device_alloc_async(sizeof(unsigned long long), p.stream));
    const cudaError_t err = cudaMemsetAsync(p.work_counter, 0, sizeof(unsigned long long),
                                            static_cast<cudaStream_t>(p.stream));
    if (err != cudaSuccess) device_free_async(p.work_counter, p.stream);
    check_cuda(err, "MaxSim work counter");
  }
  try {
    if (p.docs.dtype == kF32) {
      launch_maxsim_f32(p);
    } else {
      launch_maxsim_mma(p);
    }
  } catch (...) {
    device_free_async(p.work_counter, p.stream);
    throw;
  }
  device_free_async(p.work_counter, p.stream);
}

namespace {

// Ascending key = the order of top_k(): row first, then higher score, ties (and -0 / +0) by the
// stable sort's index order, NaN after every number.
__global__ void topk_keys_kernel(const float* scores, std::int64_t n_cols, std::int64_t total,
                                 unsigned long long* keys, int* cols) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    float s = scores[i];
    std::uint32_t key;
    if (s != s) {
      key = 0xffffffffu;
    } else {
      if (s == 0.0f) s = 0.0f;  // -0 ties with +0
      const std::uint32_t u = __float_as_uint(s);
      const std::uint32_t ascending = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
      key = ~ascending;
    }
    keys[i] = (static_cast<unsigned long long>(i / n_cols) << 32) | key;
    cols[i] = static_cast<int>(i % n_cols);
  }
}

__global__ void topk_gather_kernel(const float* scores, const int* sorted_cols, std::int64_t n_rows,
                                   std::int64_t n_cols, std::int64_t k, std::int64_t* indices,
                                   float* top_scores) {
  const std::int64_t total = n_rows * k;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t row = i / k, rank = i % k;
    const int col = sorted_cols[row * n_cols + rank];
    indices[i] = col;
    top_scores[i] = scores[row * n_cols + col];
  }
}

int bits_for(std::size_t n) {
  int bits = 0;
  while (bits < 32 && (std::size_t{1} << bits) < n) ++bits;
  return bits;
}

}  // namespace

void launch_top_k(const float* scores, std::size_t n_rows, std::size_t n_cols, std::size_t k,
                  std::int64_t* indices, float* top_scores, void* stream_ptr) {
  if (n_rows == 0 || k == 0) return;
  const std::size_t total = n_rows * n_cols;
  if (total > static_cast<std::size_t>(INT_MAX))
    throw Error(ErrorKind::unsupported, "top_k on the GPU: " + std::to_string(total) +
                                            " scores exceed the 2^31 entries one sort takes");
  auto stream = static_cast<cudaStream_t>(stream_ptr);
  const int n = static_cast<int>(total);
  auto* keys = static_cast<unsigned long long*>(device_alloc_async(2 * total * 8, stream_ptr));
  auto* cols = static_cast<int*>(device_alloc_async(2 * total * 4, stream_ptr));
  void* temp = nullptr;
  try {
    const int threads = 256;
    const int blocks =
        static_cast<int>(std::min<std::size_t>((total + threads - 1) / threads, 65535));
    topk_keys_kernel<<<blocks, threads, 0, stream>>>(scores, static_cast<std::int64_t>(n_cols),
                                                     static_cast<std::int64_t>(total), keys, cols);
    check_cuda(cudaGetLastError(), "top_k key kernel");
    std::size_t temp_bytes = 0;
    const int end_bit = 32 + bits_for(n_rows);
    check_cuda(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys, keys + total, cols,
                                               cols + total, n, 0, end_bit, stream),
               "top_k sort (size query)");
    temp = device_alloc_async(std::max<std::size_t>(temp_bytes, 1), stream_ptr);
    check_cuda(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys, keys + total, cols,
                                               cols + total, n, 0, end_bit, stream),
               "top_k sort");
    const std::size_t out = n_rows * k;
    const int gather_blocks =
        static_cast<int>(std::min<std::size_t>((out + threads - 1) / threads, 65535));
    topk_gather_kernel<<<gather_blocks, threads, 0, stream>>>(
        scores, cols + total, static_cast<std::int64_t>(n_rows), static_cast<std::int64_t>(n_cols),
        static_cast<std::int64_t>(k), indices, top_scores);
    check_cuda(cudaGetLastError(), "top_k gather kernel");
  } catch (...) {
    device_free_async(temp, stream_ptr);
    device_free_async(keys, stream_ptr);
    device_free_async(cols, stream_ptr);
    throw;
  }
  device_free_async(temp, stream_ptr);
  device_free_async(keys, stream_ptr);
  device_free_async(cols, stream_ptr);
}

void* device_alloc(std::size_t bytes) {
  void* p = nullptr;
  check_cuda(cudaMalloc(&p, std::max<std::size_t>(bytes, 1)), "cudaMalloc");
  return p;
}

void device_free(void* p) noexcept {
  if (p) cudaFree(p);
}

void* device_alloc_async(std::size_t bytes, void* stream) {
  void* p = nullptr;
  check_cuda(
      cudaMallocAsync(&p, std::max<std::size_t>(bytes, 1), static_cast<cudaStream_t>(stream)),
      "cudaMallocAsync");
  return p;
}

void device_free_async(void* p, void* stream) noexcept {
  if (p) cudaFreeAsync(p, static_cast<cudaStream_t>(stream));
}

void copy_to_device(void* dst, const void* src, std::size_t bytes, void* stream) {
  if (bytes == 0) return;
  check_cuda(
      cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, static_cast<cudaStream_t>(stream)),
      "copy to the device");
}

void copy_to_host(void* dst, const void* src, std::size_t bytes, void* stream) {
  if (bytes == 0) return;
  check_cuda(
      cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(stream)),
      "copy to the host");
}

void synchronize(void* stream) {
  check_cuda(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)), "MaxSim on the GPU");
}

}  // namespace rank_rerank::gpu_detail
