// Device / dtype resolution for the Reranker.
#include <gtest/gtest.h>

#include "io_test_support.hpp"
#include "pipeline/placement.hpp"
#include "rank_rerank/backend_status.hpp"

namespace rank_rerank::pipeline {
namespace {

using io_test::error_of;

TEST(Placement, CpuAutoAndUnavailableDevices) {
  EXPECT_EQ(resolve_placement("cpu", "float32").device, Device::cpu());
  EXPECT_EQ(resolve_placement("cpu", "bfloat16").dtype, DType::bf16);
  // Without a usable GPU, auto is the CPU: float16 falls back to float32, bfloat16 stays.
  if (!cuda_status().usable()) {
    const Placement p = resolve_placement(" AUTO ", "float16");
    EXPECT_EQ(p.device, Device::cpu());
    EXPECT_EQ(p.dtype, DType::f32);
    EXPECT_EQ(resolve_placement("auto", "bf16").dtype, DType::bf16);
    EXPECT_FALSE(
        error_of([] { (void)resolve_placement("cuda:0", "float32"); }, ErrorKind::unsupported)
            .empty());
  }
  EXPECT_NE(error_of([] { (void)resolve_placement("cpu", "float16"); }, ErrorKind::unsupported)
                .find("CUDA"),
            std::string::npos);
  EXPECT_FALSE(error_of([] { (void)resolve_placement("tpu", "float32"); }).empty());
}

}  // namespace
}  // namespace rank_rerank::pipeline
