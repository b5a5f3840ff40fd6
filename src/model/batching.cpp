#include "model/batching.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "rank_rerank/error.hpp"

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

namespace {

void run_splitting(std::span<const std::size_t> items, const char* what,
                   const std::function<void(std::span<const std::size_t>)>& run) {
  try {
    run(items);
  } catch (const backend::DeviceOutOfMemory& oom) {
    if (items.size() <= 1)
      throw Error(ErrorKind::runtime, std::string(what) + ": input " + std::to_string(items[0]) +
                                          " alone does not fit in device memory (" + oom.what() +
                                          ")");
    const std::size_t half = items.size() / 2;
    run_splitting(items.first(half), what, run);
    run_splitting(items.subspan(half), what, run);
  }
}

}  // namespace

void for_each_batch(const std::vector<std::vector<std::size_t>>& batches, const char* what,
                    const std::function<void(std::span<const std::size_t>)>& run) {
  for (const std::vector<std::size_t>& items : batches)
    if (!items.empty()) run_splitting(items, what, run);
}

void record_pass(EncodeStats* stats, std::size_t texts, std::size_t tokens) {
  if (stats == nullptr) return;
  stats->texts += texts;
  stats->tokens += tokens;
  stats->batch_texts.push_back(texts);
  stats->batch_tokens.push_back(tokens);
}

}  // namespace rank_rerank::model
