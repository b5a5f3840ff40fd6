// The Reranker's encoding: count tokens, plan passes by token budget, run the encoder per pass
// and put the results back in the caller's order.
#include <algorithm>
#include <numeric>

#include "pipeline/batching.hpp"
#include "pipeline/rerank_stats_record.hpp"
#include "pipeline/reranker_impl.hpp"

namespace rank_rerank {

namespace {

// Tokens per text (or pair) after truncation to `limit`, special tokens included; at least 1 so
// a pass never holds more texts than its token budget.
std::vector<std::size_t> count_tokens(const Tokenizer& tokenizer,
                                      std::span<const std::string_view> texts,
                                      std::span<const std::string_view> pairs, std::size_t limit,
                                      int num_threads) {
  EncodeOptions options;
  options.truncation = std::optional<TruncationOptions>(TruncationOptions{limit});
  options.padding = std::optional<PaddingOptions>();
  options.num_threads = num_threads;
  const std::vector<Encoding> encodings =
      tokenizer.encode_batch({texts.begin(), texts.end()}, {pairs.begin(), pairs.end()}, options);
  std::vector<std::size_t> counts(encodings.size());
  for (std::size_t i = 0; i < encodings.size(); ++i)
    counts[i] = std::max<std::size_t>(1, encodings[i].size());
  return counts;
}

void record_plan(const pipeline::BatchPlan& plan, const std::vector<std::size_t>& counts,
                 RerankStats& stats) {
  for (std::size_t b = 0; b < plan.batches.size(); ++b) {
    stats.batch_texts.push_back(plan.batches[b].size());
    stats.batch_tokens.push_back(plan.tokens[b]);
  }
  stats.texts += counts.size();
  stats.tokens += std::accumulate(counts.begin(), counts.end(), std::size_t{0});
}

}  // namespace

PackedEmbeddings Reranker::Impl::encode(std::span<const std::string_view> texts, bool is_query,
                                        RerankStats& stats) const {
  pipeline::Stopwatch tokenize_clock;
  // ColBERT truncates before inserting its marker token, so it keeps one token less.
  const std::size_t limit =
      colbert ? (is_query ? colbert->query_length() : max_length) - 1 : max_length;
  std::vector<std::size_t> counts = count_tokens(*tokenizer, texts, {}, limit, num_threads);
  if (colbert)
    for (std::size_t& c : counts) ++c;
  stats.tokenize_ms += tokenize_clock.ms();

  pipeline::Stopwatch encode_clock;
  const pipeline::BatchPlan plan = pipeline::plan_batches(counts, max_batch_tokens);
  std::vector<PackedEmbeddings> outputs;
  outputs.reserve(plan.batches.size());
  std::vector<std::pair<std::size_t, std::size_t>> where(texts.size());  // (pass, position)
  for (std::size_t b = 0; b < plan.batches.size(); ++b) {
    std::vector<std::string_view> batch;
    for (std::size_t i : plan.batches[b]) {
      where[i] = {b, batch.size()};
      batch.push_back(texts[i]);
    }
    if (colbert) {
      outputs.push_back(is_query ? colbert->encode_queries(batch)
                                 : colbert->encode_documents(batch));
    } else if (kind == RerankerKind::dense_maxsim) {
      outputs.push_back(sentence->encode_tokens(batch));
    } else {
      Embeddings e = sentence->encode(batch);
      PackedEmbeddings p;
      p.dim = e.dim;
      p.values = std::move(e.values);
      p.offsets.resize(e.rows + 1);
      std::iota(p.offsets.begin(), p.offsets.end(), std::int64_t{0});
      outputs.push_back(std::move(p));
    }
  }
  PackedEmbeddings out;
  out.dim = identity.dim;
  out.offsets.reserve(texts.size() + 1);
  out.offsets.push_back(0);
  for (const auto& [b, k] : where) {
    const PackedEmbeddings& o = outputs[b];
    const auto begin = static_cast<std::ptrdiff_t>(o.offsets[k] * static_cast<std::int64_t>(o.dim));
    const auto end =
        static_cast<std::ptrdiff_t>(o.offsets[k + 1] * static_cast<std::int64_t>(o.dim));
    out.values.insert(out.values.end(), o.values.begin() + begin, o.values.begin() + end);
    out.offsets.push_back(out.offsets.back() + (o.offsets[k + 1] - o.offsets[k]));
  }
  stats.encode_ms += encode_clock.ms();
  record_plan(plan, counts, stats);
  return out;
}

std::vector<float> Reranker::Impl::predict(std::span<const std::string_view> queries,
                                           std::span<const std::string_view> documents,
                                           RerankStats& stats) const {
  pipeline::Stopwatch tokenize_clock;
  const std::vector<std::size_t> counts =
      count_tokens(*tokenizer, queries, documents, max_length, num_threads);
  stats.tokenize_ms += tokenize_clock.ms();

  pipeline::Stopwatch encode_clock;
  const pipeline::BatchPlan plan = pipeline::plan_batches(counts, max_batch_tokens);
  std::vector<float> scores(queries.size());
  for (const std::vector<std::size_t>& batch : plan.batches) {
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    pairs.reserve(batch.size());
    for (std::size_t i : batch) pairs.emplace_back(queries[i], documents[i]);
    const std::vector<float> s = cross->predict(pairs);
    for (std::size_t k = 0; k < batch.size(); ++k) scores[batch[k]] = s[k];
  }
  stats.encode_ms += encode_clock.ms();
  record_plan(plan, counts, stats);
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
