#include "model/batching.hpp"

#include <algorithm>
#include <numeric>

namespace rank_rerank::model {

std::vector<std::vector<std::size_t>> plan_batches(std::span<const std::size_t> lengths,
                                                   std::size_t max_items, std::size_t max_tokens) {
  std::vector<std::size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<std::size_t>> batches;
  std::size_t tokens = 0;
  for (std::size_t i : order) {
    if (batches.empty() || batches.back().size() >= max_items ||
        (!batches.back().empty() && tokens + lengths[i] > max_tokens)) {
      batches.emplace_back();
      tokens = 0;
    }
    batches.back().push_back(i);
    tokens += lengths[i];
  }
  return batches;
}

}  // namespace rank_rerank::model
