// Recording a call's statistics as the process-wide last_rerank_stats().
#pragma once

#include "core/stopwatch.hpp"
#include "rank_rerank/reranker.hpp"

namespace rank_rerank::pipeline {

void record_last_stats(const RerankStats& stats);

}  // namespace rank_rerank::pipeline
