// RerankStats: derived figures, JSON, and the process-wide record of the last call.
#include <cstdio>
#include <mutex>

#include "pipeline/rerank_stats_record.hpp"
#include "rank_rerank/reranker.hpp"

namespace rank_rerank {

namespace {

std::mutex last_mutex;
RerankStats last_stats;

void append_list(std::string& out, const std::vector<std::size_t>& values) {
  out += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  out += ']';
}

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", v);
  return buffer;
}

}  // namespace

double RerankStats::tokens_per_second() const noexcept {
  const double ms = tokenize_ms + encode_ms;
  return ms > 0 ? static_cast<double>(tokens) * 1000.0 / ms : 0.0;
}

std::string RerankStats::to_json() const {
  std::string out =
      "{\"queries\":" + std::to_string(queries) + ",\"texts\":" + std::to_string(texts) +
      ",\"tokens\":" + std::to_string(tokens) + ",\"tokenize_ms\":" + number(tokenize_ms) +
      ",\"encode_ms\":" + number(encode_ms) + ",\"score_ms\":" + number(score_ms) +
      ",\"total_ms\":" + number(total_ms) + ",\"device\":\"" + device + "\",\"batch_texts\":";
  append_list(out, batch_texts);
  out += ",\"batch_tokens\":";
  append_list(out, batch_tokens);
  out += ",\"tokens_per_second\":" + number(tokens_per_second()) + "}";
  return out;
}

RerankStats last_rerank_stats() {
  const std::lock_guard lock(last_mutex);
  return last_stats;
}

namespace pipeline {

void record_last_stats(const RerankStats& stats) {
  const std::lock_guard lock(last_mutex);
  last_stats = stats;
}

}  // namespace pipeline

}  // namespace rank_rerank
