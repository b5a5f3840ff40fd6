// Ranking scores: top-k by partial selection (not a full sort).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace rank_rerank {

struct Ranked {
  std::int64_t index = 0;
  float score = 0.0f;
};

// The k best scores, best first: higher score first, ties broken by lower index, NaN after
// every number (NaNs among themselves by index). k == 0 returns nothing; k > scores.size()
// throws Error. Runs in O(n + k log k).
std::vector<Ranked> top_k(std::span<const float> scores, std::size_t k);

// Every score ranked, same order as top_k.
std::vector<Ranked> rank_all(std::span<const float> scores);

}  // namespace rank_rerank
