#include "rank_rerank/topk.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "rank_rerank/error.hpp"

namespace rank_rerank {

namespace {

// Strict weak order "a ranks before b": higher score first, then lower index; every NaN after
// every number, NaNs among themselves by index.
bool ranks_before(const Ranked& a, const Ranked& b) {
  const bool a_nan = std::isnan(a.score);
  const bool b_nan = std::isnan(b.score);
  if (a_nan != b_nan) return b_nan;
  if (!a_nan && a.score != b.score) return a.score > b.score;
  return a.index < b.index;
}

std::vector<Ranked> indexed(std::span<const float> scores) {
  std::vector<Ranked> all(scores.size());
  for (std::size_t i = 0; i < scores.size(); ++i)
    all[i] = {static_cast<std::int64_t>(i), scores[i]};
  return all;
}

}  // namespace

std::vector<Ranked> top_k(std::span<const float> scores, std::size_t k) {
  if (k > scores.size())
    throw_invalid("k: asked for the top " + std::to_string(k) + " of only " +
                  std::to_string(scores.size()) + " scores");
  if (k == 0) return {};
  std::vector<Ranked> all = indexed(scores);
  const auto kth = all.begin() + static_cast<std::ptrdiff_t>(k);
  // Selection puts the k best first in O(n); only those k are then sorted.
  if (k < all.size()) std::nth_element(all.begin(), kth - 1, all.end(), ranks_before);
  std::sort(all.begin(), kth, ranks_before);
  all.resize(k);
  return all;
}

std::vector<Ranked> rank_all(std::span<const float> scores) {
  std::vector<Ranked> all = indexed(scores);
  std::sort(all.begin(), all.end(), ranks_before);
  return all;
}

}  // namespace rank_rerank
