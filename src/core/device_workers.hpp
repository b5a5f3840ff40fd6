// Data parallelism over several devices, without a GPU in sight: how a length-sorted list of work
// items is cut into one contiguous share per device, and how the shares run on one worker thread
// each. No collective is involved (each device computes whole results of its own), hence no NCCL.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace rank_rerank::detail {

// Boundaries b[0] = 0 <= b[1] <= ... <= b[parts] = weights.size() cutting the items into `parts`
// contiguous runs whose weight sums are as even as greedy cutting at the prefix sums closest to
// k * total / parts gives: no run exceeds total / parts + the largest weight. When there are at
// least `parts` items every run is non-empty. parts must be at least 1.
std::vector<std::size_t> split_contiguous(std::span<const std::size_t> weights, std::size_t parts);

// How many devices a request of `total_tokens` in `passes` forward passes should use: one per
// `min_tokens_per_device` tokens, at least one, at most `devices` and at most one per pass.
std::size_t devices_to_use(std::size_t total_tokens, std::size_t passes, std::size_t devices,
                           std::size_t min_tokens_per_device);

// Calls work(i, stop) for every i < names.size(): on the calling thread when there is one name,
// else on one thread each. Always joins every thread. When a call throws, `stop` becomes true (the
// others should return at their next check) and, once all have returned, the first failure is
// rethrown as rank_rerank::Error naming its device: "<names[i]>: <message>", with the failure's
// ErrorKind when it was an Error, ErrorKind::runtime otherwise. Nothing is dropped silently: a
// call that returns early because of `stop` is covered by the failure that set it.
void run_on_devices(std::span<const std::string> names,
                    const std::function<void(std::size_t, const std::atomic<bool>&)>& work);

}  // namespace rank_rerank::detail
