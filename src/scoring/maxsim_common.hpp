// Pieces shared by the MaxSim API files (maxsim.cpp, maxsim_multi.cpp, maxsim_explain.cpp):
// argument checks with messages that name the argument and the shapes, reduction of per-token
// maxima into a score, and work chunking for OpenMP.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include "rank_rerank/maxsim.hpp"
#include "rank_rerank/tensor.hpp"
#include "scoring/maxsim_kernel.hpp"

namespace rank_rerank::detail {

std::string shape_string(std::size_t rows, std::size_t dim);

// The query must be a valid, non-empty token matrix.
void check_query(const TokenMatrix& query, std::string_view what);
// Documents must have the query's dimension.
void check_same_dim(const TokenMatrix& query, std::string_view query_what, const TokenMatrix& doc,
                    std::string_view doc_what);
// options.query_weights must be empty or hold exactly `expected` values.
void check_weights(const MaxSimOptions& options, std::size_t expected, std::string_view what);

std::size_t resolve_threads(const MaxSimOptions& options);

// Running maximum that keeps NaN once seen, as the kernel does.
inline void merge_max(float& current, float candidate) {
  if (std::isnan(current)) return;
  if (std::isnan(candidate) || candidate > current) current = candidate;
}

// sum_i w_i * row_max[i] (w_i = 1 when weights is empty); with zero_floor every row_max is
// raised to at least 0 first (NaN stays NaN). Accumulates in double so the order of the
// (few) query tokens does not matter to the last bit.
float reduce_score(std::span<const float> row_max, std::span<const float> weights, bool zero_floor);

// Splits items [0, n) into contiguous chunks of roughly equal cost so a dynamic OpenMP
// schedule keeps every thread busy even when document lengths vary by 10x. cost(i) must be
// positive. Returns the chunk boundaries (first 0, last n).
template <class Cost>
std::vector<std::size_t> balanced_chunks(std::size_t n, std::size_t threads, Cost cost) {
  std::vector<std::size_t> bounds{0};
  if (n == 0) return bounds;
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) total += static_cast<double>(cost(i));
  // Several chunks per thread absorb the imbalance left by any single estimate; a floor on
  // the chunk cost keeps scheduling overhead small when the whole job is tiny.
  constexpr double min_chunk_cost = 1 << 16;
  const double per_chunk =
      std::max(min_chunk_cost, total / static_cast<double>(threads > 1 ? threads * 8 : 1));
  double acc = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    acc += static_cast<double>(cost(i));
    if (acc >= per_chunk) {
      bounds.push_back(i + 1);
      acc = 0.0;
    }
  }
  if (bounds.back() != n) bounds.push_back(n);
  return bounds;
}

// Cost of scoring one document of `doc_rows` tokens against `query_rows` tokens: the
// multiply-adds plus a per-document overhead worth about one token.
inline std::size_t pair_cost(std::size_t query_rows, std::size_t doc_rows) {
  return query_rows * (doc_rows + 1);
}

// Runs body(begin, end, scratch) for every chunk [bounds[c], bounds[c+1]) on up to `threads`
// OpenMP threads with a dynamic schedule. Each thread builds its scratch once with
// make_scratch(). An exception thrown by a chunk is rethrown here, after the team has joined
// (exceptions must not cross an OpenMP region).
template <class MakeScratch, class Body>
void parallel_chunks(const std::vector<std::size_t>& bounds, std::size_t threads,
                     MakeScratch make_scratch, Body body) {
  const std::size_t n_chunks = bounds.size() - 1;
  const int team = static_cast<int>(std::max<std::size_t>(1, std::min(threads, n_chunks)));
  std::exception_ptr error;
#pragma omp parallel num_threads(team) if (team > 1)
  {
    auto scratch = make_scratch();
#pragma omp for schedule(dynamic, 1)
    for (std::ptrdiff_t c = 0; c < static_cast<std::ptrdiff_t>(n_chunks); ++c) {
      try {
        body(bounds[c], bounds[c + 1], scratch);
      } catch (...) {
#pragma omp critical(rank_rerank_parallel_chunks_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace rank_rerank::detail
