// Matrix products of the form C = A B^T, the GEMM-shaped work of pooling and diversity
// (Highway, dispatched at run time). Single-threaded on purpose: callers parallelise over
// documents, and a threaded BLAS inside those threads would oversubscribe the cores.
#pragma once

#include <cstddef>

namespace rank_rerank::detail {

// Row stride for a transposed operand of n columns: n rounded up to whole vectors of the widest
// vector any Highway target has (256 bytes), so the last vector of a row can be loaded whole.
// Pad with zeros.
template <class T>
constexpr std::size_t padded_columns(std::size_t n) {
  constexpr std::size_t lanes = 256 / sizeof(T);
  return (n + lanes - 1) / lanes * lanes;
}

// c[i * ldc + j] = a_i . b_j for the rows a_i of a (m rows of k, row stride lda) and b_j of b
// [n, k], given b transposed: bt[t * ldb + j] = b_j[t] with ldb >= padded_columns(n). With
// `upper`, entries j >= i are computed and some below the diagonal may be written too. Only
// columns j < n of c are written. Accumulates in the element type.
void dot_rows(const float* a, std::size_t lda, std::size_t m, const float* bt, std::size_t ldb,
              std::size_t n, std::size_t k, float* c, std::size_t ldc, bool upper);
void dot_rows(const double* a, std::size_t lda, std::size_t m, const double* bt, std::size_t ldb,
              std::size_t n, std::size_t k, double* c, std::size_t ldc, bool upper);

// y[i] = a_i . x for the m rows of a [m, k] (row-major, contiguous): streams a once.
void matrix_vector(const double* a, std::size_t m, std::size_t k, const double* x, double* y);

}  // namespace rank_rerank::detail
