// Token-budget batch planning and device / dtype resolution, against hand-worked expectations.
#include <gtest/gtest.h>

#include "io_test_support.hpp"
#include "pipeline/batching.hpp"
#include "pipeline/placement.hpp"
#include "rank_rerank/backend_status.hpp"

namespace rank_rerank::pipeline {
namespace {

using io_test::error_of;

TEST(PlanBatches, LongestFirstGreedyWithinTheBudget) {
  const std::vector<std::size_t> counts{3, 10, 4, 4, 12, 1};
  const BatchPlan plan = plan_batches(counts, 12);
  // Sorted: 12 (#4), 10 (#1), 4 (#2), 4 (#3), 3 (#0), 1 (#5).
  const std::vector<std::vector<std::size_t>> want{{4}, {1}, {2, 3, 0, 5}};
  EXPECT_EQ(plan.batches, want);
  EXPECT_EQ(plan.tokens, (std::vector<std::size_t>{12, 10, 12}));
}

TEST(PlanBatches, OversizedTextsGetTheirOwnPassAndEmptyInputHasNone) {
  const std::vector<std::size_t> counts{50, 2, 60};
  const BatchPlan plan = plan_batches(counts, 8);
  EXPECT_EQ(plan.batches, (std::vector<std::vector<std::size_t>>{{2}, {0}, {1}}));
  EXPECT_TRUE(plan_batches({}, 8).batches.empty());
  EXPECT_NE(
      error_of([] { (void)plan_batches(std::vector<std::size_t>{1}, 0); }).find("max_batch_tokens"),
      std::string::npos);
}

TEST(PlanBatches, EveryTextExactlyOnce) {
  std::vector<std::size_t> counts;
  for (std::size_t i = 0; i < 500; ++i) counts.push_back(1 + (i * 37) % 97);
  const BatchPlan plan = plan_batches(counts, 256);
  std::vector<int> seen(counts.size());
  for (std::size_t b = 0; b < plan.batches.size(); ++b) {
    std::size_t tokens = 0;
    for (std::size_t i : plan.batches[b]) {
      ++seen[i];
      tokens += counts[i];
    }
    EXPECT_EQ(tokens, plan.tokens[b]);
    EXPECT_LE(tokens, 256u);
  }
  for (int s : seen) EXPECT_EQ(s, 1);
}

TEST(Placement, DtypeSpellings) {
  EXPECT_EQ(parse_compute_dtype("float32"), DType::f32);
  EXPECT_EQ(parse_compute_dtype("FP16"), DType::f16);
  EXPECT_EQ(parse_compute_dtype("half"), DType::f16);
  EXPECT_EQ(parse_compute_dtype("bf16"), DType::bf16);
  EXPECT_NE(error_of([] { (void)parse_compute_dtype("int8"); }).find("'int8'"), std::string::npos);
}

TEST(Placement, CpuAutoAndUnavailableDevices) {
  EXPECT_EQ(resolve_placement("cpu", "float32").device, Device::cpu());
  // Without a usable GPU, auto is the CPU and half precision falls back to float32.
  if (!cuda_status().usable()) {
    const Placement p = resolve_placement(" AUTO ", "float16");
    EXPECT_EQ(p.device, Device::cpu());
    EXPECT_EQ(p.dtype, DType::f32);
    EXPECT_FALSE(
        error_of([] { (void)resolve_placement("cuda:0", "float32"); }, ErrorKind::unsupported)
            .empty());
  }
  EXPECT_NE(error_of([] { (void)resolve_placement("cpu", "bfloat16"); }, ErrorKind::unsupported)
                .find("CUDA"),
            std::string::npos);
  EXPECT_FALSE(error_of([] { (void)resolve_placement("tpu", "float32"); }).empty());
}

}  // namespace
}  // namespace rank_rerank::pipeline
