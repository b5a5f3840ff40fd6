#include "scoring/top_k_merge.hpp"

#include <algorithm>
#include <cmath>

namespace rank_rerank::detail {

std::vector<Ranked> merge_top_k(std::vector<Ranked> candidates, std::size_t k) {
  const auto better = [](const Ranked& a, const Ranked& b) {
    const bool a_nan = std::isnan(a.score), b_nan = std::isnan(b.score);
    if (a_nan != b_nan) return b_nan;
    if (!a_nan && a.score != b.score) return a.score > b.score;
    return a.index < b.index;
  };
  const std::size_t keep = std::min(k, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep),
                    candidates.end(), better);
  candidates.resize(keep);
  return candidates;
}

}  // namespace rank_rerank::detail
