// The SIMD kernels of pooling and diversity on every target this CPU runs: the Ward chain's scan
// and update against the scalar loops they replace (same index, same bits, with ties, NaN and
// +inf), and the matrix products against float64 sums, for sizes around the vector widths.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "scoring/postprocess/dot_kernels.hpp"
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

template <class T>
void check_dot_rows() {
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (const std::size_t m : {1u, 3u, 4u, 9u, 21u})
    for (const std::size_t n : {1u, 5u, 16u, 17u, 40u})
      for (const std::size_t k : {1u, 7u, 16u, 33u})
        for (const bool upper : {false, true}) {
          const std::size_t lda = k + 2, ldb = padded_columns<T>(n), ldc = n + 1;
          std::vector<T> a(m * lda), bt(k * ldb, T(0)), c(m * ldc, T(-7));
          for (T& v : a) v = uniform(gen);
          for (std::size_t t = 0; t < k; ++t)
            for (std::size_t j = 0; j < n; ++j) bt[t * ldb + j] = uniform(gen);
          dot_rows(a.data(), lda, m, bt.data(), ldb, n, k, c.data(), ldc, upper);
          for (std::size_t i = 0; i < m; ++i) {
            for (std::size_t j = upper ? i : 0; j < n; ++j) {
              double want = 0.0;
              for (std::size_t t = 0; t < k; ++t) want += double(a[i * lda + t]) * bt[t * ldb + j];
              EXPECT_NEAR(c[i * ldc + j], want, 1e-5)
                  << m << " " << n << " " << k << " " << i << " " << j;
            }
            EXPECT_EQ(c[i * ldc + n], T(-7)) << "wrote past column n";
          }
        }
}

TEST(DotKernels, DotRowsMatchesFloat64Sums) {
  for_each_target([] {
    check_dot_rows<float>();
    check_dot_rows<double>();
  });
}

TEST(DotKernels, MatrixVectorMatchesFloat64Sums) {
  for_each_target([] {
    std::mt19937 gen(4);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    for (const std::size_t m : {1u, 4u, 7u, 30u})
      for (const std::size_t k : {1u, 8u, 13u, 64u}) {
        std::vector<double> a(m * k), x(k), y(m + 1, -7.0);
        for (double& v : a) v = uniform(gen);
        for (double& v : x) v = uniform(gen);
        matrix_vector(a.data(), m, k, x.data(), y.data());
        for (std::size_t i = 0; i < m; ++i) {
          double want = 0.0;
          for (std::size_t t = 0; t < k; ++t) want += a[i * k + t] * x[t];
          EXPECT_NEAR(y[i], want, 1e-12);
        }
        EXPECT_EQ(y[m], -7.0);
      }
  });
}

}  // namespace
}  // namespace rank_rerank::detail
