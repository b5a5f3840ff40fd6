// Grouping texts into forward passes by a token budget. Inputs are sorted by length (longest
// first) so a batch holds sequences of similar length: the attention work per batch is even, and
// a batch's activations (tokens x hidden) stay under the budget however long the texts are.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace rank_rerank::model {

// Indices into `lengths` (token counts), grouped: each group has at most max_items items and at
// most max_tokens tokens in total, except that an item longer than max_tokens forms a group of its
// own. Longest items first; equal lengths keep their input order. Every index appears once.
// max_items and max_tokens must be positive (the encoders check their options).
std::vector<std::vector<std::size_t>> plan_batches(std::span<const std::size_t> lengths,
                                                   std::size_t max_items, std::size_t max_tokens);

}  // namespace rank_rerank::model
