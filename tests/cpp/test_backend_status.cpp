#include <gtest/gtest.h>

#include "rank_rerank/backend_status.hpp"

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
