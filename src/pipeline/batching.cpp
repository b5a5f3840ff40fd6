// Token-budget batch planning.
#include "pipeline/batching.hpp"

#include <algorithm>
#include <numeric>

#include "rank_rerank/error.hpp"

namespace rank_rerank::pipeline {

BatchPlan plan_batches(std::span<const std::size_t> token_counts, std::size_t max_batch_tokens) {
  if (max_batch_tokens == 0) throw_invalid("max_batch_tokens must be at least 1");
  std::vector<std::size_t> order(token_counts.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  // Similar lengths in one pass keep the per-sequence attention work even across threads.
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return token_counts[a] > token_counts[b]; });
  BatchPlan plan;
  for (std::size_t i : order) {
    const std::size_t n = token_counts[i];
    if (plan.batches.empty() || plan.tokens.back() + n > max_batch_tokens) {
      plan.batches.emplace_back();
      plan.tokens.push_back(0);
    }
    plan.batches.back().push_back(i);
    plan.tokens.back() += n;
  }
  return plan;
}

}  // namespace rank_rerank::pipeline
