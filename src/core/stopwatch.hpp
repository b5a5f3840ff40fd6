// Wall-clock milliseconds since construction, for the per-call statistics encoders and the
// Reranker report.
#pragma once

#include <chrono>

namespace rank_rerank {

class Stopwatch {
 public:
  double ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace rank_rerank
