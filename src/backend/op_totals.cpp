#include "backend/op_totals.hpp"

#include <algorithm>
#include <utility>

namespace rank_rerank::backend {

std::string shape_label(const char* op, std::size_t a, std::size_t b) {
  return std::string(op) + " " + std::to_string(a) + "x" + std::to_string(b);
}

void OpTotals::add(const std::string& label, double milliseconds) {
  OpTime& t = totals_[label];
  t.op = label;
  ++t.calls;
  t.milliseconds += milliseconds;
}

std::vector<OpTime> OpTotals::take() {
  std::vector<OpTime> out;
  out.reserve(totals_.size());
  for (auto& [label, t] : totals_) out.push_back(std::move(t));
  totals_.clear();
  std::sort(out.begin(), out.end(),
            [](const OpTime& a, const OpTime& b) { return a.milliseconds > b.milliseconds; });
  return out;
}

}  // namespace rank_rerank::backend
