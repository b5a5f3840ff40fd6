// The Reranker's encoding: one encoder call per request (the encoder tokenizes once, sorts by
// length and batches by token budget), its statistics folded into the call's. ColBERT reranking
// encodes and scores in one call, so its vectors stay on the device.
#include <algorithm>
#include <numeric>

#include "pipeline/reranker_impl.hpp"

namespace rank_rerank {

namespace {

void add_encode_stats(const EncodeStats& e, RerankStats& stats) {
  stats.texts += e.texts;
  stats.tokens += e.tokens;
  stats.tokenize_ms += e.tokenize_ms;
  stats.encode_ms += e.encode_ms;
  stats.score_ms += e.score_ms;
  stats.batch_texts.insert(stats.batch_texts.end(), e.batch_texts.begin(), e.batch_texts.end());
  stats.batch_tokens.insert(stats.batch_tokens.end(), e.batch_tokens.begin(), e.batch_tokens.end());
}

// One row per text as a packed matrix (offsets 0, 1, 2, ...).
PackedEmbeddings one_row_each(Embeddings e) {
  PackedEmbeddings p;
  p.dim = e.dim;
  p.values = std::move(e.values);
  p.offsets.resize(e.rows + 1);
  std::iota(p.offsets.begin(), p.offsets.end(), std::int64_t{0});
  return p;
}

}  // namespace

PackedEmbeddings Reranker::Impl::encode(std::span<const std::string_view> texts, bool is_query,
                                        RerankStats& stats) const {
  const std::vector<std::string_view> all(texts.begin(), texts.end());
  EncodeStats e;
  PackedEmbeddings out;
  if (colbert)
    out = is_query ? colbert->encode_queries(all, &e) : colbert->encode_documents(all, &e);
  else if (kind == RerankerKind::dense_maxsim)
    out = sentence->encode_tokens(all, &e);
  else
    out = one_row_each(sentence->encode(all, &e));
  add_encode_stats(e, stats);
  return out;
}

std::vector<float> Reranker::Impl::predict(std::span<const std::string_view> queries,
                                           std::span<const std::string_view> documents,
                                           RerankStats& stats) const {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  pairs.reserve(queries.size());
  for (std::size_t i = 0; i < queries.size(); ++i) pairs.emplace_back(queries[i], documents[i]);
  EncodeStats e;
  std::vector<float> scores = cross->predict(pairs, false, &e);
  add_encode_stats(e, stats);
  return scores;
}

std::vector<float> Reranker::Impl::score_colbert(std::span<const std::string_view> queries,
                                                 std::span<const std::string_view> documents,
                                                 std::span<const std::int64_t> candidate_offsets,
                                                 RerankStats& stats) const {
  EncodeStats e;
  std::vector<float> scores =
      colbert->score_candidates({queries.begin(), queries.end()},
                                {documents.begin(), documents.end()}, candidate_offsets, &e);
  add_encode_stats(e, stats);
  return scores;
}

MaxSimOptions Reranker::Impl::scoring_options() const {
  MaxSimOptions options;
  // ColBERT vectors are unit length; a dense model's may not be (cosine either way).
  options.similarity = kind == RerankerKind::colbert ? Similarity::dot : Similarity::cosine;
  options.num_threads = static_cast<std::size_t>(std::max(0, num_threads));
  return options;
}

}  // namespace rank_rerank
