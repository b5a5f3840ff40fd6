// Linked when the library is built without CUDA: the GPU MaxSim API still checks its arguments
// (gpu_maxsim.cpp), and anything that would reach the device says why it cannot.
#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/error.hpp"
#include "scoring/cuda/gpu_runtime.hpp"

namespace rank_rerank::gpu_detail {
namespace {
[[noreturn]] void unavailable() { throw_unsupported("GPU MaxSim: " + cuda_status().reason); }
}  // namespace

DeviceGuard::DeviceGuard(int) { unavailable(); }
DeviceGuard::~DeviceGuard() = default;
void launch_maxsim(const ScoreLaunch&) { unavailable(); }
void launch_top_k(const float*, std::size_t, std::size_t, std::size_t, std::int64_t*, float*,
                  void*) {
  unavailable();
}
void* device_alloc(std::size_t) { unavailable(); }
void device_free(void*) noexcept {}
void* device_alloc_async(std::size_t, void*) { unavailable(); }
void device_free_async(void*, void*) noexcept {}
void copy_to_device(void*, const void*, std::size_t, void*) { unavailable(); }
void copy_to_host(void*, const void*, std::size_t, void*) { unavailable(); }
void synchronize(void*) { unavailable(); }

}  // namespace rank_rerank::gpu_detail
