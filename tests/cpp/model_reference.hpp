// Reading the reference outputs scripts/make_*_fixtures.py wrote, and comparing against them.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
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

// max over rows of max|got - want| / max|want|: an error relative to each vector's scale.
inline double max_row_relative_error(std::span<const float> got, std::span<const float> want,
                                     std::size_t dim) {
  EXPECT_EQ(got.size(), want.size());
  double worst = 0;
  for (std::size_t r = 0; r * dim < std::min(got.size(), want.size()); ++r) {
    double err = 0, scale = 0;
    for (std::size_t c = 0; c < dim; ++c) {
      err = std::max(err, std::abs(double(got[r * dim + c]) - want[r * dim + c]));
      scale = std::max(scale, std::abs(double(want[r * dim + c])));
    }
    worst = std::max(worst, err / std::max(scale, 1e-30));
  }
  return worst;
}

// max |got - want| / max(|want|, 1e-3) element by element (scores).
inline double max_relative_error(std::span<const float> got, std::span<const float> want) {
  EXPECT_EQ(got.size(), want.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i)
    worst = std::max(
        worst, std::abs(double(got[i]) - want[i]) / std::max(std::abs(double(want[i])), 1e-3));
  return worst;
}

}  // namespace model_test
