#include "rank_rerank/threading.hpp"

#include <omp.h>

#include <atomic>

namespace rank_rerank {
namespace {
// 0 means "not set": fall back to what the OpenMP runtime picked (OMP_NUM_THREADS or cores).
std::atomic<std::size_t> configured_threads{0};
}  // namespace

std::size_t default_num_threads() noexcept {
  const std::size_t n = configured_threads.load(std::memory_order_relaxed);
  if (n != 0) return n;
  const int omp = omp_get_max_threads();
  return omp > 0 ? static_cast<std::size_t>(omp) : 1;
}

void set_default_num_threads(std::size_t n) noexcept {
  configured_threads.store(n, std::memory_order_relaxed);
}

}  // namespace rank_rerank
