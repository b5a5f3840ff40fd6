// Portable implementation of the MaxSim kernel contract (maxsim_kernel.hpp): every document
// row is decoded to float32 and compared with every query row.
#include "scoring/maxsim_kernel.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/quantize.hpp"

namespace rank_rerank::detail {

struct PreparedQuery::Impl {
  std::size_t rows = 0;
  std::size_t dim = 0;
  DType doc_dtype = DType::f32;
  bool cosine = false;
  // Query rows as float32, divided by their norm when cosine (zero rows stay zero).
  std::vector<float> values;
  // Cosine only: 1 for query rows that are the zero vector (similarity 0 with anything).
  std::vector<std::uint8_t> zero_rows;
};

namespace {

bool supported(DType query, DType doc) {
  return query == DType::f32 || (query == DType::bit && doc == DType::bit);
}

void decode_row(const TokenMatrix& m, std::size_t r, float* out) {
  dequantize(m.slice(r, r + 1), MutableMatrixView{out, 1, m.dim});
}

}  // namespace

PreparedQuery::PreparedQuery(const TokenMatrix& query, DType doc_dtype, bool cosine)
    : impl_(std::make_unique<Impl>()) {
  if (!supported(query.dtype, doc_dtype))
    throw_unsupported("MaxSim: no kernel for " + std::string(dtype_name(query.dtype)) +
                      " queries against " + std::string(dtype_name(doc_dtype)) + " documents");
  Impl& q = *impl_;
  q.rows = query.rows;
  q.dim = query.dim;
  q.doc_dtype = doc_dtype;
  q.cosine = cosine;
  q.values.resize(q.rows * q.dim);
  q.zero_rows.assign(q.rows, 0);
  for (std::size_t i = 0; i < q.rows; ++i) {
    float* row = q.values.data() + i * q.dim;
    decode_row(query, i, row);
    if (!cosine) continue;
    double norm2 = 0.0;
    for (std::size_t k = 0; k < q.dim; ++k) norm2 += static_cast<double>(row[k]) * row[k];
    if (norm2 == 0.0) {
      q.zero_rows[i] = 1;
      continue;
    }
    const auto inv = static_cast<float>(1.0 / std::sqrt(norm2));
    for (std::size_t k = 0; k < q.dim; ++k) row[k] *= inv;
  }
}

PreparedQuery::~PreparedQuery() = default;
PreparedQuery::PreparedQuery(PreparedQuery&&) noexcept = default;
PreparedQuery& PreparedQuery::operator=(PreparedQuery&&) noexcept = default;

std::size_t PreparedQuery::rows() const noexcept { return impl_->rows; }
std::size_t PreparedQuery::dim() const noexcept { return impl_->dim; }
DType PreparedQuery::doc_dtype() const noexcept { return impl_->doc_dtype; }
bool PreparedQuery::cosine() const noexcept { return impl_->cosine; }

void max_similarity(const PreparedQuery& prepared, const TokenMatrix& doc, float* row_max,
                    std::int64_t* argmax, float* token_best) {
  const PreparedQuery::Impl& q = prepared.impl();
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (std::size_t i = 0; i < q.rows; ++i) {
    row_max[i] = neg_inf;
    if (argmax) argmax[i] = -1;
  }
  std::vector<float> d(q.dim);
  for (std::size_t j = 0; j < doc.rows; ++j) {
    decode_row(doc, j, d.data());
    float inv_norm = 1.0f;
    bool zero_doc = false;
    if (q.cosine) {
      double norm2 = 0.0;
      for (std::size_t k = 0; k < q.dim; ++k) norm2 += static_cast<double>(d[k]) * d[k];
      zero_doc = norm2 == 0.0;
      inv_norm = static_cast<float>(1.0 / std::sqrt(norm2));
    }
    float best = neg_inf;
    for (std::size_t i = 0; i < q.rows; ++i) {
      const float* qi = q.values.data() + i * q.dim;
      float dot = 0.0f;
      for (std::size_t k = 0; k < q.dim; ++k) dot += qi[k] * d[k];
      const bool zero = zero_doc || (q.cosine && q.zero_rows[i]);
      const float s = zero ? 0.0f : dot * inv_norm;
      const auto jj = static_cast<std::int64_t>(j);
      if (std::isnan(s)) {
        if (!std::isnan(row_max[i])) {
          row_max[i] = s;
          if (argmax) argmax[i] = jj;
        }
      } else if (s > row_max[i] || (argmax && argmax[i] < 0)) {
        row_max[i] = s;
        if (argmax) argmax[i] = jj;
      }
      best = (std::isnan(s) || std::isnan(best)) ? std::numeric_limits<float>::quiet_NaN()
                                                 : std::fmax(best, s);
    }
    if (token_best) token_best[j] = best;
  }
}

}  // namespace rank_rerank::detail
