// Late-interaction scoring (ColBERT MaxSim) over token vectors.
//
//   score(Q, D) = sum_i w_i * max_j sim(q_i, d_j)
//
// sim is the dot product (or the cosine), w_i the per-query-token weight (1 by default).
// The similarity matrix is never materialised: memory use does not grow with
// query tokens x document tokens.
//
// Query / document dtypes: a float32 query scores documents stored as f32, f16, bf16, i8 or
// bit (bit rows decode to +-1, so the score equals q . (2b - 1)); a bit query scores bit
// documents (dot of +-1 codes = dim - 2 * popcount(q XOR d)). Other pairs are rejected.
//
// Conventions (documented in docs/scoring.md):
//   * an empty query is an error; an empty document scores 0 (no token can match);
//   * padding never wins a max (PaddingPolicy::ignore) unless PaddingPolicy::zero_floor is
//     asked for, which reproduces PyLate's rank.rerank: a document shorter than the padded
//     length contributes max(0, best) per query token;
//   * a NaN in a query token, a document token or a weight makes the score NaN (it then ranks
//     last in top_k); results never depend on where the NaN sits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rank_rerank/tensor.hpp"

namespace rank_rerank {

enum class Similarity : std::uint8_t {
  dot,     // raw dot product (ColBERT vectors are already unit length)
  cosine,  // dot / (|q| |d|); zero vectors have similarity 0
};

enum class PaddingPolicy : std::uint8_t {
  ignore,      // padded positions never take part (default)
  zero_floor,  // padded positions count as similarity 0 (PyLate rank.rerank)
};

struct MaxSimOptions {
  Similarity similarity = Similarity::dot;
  // Only meaningful for padded inputs; packed documents have no padding.
  PaddingPolicy padding = PaddingPolicy::ignore;
  // Per-query-token weights (size = query tokens); empty means every weight is 1.
  std::span<const float> query_weights = {};
  // Worker threads; 0 uses the library default (see threading.hpp).
  std::size_t num_threads = 0;
};

// One query vs one document.
float maxsim(const TokenMatrix& query, const TokenMatrix& doc, const MaxSimOptions& options = {});

// One query vs many documents; out[i] scores document i. out.size() must equal docs.size().
void maxsim_packed(const TokenMatrix& query, const PackedTokens& docs, std::span<float> out,
                   const MaxSimOptions& options = {});
std::vector<float> maxsim_packed(const TokenMatrix& query, const PackedTokens& docs,
                                 const MaxSimOptions& options = {});

// One query vs documents stored separately (for example a Python list of arrays), scored in
// place without packing them first. Every document must have the same dtype and dim.
std::vector<float> maxsim_batch(const TokenMatrix& query, std::span<const TokenMatrix> docs,
                                const MaxSimOptions& options = {});

// One query vs a padded batch of documents.
std::vector<float> maxsim_padded(const TokenMatrix& query, const PaddedTokens& docs,
                                 const MaxSimOptions& options = {});

// Many queries vs many documents, all pairs: row-major [n_queries, n_docs].
// options.query_weights, when given, holds the weights of all queries' tokens back to back
// (size = queries.tokens.rows).
std::vector<float> maxsim_all_pairs(const PackedTokens& queries, const PackedTokens& docs,
                                    const MaxSimOptions& options = {});

// Each query scored against its own candidate documents, as reranking does: query q scores
// docs candidate_ids[candidate_offsets[q] .. candidate_offsets[q+1]). The result is aligned
// with candidate_ids. options.query_weights as for maxsim_all_pairs.
std::vector<float> maxsim_candidates(const PackedTokens& queries, const PackedTokens& docs,
                                     std::span<const std::int64_t> candidate_offsets,
                                     std::span<const std::int64_t> candidate_ids,
                                     const MaxSimOptions& options = {});

// For each query token: the document token with the highest similarity and that similarity
// (ties go to the lower token index). An empty document gives doc_token = -1, score = 0.
struct Alignment {
  std::int64_t doc_token = -1;
  float similarity = 0.0f;
};
std::vector<Alignment> maxsim_alignments(const TokenMatrix& query, const TokenMatrix& doc,
                                         const MaxSimOptions& options = {});

// Document tokens whose best similarity with any query token is >= threshold, ascending.
std::vector<std::int64_t> highlight_matches(const TokenMatrix& query, const TokenMatrix& doc,
                                            float threshold, const MaxSimOptions& options = {});

}  // namespace rank_rerank
