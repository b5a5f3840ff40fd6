// cpu_blas.hpp: what OpenBLAS chose against what the CPU's features allow, and the bf16 kernel.
#include "rank_rerank/cpu_blas.hpp"

#include <cblas.h>

#include <array>
#include <string_view>

#include "backend/cpu/bf16_linear.hpp"

namespace rank_rerank {
namespace {

// The OpenBLAS core names whose SGEMM kernels use AVX2 / FMA or AVX-512.
constexpr std::array<std::string_view, 6> vector_cores{
    "Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "Excavator"};

std::string recommended_core() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return {};
}

}  // namespace

bool CpuBlasStatus::generic() const {
  if (recommended.empty()) return false;
  for (std::string_view name : vector_cores)
    if (core == name) return false;
  return true;
}

CpuBlasStatus cpu_blas_status() {
  const char* core = openblas_get_corename();
  return {core == nullptr ? "unknown" : core, recommended_core(),
          std::string(backend::cpu::bf16_kernel_name(backend::cpu::best_bf16_kernel()))};
}

}  // namespace rank_rerank
