#include "scoring/maxsim_common.hpp"

#include "rank_rerank/error.hpp"
#include "rank_rerank/threading.hpp"

namespace rank_rerank::detail {

std::string shape_string(std::size_t rows, std::size_t dim) {
  // Appended piece by piece: `"[" + std::to_string(...)` trips GCC 12's false -Wrestrict.
  std::string s = "[";
  s += std::to_string(rows);
  s += ", ";
  s += std::to_string(dim);
  s += "]";
  return s;
}

void check_query(const TokenMatrix& query, std::string_view what) {
  validate(query, what);
  if (query.rows == 0)
    throw_invalid(std::string(what) + ": the query has no tokens (shape " +
                  shape_string(query.rows, query.dim) + "); MaxSim needs at least one");
}

void check_same_dim(const TokenMatrix& query, std::string_view query_what, const TokenMatrix& doc,
                    std::string_view doc_what) {
  if (query.dim != doc.dim)
    throw_invalid(std::string(doc_what) + ": dimension " + std::to_string(doc.dim) +
                  " does not match " + std::string(query_what) + " dimension " +
                  std::to_string(query.dim) + " (" + std::string(query_what) + " shape " +
                  shape_string(query.rows, query.dim) + ", " + std::string(doc_what) + " shape " +
                  shape_string(doc.rows, doc.dim) + ")");
}

void check_weights(const MaxSimOptions& options, std::size_t expected, std::string_view what) {
  const std::size_t n = options.query_weights.size();
  if (n != 0 && n != expected)
    throw_invalid(std::string(what) + ": got " + std::to_string(n) +
                  " weights, expected one per query token (" + std::to_string(expected) + ")");
}

std::size_t resolve_threads(const MaxSimOptions& options) {
  return options.num_threads != 0 ? options.num_threads : default_num_threads();
}

float reduce_score(std::span<const float> row_max, std::span<const float> weights,
                   bool zero_floor) {
  double sum = 0.0;
  for (std::size_t i = 0; i < row_max.size(); ++i) {
    float best = row_max[i];
    // Written as a comparison, not std::max, so that NaN survives the floor.
    if (zero_floor && best < 0.0f) best = 0.0f;
    const double w = weights.empty() ? 1.0 : static_cast<double>(weights[i]);
    sum += w * static_cast<double>(best);
  }
  return static_cast<float>(sum);
}

}  // namespace rank_rerank::detail
