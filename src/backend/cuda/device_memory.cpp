#include "backend/cuda/device_memory.hpp"

#include <algorithm>
#include <cstdint>

#include "backend/cuda/cuda_check.hpp"

namespace rank_rerank::backend::cuda {

DeviceContext::DeviceContext(int device) : device_(device) {
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  cudaMemPoolProps props{};
  props.allocType = cudaMemAllocationTypePinned;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = device;
  check(cudaMemPoolCreate(&pool_, &props), "cudaMemPoolCreate");
  std::uint64_t keep_everything = UINT64_MAX;
  check(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrReleaseThreshold, &keep_everything),
        "cudaMemPoolSetAttribute");
}

DeviceContext::~DeviceContext() {
  // Destructors must not throw; errors here (e.g. at process exit) are ignored.
  cudaSetDevice(device_);
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  if (staging_ != nullptr) cudaFreeHost(staging_);
  if (pool_ != nullptr) cudaMemPoolDestroy(pool_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
  cudaGetLastError();
}

std::shared_ptr<void> DeviceContext::allocate(const std::shared_ptr<DeviceContext>& context,
                                              std::size_t bytes) {
  DeviceContext& c = *context;
  void* address = nullptr;
  const std::size_t size = std::max<std::size_t>(bytes, 256);
  cudaError_t status = cudaMallocFromPoolAsync(&address, size, c.pool_, c.stream_);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    c.synchronize();
    status = cudaMallocFromPoolAsync(&address, size, c.pool_, c.stream_);
  }
  check(status, "device allocation");
  return {address, [context](void* p) {
            cudaSetDevice(context->device_);
            cudaFreeAsync(p, context->stream_);
          }};
}

void* DeviceContext::stage(std::size_t bytes) {
  bytes = (bytes + 255) / 256 * 256;
  if (staged_ + bytes > staging_capacity_) {
    synchronize();
    if (bytes > staging_capacity_) {
      if (staging_ != nullptr) check(cudaFreeHost(staging_), "cudaFreeHost");
      staging_ = nullptr;
      staging_capacity_ = 0;
      const std::size_t capacity = std::max<std::size_t>(bytes * 2, std::size_t{1} << 20);
      check(cudaMallocHost(&staging_, capacity), "cudaMallocHost (pinned staging)");
      staging_capacity_ = capacity;
    }
  }
  void* region = static_cast<std::byte*>(staging_) + staged_;
  staged_ += bytes;
  return region;
}

DeviceMemory DeviceContext::memory_usage() const {
  std::uint64_t used = 0, reserved = 0;
  check(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemCurrent, &used), "pool usage");
  check(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrReservedMemCurrent, &reserved), "pool usage");
  return {Device::cuda(device_), static_cast<std::size_t>(used),
          static_cast<std::size_t>(reserved)};
}

void DeviceContext::synchronize() {
  check(cudaStreamSynchronize(stream_), "stream synchronize");
  rewind();
}

}  // namespace rank_rerank::backend::cuda
