// Highway implementation of dot_rows (see dot_kernels.hpp). A tile of C is accumulated over k by
// broadcasting a_i[t] against row t of B^T: no horizontal reductions, several independent
// fused multiply-adds per load.
#include "scoring/postprocess/dot_kernels.hpp"

#include <algorithm>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "scoring/postprocess/dot_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace rank_rerank::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Rows i .. i + R - 1 of C times columns j .. j + V * lanes - 1: R x V accumulators, each step
// over k loads V vectors of row t of B^T and broadcasts R values of A. Columns at or past n are
// computed from bt's zero padding and not stored.
template <std::size_t R, std::size_t V, class T>
void Tile(const T* a, std::size_t lda, std::size_t i, const T* bt, std::size_t ldb, std::size_t n,
          std::size_t k, T* c, std::size_t ldc, std::size_t j) {
  const hn::ScalableTag<T> d;
  const std::size_t lanes = hn::Lanes(d);
  decltype(hn::Zero(d)) acc[R][V];
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < V; ++v) acc[r][v] = hn::Zero(d);
  for (std::size_t t = 0; t < k; ++t) {
    decltype(hn::Zero(d)) b[V];
    for (std::size_t v = 0; v < V; ++v) b[v] = hn::LoadU(d, bt + t * ldb + j + v * lanes);
    for (std::size_t r = 0; r < R; ++r) {
      const auto x = hn::Set(d, a[(i + r) * lda + t]);
      for (std::size_t v = 0; v < V; ++v) acc[r][v] = hn::MulAdd(x, b[v], acc[r][v]);
    }
  }
  for (std::size_t r = 0; r < R; ++r)
    for (std::size_t v = 0; v < V; ++v) {
      const std::size_t col = j + v * lanes;
      if (col >= n) break;
      T* out = c + (i + r) * ldc + col;
      if (col + lanes <= n) {
        hn::StoreU(acc[r][v], d, out);
      } else {
        T part[HWY_MAX_BYTES / sizeof(T)];
        hn::StoreU(acc[r][v], d, part);
        std::copy(part, part + (n - col), out);
      }
    }
}

// Rows i .. i + R - 1 of C from column j_begin on, V vectors of columns at a time.
template <std::size_t R, std::size_t V, class T>
void RowBlock(const T* a, std::size_t lda, std::size_t i, const T* bt, std::size_t ldb,
              std::size_t n, std::size_t k, T* c, std::size_t ldc, std::size_t j_begin) {
  const std::size_t lanes = hn::Lanes(hn::ScalableTag<T>());
  std::size_t j = j_begin;
  for (; j + V * lanes <= n; j += V * lanes) Tile<R, V>(a, lda, i, bt, ldb, n, k, c, ldc, j);
  for (; j < n; j += lanes) Tile<R, 1>(a, lda, i, bt, ldb, n, k, c, ldc, j);
}

template <class T>
void DotRows(const T* a, std::size_t lda, std::size_t m, const T* bt, std::size_t ldb,
             std::size_t n, std::size_t k, T* c, std::size_t ldc, bool upper) {
  const std::size_t lanes = hn::Lanes(hn::ScalableTag<T>());
  // With `upper`, start at the vector containing the block's first diagonal entry.
  const auto first_column = [&](std::size_t i) { return upper ? i - i % lanes : 0; };
  std::size_t i = 0;
  for (; i + 4 <= m; i += 4) RowBlock<4, 2>(a, lda, i, bt, ldb, n, k, c, ldc, first_column(i));
  for (; i < m; ++i) RowBlock<1, 4>(a, lda, i, bt, ldb, n, k, c, ldc, first_column(i));
}

// Four rows at a time share each load of x; one horizontal sum per row at the end.
void MatrixVector(const double* a, std::size_t m, std::size_t k, const double* x, double* y) {
  const hn::ScalableTag<double> d;
  const std::size_t lanes = hn::Lanes(d);
  const std::size_t vk = k - k % lanes;
  std::size_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const double* r0 = a + i * k;
    const double* r1 = r0 + k;
    const double* r2 = r1 + k;
    const double* r3 = r2 + k;
    auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
    for (std::size_t t = 0; t < vk; t += lanes) {
      const auto v = hn::LoadU(d, x + t);
      s0 = hn::MulAdd(hn::LoadU(d, r0 + t), v, s0);
      s1 = hn::MulAdd(hn::LoadU(d, r1 + t), v, s1);
      s2 = hn::MulAdd(hn::LoadU(d, r2 + t), v, s2);
      s3 = hn::MulAdd(hn::LoadU(d, r3 + t), v, s3);
    }
    double out[4] = {hn::GetLane(hn::SumOfLanes(d, s0)), hn::GetLane(hn::SumOfLanes(d, s1)),
                     hn::GetLane(hn::SumOfLanes(d, s2)), hn::GetLane(hn::SumOfLanes(d, s3))};
    for (std::size_t t = vk; t < k; ++t) {
      out[0] += r0[t] * x[t];
      out[1] += r1[t] * x[t];
      out[2] += r2[t] * x[t];
      out[3] += r3[t] * x[t];
    }
    std::copy(out, out + 4, y + i);
  }
  for (; i < m; ++i) {
    const double* r = a + i * k;
    auto s = hn::Zero(d);
    for (std::size_t t = 0; t < vk; t += lanes)
      s = hn::MulAdd(hn::LoadU(d, r + t), hn::LoadU(d, x + t), s);
    double sum = hn::GetLane(hn::SumOfLanes(d, s));
    for (std::size_t t = vk; t < k; ++t) sum += r[t] * x[t];
    y[i] = sum;
  }
}

void DotRowsF32(const float* a, std::size_t lda, std::size_t m, const float* bt, std::size_t ldb,
                std::size_t n, std::size_t k, float* c, std::size_t ldc, bool upper) {
  DotRows(a, lda, m, bt, ldb, n, k, c, ldc, upper);
}
void DotRowsF64(const double* a, std::size_t lda, std::size_t m, const double* bt, std::size_t ldb,
                std::size_t n, std::size_t k, double* c, std::size_t ldc, bool upper) {
  DotRows(a, lda, m, bt, ldb, n, k, c, ldc, upper);
}

}  // namespace rank_rerank::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace rank_rerank::detail {

HWY_EXPORT(DotRowsF32);
HWY_EXPORT(DotRowsF64);
HWY_EXPORT(MatrixVector);

void dot_rows(const float* a, std::size_t lda, std::size_t m, const float* bt, std::size_t ldb,
              std::size_t n, std::size_t k, float* c, std::size_t ldc, bool upper) {
  HWY_DYNAMIC_DISPATCH(DotRowsF32)(a, lda, m, bt, ldb, n, k, c, ldc, upper);
}
void dot_rows(const double* a, std::size_t lda, std::size_t m, const double* bt, std::size_t ldb,
              std::size_t n, std::size_t k, double* c, std::size_t ldc, bool upper) {
  HWY_DYNAMIC_DISPATCH(DotRowsF64)(a, lda, m, bt, ldb, n, k, c, ldc, upper);
}

void matrix_vector(const double* a, std::size_t m, std::size_t k, const double* x, double* y) {
  HWY_DYNAMIC_DISPATCH(MatrixVector)(a, m, k, x, y);
}

}  // namespace rank_rerank::detail
#endif
