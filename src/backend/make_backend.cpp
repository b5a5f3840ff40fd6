// Choosing a backend for a device and compute dtype.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <string>

#include "backend/backend.hpp"
#include "rank_rerank/compute_dtype.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::backend {

std::size_t element_bytes(DType dtype) noexcept {
  switch (dtype) {
    case DType::f16:
    case DType::bf16:
      return 2;
    case DType::i8:
    case DType::bit:
      return 1;
    case DType::f32:
      break;
  }
  return 4;
}

std::uint64_t new_owner_id() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::shared_ptr<Backend> make_backend(const Device& device, DType dtype, int num_threads) {
  if (dtype != DType::f32 && dtype != DType::f16 && dtype != DType::bf16)
    throw_invalid("backend dtype must be float32, float16 or bfloat16, found " +
                  std::string(dtype_name(dtype)));
  require_usable(device);
  if (device.is_cuda()) return make_cuda_backend(device.index, dtype, num_threads);
  if (device.kind != DeviceKind::cpu)
    throw_unsupported("no backend for device " + device.to_string());
  return make_cpu_backend(num_threads, dtype);
}

}  // namespace rank_rerank::backend

namespace rank_rerank {

DType parse_compute_dtype(std::string_view text) {
  std::string name(text);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name == "float32" || name == "fp32" || name == "f32") return DType::f32;
  if (name == "float16" || name == "fp16" || name == "f16" || name == "half") return DType::f16;
  if (name == "bfloat16" || name == "bf16") return DType::bf16;
  throw_invalid("dtype '" + std::string(text) +
                "' is not a compute dtype (expected float32, float16 or bfloat16)");
}

}  // namespace rank_rerank
