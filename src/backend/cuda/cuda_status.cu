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

}  // namespace rank_rerank
