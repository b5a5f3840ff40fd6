// Per-op profiling shared by the backends (Backend::set_op_timing): times summed per label, and
// the labels the backends give their ops. Each backend measures its own way (CUDA events, the
// host clock); this only keeps the totals.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "backend/backend.hpp"

namespace rank_rerank::backend {

// "op AxB", the label of an op by its two defining sizes.
std::string shape_label(const char* op, std::size_t a, std::size_t b);

class OpTotals {
 public:
  void add(const std::string& label, double milliseconds);
  // The totals since the last call, largest first; clears them.
  std::vector<OpTime> take();

 private:
  std::map<std::string, OpTime> totals_;
};

}  // namespace rank_rerank::backend
