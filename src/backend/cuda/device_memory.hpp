// Device and pinned host memory for the CUDA backend.
//
// Device memory comes from a stream-ordered memory pool that never gives memory back to the
// driver (release threshold: unlimited): after the first batches every allocation is served from
// the pool's cache, so no cudaMalloc sits on the hot path, and a block freed on the backend's
// stream is reused by later work on that stream without synchronising.
//
// Small host inputs (token ids, offsets) travel through one pinned staging arena so their copies
// are truly asynchronous; the arena is rewound only at points where the stream has drained.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <memory>

#include "rank_rerank/device.hpp"

namespace rank_rerank::backend::cuda {

class DeviceContext {
 public:
  explicit DeviceContext(int device);
  ~DeviceContext();
  DeviceContext(const DeviceContext&) = delete;
  DeviceContext& operator=(const DeviceContext&) = delete;

  int device() const noexcept { return device_; }
  cudaStream_t stream() const noexcept { return stream_; }

  // `bytes` of device memory, freed (stream-ordered) when the last owner lets go. The owner keeps
  // the context alive. On exhaustion: waits for the stream (pending frees return to the pool),
  // tries once more, then throws DeviceOutOfMemory.
  static std::shared_ptr<void> allocate(const std::shared_ptr<DeviceContext>& context,
                                        std::size_t bytes);

  // A pinned host region of `bytes` valid until the next rewind(); when the arena is full, waits
  // for the stream and starts over in a larger arena.
  void* stage(std::size_t bytes);
  // The stream has drained: staged regions may be reused.
  void rewind() noexcept { staged_ = 0; }
  void synchronize();
  // The pool's bytes in use and reserved (cudaMemPoolAttrUsedMemCurrent / ReservedMemCurrent).
  DeviceMemory memory_usage() const;

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
  cudaMemPool_t pool_ = nullptr;
  void* staging_ = nullptr;
  std::size_t staging_capacity_ = 0;
  std::size_t staged_ = 0;
};

}  // namespace rank_rerank::backend::cuda
