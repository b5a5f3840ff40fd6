// The internal contract between the MaxSim API layer (maxsim.cpp: layouts, options, threads)
// and the SIMD kernels (per dtype, per Highway target). The API layer never touches SIMD; the
// kernels never see offsets, padding, weights or threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "rank_rerank/tensor.hpp"

namespace rank_rerank::detail {

// A query converted once into the layout the kernel for `doc_dtype` wants (for example
// transposed so SIMD lanes run over query tokens, or rounded to bf16 pairs / int8 quads for
// dot-product instructions). Reused against any number of documents and safe to share across
// threads (kernels only read it).
class PreparedQuery {
 public:
  // Throws Error(unsupported) for query/document dtype pairs that have no kernel. Shapes
  // (empty query, mismatched dims) are the caller's to check before.
  PreparedQuery(const TokenMatrix& query, DType doc_dtype, bool cosine);
  ~PreparedQuery();
  PreparedQuery(PreparedQuery&&) noexcept;
  PreparedQuery& operator=(PreparedQuery&&) noexcept;

  std::size_t rows() const noexcept;
  std::size_t dim() const noexcept;
  DType doc_dtype() const noexcept;
  bool cosine() const noexcept;

  struct Impl;
  const Impl& impl() const noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Scores every row of `doc` (all rows are real tokens; doc.dtype == q.doc_dtype(),
// doc.dim == q.dim()) against every query token, without materialising the similarity matrix:
//   row_max[i]    = max_j sim(q_i, d_j)               (size q.rows(); -inf when doc.rows == 0)
//   argmax[i]     = smallest j reaching row_max[i]    (nullable; -1 when doc.rows == 0)
//   token_best[j] = max_i sim(q_i, d_j)               (nullable; size doc.rows)
// sim is the dot product, or the cosine when q.cosine() (a zero vector has similarity 0).
// NaN is sticky: if any sim(q_i, d_j) is NaN then row_max[i] is NaN (argmax[i] is then the
// first j giving NaN) and token_best[j] is NaN.
void max_similarity(const PreparedQuery& q, const TokenMatrix& doc, float* row_max,
                    std::int64_t* argmax, float* token_best);

}  // namespace rank_rerank::detail
