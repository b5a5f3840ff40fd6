// Model-side policy shared by the encoders: how a list of inputs is cut into forward passes (the
// backends built for the options: model/replicas.hpp). Inputs are sorted by length (longest
// first) so a pass holds sequences of similar length: the attention work per pass is even, and a
// pass's activations (tokens x hidden) stay under a token budget however long the texts are. A pass
// that runs out of device memory is split in two and retried.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "backend/backend.hpp"
#include "rank_rerank/device.hpp"
#include "rank_rerank/encode_stats.hpp"

namespace rank_rerank::model {

// Indices into `lengths` (token counts), grouped: each group has at most max_items items and at
// most max_tokens tokens in total, except that an item longer than max_tokens forms a group of its
// own. Longest items first; equal lengths keep their input order. Every index appears once.
// max_items and max_tokens must be positive (the encoders check their options).
std::vector<std::vector<std::size_t>> plan_batches(std::span<const std::size_t> lengths,
                                                   std::size_t max_items, std::size_t max_tokens);

// Calls run(items) for every planned batch. When a call throws backend::DeviceOutOfMemory its
// items are split in two halves and each is retried, so `run` must not commit results before its
// device work succeeded. A single item that still does not fit throws Error (runtime) naming
// `what` and the item's input index.
void for_each_batch(const std::vector<std::vector<std::size_t>>& batches, const char* what,
                    const std::function<void(std::span<const std::size_t>)>& run);

// Adds a pass that ran to stats (when given).
void record_pass(EncodeStats* stats, std::size_t texts, std::size_t tokens);

}  // namespace rank_rerank::model
