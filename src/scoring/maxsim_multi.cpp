// Many queries at once: every query against every document, or each query against its own
// candidate list. Each query is prepared once; (query, document) pairs are the unit of work.
#include <algorithm>
#include <string>

#include "rank_rerank/error.hpp"
#include "rank_rerank/maxsim.hpp"
#include "scoring/maxsim_common.hpp"
#include "scoring/maxsim_kernel.hpp"

namespace rank_rerank {

using detail::PreparedQuery;

namespace {

// Validates packed queries (each non-empty) against packed documents and prepares every query
// for the documents' dtype.
std::vector<PreparedQuery> prepare_queries(const PackedTokens& queries, const PackedTokens& docs,
                                           const MaxSimOptions& options) {
  validate(queries, "queries");
  validate(docs, "docs");
  detail::check_same_dim(queries.tokens, "queries", docs.tokens, "docs");
  detail::check_weights(options, queries.tokens.rows, "query_weights");
  std::vector<PreparedQuery> prepared;
  prepared.reserve(queries.size());
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const TokenMatrix query = queries.item(q);
    if (query.rows == 0)
      throw_invalid("queries: query " + std::to_string(q) + " has no tokens (offsets[" +
                    std::to_string(q) + "] == offsets[" + std::to_string(q + 1) +
                    "] == " + std::to_string(queries.offsets[q]) + "); MaxSim needs at least one");
    prepared.emplace_back(query, docs.tokens.dtype, options.similarity == Similarity::cosine);
  }
  return prepared;
}

std::size_t max_rows(const PackedTokens& p) {
  std::size_t best = 0;
  for (std::size_t i = 0; i < p.size(); ++i)
    best = std::max(best, static_cast<std::size_t>(p.offsets[i + 1] - p.offsets[i]));
  return best;
}

std::size_t rows_of(const PackedTokens& p, std::size_t i) {
  return static_cast<std::size_t>(p.offsets[i + 1] - p.offsets[i]);
}

// Score of prepared query q (rows [offsets[q], offsets[q+1]) of the packed queries) against
// document d, with that query's slice of the weights.
float score_pair(const std::vector<PreparedQuery>& prepared, const PackedTokens& queries,
                 const PackedTokens& docs, std::size_t q, std::size_t d,
                 const MaxSimOptions& options, std::vector<float>& row_max) {
  if (rows_of(docs, d) == 0) return 0.0f;
  const std::size_t q_rows = rows_of(queries, q);
  detail::max_similarity(prepared[q], docs.item(d), row_max.data(), nullptr, nullptr);
  std::span<const float> weights = options.query_weights;
  if (!weights.empty())
    weights = weights.subspan(static_cast<std::size_t>(queries.offsets[q]), q_rows);
  return detail::reduce_score(std::span<const float>(row_max.data(), q_rows), weights, false);
}

void check_candidates(std::size_t n_queries, std::size_t n_docs,
                      std::span<const std::int64_t> offsets, std::span<const std::int64_t> ids) {
  if (offsets.size() != n_queries + 1)
    throw_invalid("candidate_offsets: has " + std::to_string(offsets.size()) +
                  " entries, expected n_queries + 1 = " + std::to_string(n_queries + 1));
  if (offsets.front() != 0)
    throw_invalid("candidate_offsets: must start at 0, got " + std::to_string(offsets.front()));
  for (std::size_t i = 1; i < offsets.size(); ++i) {
    if (offsets[i] < offsets[i - 1])
      throw_invalid("candidate_offsets: must not decrease, but candidate_offsets[" +
                    std::to_string(i) + "] = " + std::to_string(offsets[i]) +
                    " < candidate_offsets[" + std::to_string(i - 1) +
                    "] = " + std::to_string(offsets[i - 1]));
  }
  if (static_cast<std::size_t>(offsets.back()) != ids.size())
    throw_invalid("candidate_offsets: end at " + std::to_string(offsets.back()) +
                  " but candidate_ids has " + std::to_string(ids.size()) + " entries");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= n_docs)
      throw_invalid("candidate_ids: candidate_ids[" + std::to_string(i) +
                    "] = " + std::to_string(ids[i]) + " is outside [0, " + std::to_string(n_docs) +
                    ") (number of documents)");
  }
}

}  // namespace

std::vector<float> maxsim_all_pairs(const PackedTokens& queries, const PackedTokens& docs,
                                    const MaxSimOptions& options) {
  const std::vector<PreparedQuery> prepared = prepare_queries(queries, docs, options);
  const std::size_t n_q = queries.size();
  const std::size_t n_d = docs.size();
  std::vector<float> out(n_q * n_d);
  if (out.empty()) return out;
  const std::size_t scratch_rows = max_rows(queries);
  const std::size_t threads = detail::resolve_threads(options);
  // Document-major order: a document's tokens stay in cache while every query scores it.
  const auto bounds = detail::balanced_chunks(n_q * n_d, threads, [&](std::size_t item) {
    return detail::pair_cost(rows_of(queries, item % n_q), rows_of(docs, item / n_q));
  });
  detail::parallel_chunks(
      bounds, threads, [&] { return std::vector<float>(scratch_rows); },
      [&](std::size_t begin, std::size_t end, std::vector<float>& row_max) {
        for (std::size_t item = begin; item < end; ++item) {
          const std::size_t q = item % n_q;
          const std::size_t d = item / n_q;
          out[q * n_d + d] = score_pair(prepared, queries, docs, q, d, options, row_max);
        }
      });
  return out;
}

std::vector<float> maxsim_candidates(const PackedTokens& queries, const PackedTokens& docs,
                                     std::span<const std::int64_t> candidate_offsets,
                                     std::span<const std::int64_t> candidate_ids,
                                     const MaxSimOptions& options) {
  const std::vector<PreparedQuery> prepared = prepare_queries(queries, docs, options);
  check_candidates(queries.size(), docs.size(), candidate_offsets, candidate_ids);
  std::vector<float> out(candidate_ids.size());
  if (out.empty()) return out;
  const auto query_of = [&](std::size_t item) {
    const auto it = std::upper_bound(candidate_offsets.begin(), candidate_offsets.end(),
                                     static_cast<std::int64_t>(item));
    return static_cast<std::size_t>(it - candidate_offsets.begin()) - 1;
  };
  const std::size_t scratch_rows = max_rows(queries);
  const std::size_t threads = detail::resolve_threads(options);
  const auto bounds = detail::balanced_chunks(out.size(), threads, [&](std::size_t item) {
    return detail::pair_cost(rows_of(queries, query_of(item)),
                             rows_of(docs, static_cast<std::size_t>(candidate_ids[item])));
  });
  detail::parallel_chunks(
      bounds, threads, [&] { return std::vector<float>(scratch_rows); },
      [&](std::size_t begin, std::size_t end, std::vector<float>& row_max) {
        std::size_t q = query_of(begin);
        for (std::size_t item = begin; item < end; ++item) {
          while (static_cast<std::size_t>(candidate_offsets[q + 1]) <= item) ++q;
          const auto d = static_cast<std::size_t>(candidate_ids[item]);
          out[item] = score_pair(prepared, queries, docs, q, d, options, row_max);
        }
      });
  return out;
}

}  // namespace rank_rerank
