// Which kernels the CPU backend's GEMMs run on. OpenBLAS (a DYNAMIC_ARCH build, as the
// distributions ship) picks its kernels once, when it is loaded, from the CPU model; a release
// older than the CPU (Debian 12's 0.3.21 on a Xeon of a later generation, say) falls back to its
// generic SSE3 "Prescott" kernels, about 4x slower than its AVX-512 ones on the same cores. The
// environment variable OPENBLAS_CORETYPE, read at that moment, overrides the choice.
#pragma once

#include <string>

namespace rank_rerank {

struct CpuBlasStatus {
  std::string core;         // the kernels OpenBLAS chose, as openblas_get_corename() names them
  std::string recommended;  // what this CPU's features allow ("Cooperlake", "SkylakeX",
                            // "Haswell"), empty where no vector kernels apply
  // The kernel of the linear layers in bfloat16 (dtype bfloat16 on the CPU): "amx" (Intel AMX),
  // "avx512_bf16" (AMD CPUs with AVX512_BF16), or "decoded_f32" (bf16 weights decoded to float32
  // for OpenBLAS: no faster than float32). What this CPU gets; RANK_RERANK_CPU_BF16_KERNEL, which
  // tests and benchmarks set to force another, is not reflected.
  std::string bf16_kernel;
  // OpenBLAS runs generic kernels although `recommended` ones would apply.
  bool generic() const;
};

CpuBlasStatus cpu_blas_status();

}  // namespace rank_rerank
