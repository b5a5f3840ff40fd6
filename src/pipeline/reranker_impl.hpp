// The state behind rank_rerank::Reranker, shared by its loading, encoding and scoring files.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "pipeline/placement.hpp"
#include "rank_rerank/colbert_encoder.hpp"
#include "rank_rerank/cross_encoder.hpp"
#include "rank_rerank/maxsim.hpp"
#include "rank_rerank/reranker.hpp"
#include "rank_rerank/sentence_encoder.hpp"

namespace rank_rerank {

struct Reranker::Impl {
  RerankerKind kind = RerankerKind::dense;
  pipeline::Placement placement;
  int num_threads = 0;
  // Exactly one of these holds the model.
  std::optional<ColbertEncoder> colbert;
  std::optional<CrossEncoder> cross;
  std::optional<SentenceEncoder> sentence;
  std::size_t max_length = 0;
  ModelIdentity identity;

  // Vectors of `texts` in the order given (one row per text for `dense`); the encoder batches by
  // token budget. Adds to stats' texts, tokens, times and batches.
  PackedEmbeddings encode(std::span<const std::string_view> texts, bool is_query,
                          RerankStats& stats) const;
  // Cross-encoder scores of (queries[i], documents[i]).
  std::vector<float> predict(std::span<const std::string_view> queries,
                             std::span<const std::string_view> documents, RerankStats& stats) const;
  // ColBERT scores of each query against its documents (ColbertEncoder::score_candidates); adds
  // to stats' texts, tokens, times, batches and score_ms.
  std::vector<float> score_colbert(std::span<const std::string_view> queries,
                                   std::span<const std::string_view> documents,
                                   std::span<const std::int64_t> candidate_offsets,
                                   RerankStats& stats) const;
  MaxSimOptions scoring_options() const;
};

}  // namespace rank_rerank
