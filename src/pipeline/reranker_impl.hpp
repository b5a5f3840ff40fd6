// The state behind rank_rerank::Reranker, shared by its loading, encoding and scoring files.
#pragma once

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
#include "rank_rerank/tokenizer.hpp"

namespace rank_rerank {

struct Reranker::Impl {
  RerankerKind kind = RerankerKind::dense;
  pipeline::Placement placement;
  std::size_t max_batch_tokens = 0;
  int num_threads = 0;
  // Exactly one of these holds the model.
  std::optional<ColbertEncoder> colbert;
  std::optional<CrossEncoder> cross;
  std::optional<SentenceEncoder> sentence;
  std::optional<Tokenizer> tokenizer;  // counts tokens to plan the passes
  std::size_t max_length = 0;
  ModelIdentity identity;

  // Vectors of `texts` in the order given (one row per text for `dense`), encoded in passes of at
  // most max_batch_tokens tokens. Adds to stats' texts, tokens, times and batches.
  PackedEmbeddings encode(std::span<const std::string_view> texts, bool is_query,
                          RerankStats& stats) const;
  // Cross-encoder scores of (queries[i], documents[i]), in passes of at most max_batch_tokens.
  std::vector<float> predict(std::span<const std::string_view> queries,
                             std::span<const std::string_view> documents, RerankStats& stats) const;
  MaxSimOptions scoring_options() const;
};

}  // namespace rank_rerank
