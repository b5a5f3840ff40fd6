// Grouping texts into encoder passes by a token budget rather than by count: short texts share a
// pass, long ones do not overflow it.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace rank_rerank::pipeline {

struct BatchPlan {
  std::vector<std::vector<std::size_t>> batches;  // text indices per pass
  std::vector<std::size_t> tokens;                // tokens per pass
};

// Texts sorted by length (longest first, ties by index) and packed greedily: a pass takes the next
// text while its tokens stay within max_batch_tokens; a text longer than the budget alone gets a
// pass of its own. Throws Error when max_batch_tokens is 0.
BatchPlan plan_batches(std::span<const std::size_t> token_counts, std::size_t max_batch_tokens);

}  // namespace rank_rerank::pipeline
