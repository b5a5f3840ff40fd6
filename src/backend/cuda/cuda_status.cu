#include <cuda_runtime.h>

#include <string>

#include "rank_rerank/backend_status.hpp"

namespace rank_rerank {

BackendStatus cuda_status() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    // Clear the sticky error so later CUDA calls in this process are not poisoned by the probe.
    cudaGetLastError();
    return {true, 0, std::string("CUDA runtime reports: ") + cudaGetErrorString(err)};
  }
  if (count == 0) return {true, 0, "no CUDA device is visible to this process"};
  return {true, count, ""};
}

std::vector<CudaDeviceProperties> cuda_device_properties() {
  std::vector<CudaDeviceProperties> devices;
  const BackendStatus status = cuda_status();
  int previous = 0;
  if (!status.usable() || cudaGetDevice(&previous) != cudaSuccess) return devices;
  for (int i = 0; i < status.device_count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    CudaDeviceProperties d;
    d.name = prop.name;
    d.compute_major = prop.major;
    d.compute_minor = prop.minor;
    d.multiprocessors = prop.multiProcessorCount;
    d.total_bytes = prop.totalGlobalMem;
    // Free memory needs the device's context; a device that cannot create one reports 0 free.
    if (cudaSetDevice(i) != cudaSuccess ||
        cudaMemGetInfo(&d.free_bytes, &d.total_bytes) != cudaSuccess)
      cudaGetLastError();
    devices.push_back(std::move(d));
  }
  cudaSetDevice(previous);
  return devices;
}

}  // namespace rank_rerank
