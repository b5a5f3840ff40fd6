// Explaining a MaxSim score: which document token each query token matched, and which
// document tokens matched any query token well.
#include <cmath>
#include <string>

#include "rank_rerank/error.hpp"
#include "rank_rerank/maxsim.hpp"
#include "scoring/maxsim_common.hpp"
#include "scoring/maxsim_kernel.hpp"

namespace rank_rerank {

namespace {

detail::PreparedQuery prepare_single(const TokenMatrix& query, const TokenMatrix& doc,
                                     const MaxSimOptions& options) {
  detail::check_query(query, "query");
  validate(doc, "doc");
  detail::check_same_dim(query, "query", doc, "doc");
  return detail::PreparedQuery(query, doc.dtype, options.similarity == Similarity::cosine);
}

}  // namespace

std::vector<Alignment> maxsim_alignments(const TokenMatrix& query, const TokenMatrix& doc,
                                         const MaxSimOptions& options) {
  const detail::PreparedQuery prepared = prepare_single(query, doc, options);
  std::vector<Alignment> out(query.rows);
  if (doc.rows == 0) return out;
  std::vector<float> row_max(query.rows);
  std::vector<std::int64_t> argmax(query.rows);
  detail::max_similarity(prepared, doc, row_max.data(), argmax.data(), nullptr);
  for (std::size_t i = 0; i < query.rows; ++i) out[i] = {argmax[i], row_max[i]};
  return out;
}

std::vector<std::int64_t> highlight_matches(const TokenMatrix& query, const TokenMatrix& doc,
                                            float threshold, const MaxSimOptions& options) {
  if (std::isnan(threshold)) throw_invalid("threshold: must be a number, got NaN");
  const detail::PreparedQuery prepared = prepare_single(query, doc, options);
  std::vector<std::int64_t> out;
  if (doc.rows == 0) return out;
  std::vector<float> row_max(query.rows);
  std::vector<float> token_best(doc.rows);
  detail::max_similarity(prepared, doc, row_max.data(), nullptr, token_best.data());
  for (std::size_t j = 0; j < doc.rows; ++j) {
    // A NaN similarity compares false and is never highlighted.
    if (token_best[j] >= threshold) out.push_back(static_cast<std::int64_t>(j));
  }
  return out;
}

}  // namespace rank_rerank
