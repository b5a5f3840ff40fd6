// Per-query-token weights for weighted MaxSim (MaxSimOptions::query_weights):
//   score(Q, D) = sum_i w_i * max_j sim(q_i, d_j)
// Rare tokens carry more signal than frequent ones; these helpers turn corpus statistics into
// such weights. The names follow the original rank-refine crate (explain::weights) where they
// overlap: idf_weights and attention_weights.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace rank_rerank {

// BM25 / Lucene inverse document frequency of a term found in `document_frequency` of
// `n_docs` documents: ln(1 + (N - df + 0.5) / (df + 0.5)). Always positive. Throws Error when
// n_docs < 0, df < 0 or df > n_docs.
float bm25_idf(std::int64_t document_frequency, std::int64_t n_docs);
std::vector<float> bm25_idf(std::span<const std::int64_t> document_frequencies,
                            std::int64_t n_docs);

// One weight per query token: the BM25 idf of each token id, looking its document frequency
// up in `document_frequencies` (indexed by token id, e.g. vocabulary-sized). Ids past the end
// of the table were never seen (df 0: the largest idf); negative ids throw Error.
std::vector<float> idf_weights(std::span<const std::int64_t> token_ids,
                               std::span<const std::int64_t> document_frequencies,
                               std::int64_t n_docs);

struct Bm25Parameters {
  float k1 = 1.2f;  // term-frequency saturation, >= 0
  float b = 0.75f;  // length normalisation, in [0, 1]
};

// BM25 term weights: idf(df_t) * tf_t * (k1 + 1) / (tf_t + k1 * (1 - b + b * dl / avgdl)),
// one per term; term_frequencies and document_frequencies are aligned. Throws Error on sizes
// that differ, negative or NaN term frequencies, doc_length < 0 or avg_doc_length <= 0, and
// parameters outside their ranges.
std::vector<float> bm25_weights(std::span<const float> term_frequencies,
                                std::span<const std::int64_t> document_frequencies,
                                std::int64_t n_docs, double doc_length, double avg_doc_length,
                                const Bm25Parameters& params = {});

// Scores scaled to sum to 1 (e.g. attention paid to each query token); when they sum to
// (nearly) zero every weight is 1 / n instead. Empty in, empty out.
std::vector<float> attention_weights(std::span<const float> scores);

}  // namespace rank_rerank
