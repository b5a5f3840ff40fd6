// The SIMD kernels of the Ward chain against the scalar loops they replace: same index, same
// bits, for every length around the vector widths, with ties, NaN and +inf in the rows.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "scoring/postprocess/ward_kernels.hpp"

namespace rank_rerank::detail {
namespace {

std::ptrdiff_t scalar_first_min_below(const std::vector<double>& row, double bound) {
  std::ptrdiff_t at = -1;
  double best = bound;
  for (std::size_t i = 0; i < row.size(); ++i)
    if (row[i] < best) {
      best = row[i];
      at = static_cast<std::ptrdiff_t>(i);
    }
  return at;
}

// Runs `check` once per SIMD target this CPU supports and the build generated.
template <class Check>
void for_each_target(Check&& check) {
  for (const std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    check();
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(WardKernels, FirstMinBelowMatchesScalarScan) {
  for_each_target([] {
    std::mt19937 gen(1);
    const double inf = std::numeric_limits<double>::infinity();
    for (std::size_t n = 0; n < 40; ++n)
      for (int trial = 0; trial < 30; ++trial) {
        std::vector<double> row(n);
        for (double& v : row) {
          const unsigned r = gen() % 10;
          v = r == 0 ? inf : r == 1 ? std::nan("") : r == 2 ? -0.0 : double(gen() % 4);
        }
        for (const double bound : {inf, 2.0, 0.0, -1.0, std::nan("")})
          EXPECT_EQ(first_min_below(row.data(), n, bound), scalar_first_min_below(row, bound))
              << "n " << n << " bound " << bound;
      }
  });
}

void check_update_row() {
  std::mt19937 gen(2);
  std::uniform_real_distribution<double> uniform(0.0, 2.0);
  const double inf = std::numeric_limits<double>::infinity();
  for (std::size_t n = 2; n < 40; ++n) {
    std::vector<double> row_x(n), row_y(n);
    std::vector<std::int32_t> size(n);
    for (std::size_t i = 0; i < n; ++i) {
      size[i] = gen() % 3 == 0 ? 0 : std::int32_t(1 + gen() % 50);
      row_x[i] = size[i] == 0 ? inf : uniform(gen);
      row_y[i] = size[i] == 0 ? inf : uniform(gen);
    }
    const std::size_t y = n - 1;
    size[y] = 7;
    row_y[y] = inf;
    const std::int32_t nx = 3, ny = 4;
    const double d_xy = 0.25;
    std::vector<double> expected = row_y;
    for (std::size_t i = 0; i < n; ++i) {
      if (size[i] == 0 || i == y) continue;
      const double t = 1.0 / (nx + ny + size[i]);
      expected[i] = std::sqrt((size[i] + nx) * t * row_x[i] * row_x[i] +
                              (size[i] + ny) * t * row_y[i] * row_y[i] - size[i] * t * d_xy * d_xy);
    }
    ward_update_row(row_x.data(), row_y.data(), size.data(), n, y, nx, ny, d_xy);
    for (std::size_t i = 0; i < n; ++i) {
      // Random distances need not be reducible: sqrt of a negative is NaN on both sides.
      const bool same =
          row_y[i] == expected[i] || (std::isnan(row_y[i]) && std::isnan(expected[i]));
      EXPECT_TRUE(same) << "n " << n << " i " << i << ": " << row_y[i] << " vs " << expected[i];
    }
  }
}

TEST(WardKernels, UpdateRowIsBitIdenticalToScipysFormula) { for_each_target(check_update_row); }

}  // namespace
}  // namespace rank_rerank::detail
