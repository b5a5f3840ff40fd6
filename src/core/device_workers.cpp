#include "core/device_workers.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "rank_rerank/error.hpp"

namespace rank_rerank::detail {

std::vector<std::size_t> split_contiguous(std::span<const std::size_t> weights, std::size_t parts) {
  if (parts == 0) throw_invalid("split_contiguous: parts must be at least 1");
  const std::size_t n = weights.size();
  std::vector<std::size_t> prefix(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + weights[i];
  const double total = static_cast<double>(prefix[n]);
  std::vector<std::size_t> bounds(parts + 1, 0);
  bounds[parts] = n;
  for (std::size_t k = 1; k < parts; ++k) {
    const double target = total * static_cast<double>(k) / static_cast<double>(parts);
    // First cut whose prefix reaches the target, or the one before it when that is closer.
    std::size_t cut = static_cast<std::size_t>(
        std::lower_bound(prefix.begin(), prefix.end(), target,
                         [](std::size_t p, double t) { return static_cast<double>(p) < t; }) -
        prefix.begin());
    if (cut > 0 && target - static_cast<double>(prefix[cut - 1]) <
                       static_cast<double>(prefix[std::min(cut, n)]) - target)
      --cut;
    // Keep the cuts ordered, and every run non-empty while items last.
    const std::size_t low = bounds[k - 1] + (n >= parts ? 1 : 0);
    const std::size_t high = n >= parts ? n - (parts - k) : n;
    bounds[k] = std::clamp(cut, std::min(low, high), high);
  }
  return bounds;
}

std::size_t devices_to_use(std::size_t total_tokens, std::size_t passes, std::size_t devices,
                           std::size_t min_tokens_per_device) {
  const std::size_t by_tokens = total_tokens / std::max<std::size_t>(min_tokens_per_device, 1);
  return std::max<std::size_t>(1, std::min({by_tokens, passes, devices}));
}

namespace {

Error naming(const std::string& name, std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const Error& e) {
    return Error(e.kind(), name + ": " + e.what());
  } catch (const std::exception& e) {
    return Error(ErrorKind::runtime, name + ": " + e.what());
  } catch (...) {
    return Error(ErrorKind::runtime, name + ": unknown failure");
  }
}

}  // namespace

void run_on_devices(std::span<const std::string> names,
                    const std::function<void(std::size_t, const std::atomic<bool>&)>& work) {
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::optional<std::size_t> failed;
  std::exception_ptr failure;
  const auto guarded = [&](std::size_t i) {
    try {
      work(i, stop);
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!failed) {
        failed = i;
        failure = std::current_exception();
      }
      stop = true;
    }
  };
  if (names.size() == 1) {
    guarded(0);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(names.size());
    try {
      for (std::size_t i = 0; i < names.size(); ++i) threads.emplace_back(guarded, i);
    } catch (...) {
      // A thread that could not start: stop and join the ones that did, then report it.
      stop = true;
      for (std::thread& t : threads) t.join();
      throw Error(ErrorKind::runtime,
                  "could not start a worker thread for " + names[threads.size()]);
    }
    for (std::thread& t : threads) t.join();
  }
  if (failed) throw naming(names[*failed], failure);
}

}  // namespace rank_rerank::detail
