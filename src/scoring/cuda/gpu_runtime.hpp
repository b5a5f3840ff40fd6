// The boundary between the GPU MaxSim API (gpu_maxsim.cpp, C++20) and the CUDA code (*.cu,
// compiled as CUDA C++17, which cannot include the C++20 public headers). Plain types only; no
// CUDA types. Without CUDA, gpu_runtime_unavailable.cpp implements it by throwing.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rank_rerank::gpu_detail {

// Storage codes, equal to rank_rerank::DType's values (checked in gpu_maxsim.cpp).
enum Storage : int { kF32 = 0, kF16 = 1, kBF16 = 2, kI8 = 3, kBit = 4 };

struct Rows {
  int dtype = kF32;
  const void* data = nullptr;  // device
  std::size_t rows = 0;
  std::size_t dim = 0;
  const float* scales = nullptr;  // device, i8 only
};

// One launch: every query x every document. Arguments are already validated, pointers are
// device pointers on `device`.
struct ScoreLaunch {
  Rows queries;
  const std::int64_t* query_offsets = nullptr;  // n_queries + 1, every query non-empty
  std::size_t n_queries = 0;
  Rows docs;
  const std::int64_t* doc_offsets = nullptr;  // n_docs + 1
  std::size_t n_docs = 0;
  const float* weights = nullptr;  // one per query row, or null
  // Rows of the longest query (host-known); 0 = unknown. One query of at most 32 rows lets the
  // warps take document chunks from a shared counter instead of a fixed share.
  std::size_t max_query_rows = 0;
  bool cosine = false;
  float* out = nullptr;  // n_queries * n_docs
  void* stream = nullptr;
  // Set by launch_maxsim, not by callers: a zeroed device counter of claimed document chunks,
  // or null for fixed shares.
  unsigned long long* work_counter = nullptr;
};

// Makes `device` current for the lifetime of the guard, restoring the previous one after.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  // Unused in builds without CUDA, whose stub guard only throws.
  [[maybe_unused]] int previous_ = -1;
};

void launch_maxsim(const ScoreLaunch& launch);

// Top-k per row (see gpu::top_k_device). Temporary memory is taken stream-ordered.
void launch_top_k(const float* scores, std::size_t n_rows, std::size_t n_cols, std::size_t k,
                  std::int64_t* indices, float* top_scores, void* stream);

// Memory and copies; every failure throws rank_rerank::Error naming the CUDA error.
void* device_alloc(std::size_t bytes);
void device_free(void* p) noexcept;
void* device_alloc_async(std::size_t bytes, void* stream);
void device_free_async(void* p, void* stream) noexcept;
void copy_to_device(void* dst, const void* src, std::size_t bytes, void* stream);
void copy_to_host(void* dst, const void* src, std::size_t bytes, void* stream);
void synchronize(void* stream);

}  // namespace rank_rerank::gpu_detail
