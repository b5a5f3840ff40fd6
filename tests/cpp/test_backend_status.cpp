#include <gtest/gtest.h>

#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/cpu_blas.hpp"

TEST(BackendStatus, CudaProbeNeverThrowsAndExplainsUnavailability) {
  const rank_rerank::BackendStatus status = rank_rerank::cuda_status();
  if (status.usable()) {
    EXPECT_TRUE(status.reason.empty());
    EXPECT_GT(status.device_count, 0);
  } else {
    EXPECT_FALSE(status.reason.empty());
    EXPECT_EQ(status.device_count, 0);
    GTEST_SKIP() << "CUDA not usable here: " << status.reason;
  }
}

TEST(CpuBlasStatus, NamesTheKernelsAndSaysWhenTheyAreGeneric) {
  const rank_rerank::CpuBlasStatus status = rank_rerank::cpu_blas_status();
  EXPECT_FALSE(status.core.empty());
  EXPECT_TRUE(status.bf16_kernel == "amx" || status.bf16_kernel == "avx512_bf16" ||
              status.bf16_kernel == "decoded_f32")
      << status.bf16_kernel;
  EXPECT_TRUE((rank_rerank::CpuBlasStatus{"Prescott", "SkylakeX", "amx"}.generic()));
  EXPECT_TRUE((rank_rerank::CpuBlasStatus{"Nehalem", "Haswell", "amx"}.generic()));
  EXPECT_FALSE((rank_rerank::CpuBlasStatus{"Cooperlake", "Cooperlake", "amx"}.generic()));
  EXPECT_FALSE((rank_rerank::CpuBlasStatus{"Zen", "Haswell", "amx"}.generic()));
  EXPECT_FALSE((rank_rerank::CpuBlasStatus{"SkylakeX", "Cooperlake", "amx"}.generic()));
  // No vector kernels apply (an ARM or an old x86 CPU): whatever OpenBLAS chose is its best.
  EXPECT_FALSE((rank_rerank::CpuBlasStatus{"Prescott", "", "amx"}.generic()));
}
