// Merging ranked lists computed on disjoint parts of a score vector (shards on several devices).
#pragma once

#include <cstddef>
#include <vector>

#include "rank_rerank/topk.hpp"

namespace rank_rerank::detail {

// The k best of `candidates` (global indices; the union of each part's own top-k), in top_k()'s
// order: higher score first, ties by lower index, NaN after every number (NaNs by index). Each
// part must have contributed min(k, its size) candidates for the result to equal top_k over the
// whole vector. k larger than candidates.size() keeps them all.
std::vector<Ranked> merge_top_k(std::vector<Ranked> candidates, std::size_t k);

}  // namespace rank_rerank::detail
