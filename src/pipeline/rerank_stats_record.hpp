// Recording a call's statistics as the process-wide last_rerank_stats().
#pragma once

#include <chrono>

#include "rank_rerank/reranker.hpp"

namespace rank_rerank::pipeline {

void record_last_stats(const RerankStats& stats);

// Milliseconds since construction.
class Stopwatch {
 public:
  double ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace rank_rerank::pipeline
