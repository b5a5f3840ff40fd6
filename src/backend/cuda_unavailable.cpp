// Linked when the library is configured without CUDA (RANK_RERANK_CUDA=OFF or no toolkit).
#include "rank_rerank/backend_status.hpp"

namespace rank_rerank {

BackendStatus cuda_status() {
  return {false, 0, "rank_rerank was built without CUDA (configure with -DRANK_RERANK_CUDA=ON)"};
}

std::vector<CudaDeviceProperties> cuda_device_properties() { return {}; }

}  // namespace rank_rerank

#include "backend/backend.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::backend {

std::shared_ptr<Backend> make_cuda_backend(int, DType, int) {
  throw_unsupported(cuda_status().reason);
}

}  // namespace rank_rerank::backend
