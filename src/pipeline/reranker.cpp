// Reranker: loading (kind detection, device, identity) and the public calls.
#include <algorithm>
#include <cctype>
#include <numeric>

#include "pipeline/model_identity.hpp"
#include "pipeline/rerank_stats_record.hpp"
#include "pipeline/reranker_impl.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/topk.hpp"

namespace rank_rerank {

namespace {

// The options every encoder shares. The encoder sorts texts by length and cuts passes of at most
// max_batch_tokens tokens; batch_size is the same budget so that the count never cuts a pass
// earlier (each text has at least one token).
template <class Options>
Options encoder_options(const RerankerOptions& o, const pipeline::Placement& placement) {
  Options options;
  options.hub = o.hub;
  options.batch_size = o.max_batch_tokens;
  options.max_batch_tokens = o.max_batch_tokens;
  options.num_threads = o.num_threads;
  if (placement.devices.size() > 1)
    options.devices = placement.devices;
  else
    options.device = placement.device;
  options.dtype = placement.dtype;
  return options;
}

std::vector<RerankHit> ranked(std::span<const float> scores, std::optional<std::size_t> k) {
  const std::size_t keep = k ? std::min(*k, scores.size()) : scores.size();
  std::vector<RerankHit> hits;
  hits.reserve(keep);
  for (const Ranked& r : top_k(scores, keep)) hits.push_back({r.index, r.score});
  return hits;
}

void check_top_k(std::optional<std::size_t> k) {
  if (k && *k == 0) throw_invalid("top_k must be at least 1 (or unset for every document)");
}

PackedTokens packed_view(const PackedEmbeddings& e) {
  return {{DType::f32, e.values.data(), static_cast<std::size_t>(e.offsets.back()), e.dim},
          e.offsets};
}

void finish(RerankStats& st, const Stopwatch& total, RerankStats* out) {
  st.total_ms = total.ms();
  pipeline::record_last_stats(st);
  if (out) *out = st;
}

}  // namespace

std::string_view reranker_kind_name(RerankerKind kind) noexcept {
  switch (kind) {
    case RerankerKind::automatic:
      return "auto";
    case RerankerKind::colbert:
      return "colbert";
    case RerankerKind::cross_encoder:
      return "cross_encoder";
    case RerankerKind::dense:
      return "dense";
    case RerankerKind::dense_maxsim:
      return "dense_maxsim";
  }
  return "unknown";
}

RerankerKind parse_reranker_kind(std::string_view text) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) {
    return c == '-' ? '_' : static_cast<char>(std::tolower(c));
  });
  if (t == "auto" || t == "automatic") return RerankerKind::automatic;
  if (t == "colbert") return RerankerKind::colbert;
  if (t == "cross_encoder" || t == "crossencoder") return RerankerKind::cross_encoder;
  if (t == "dense") return RerankerKind::dense;
  if (t == "dense_maxsim") return RerankerKind::dense_maxsim;
  throw_invalid("model kind '" + std::string(text) +
                "' is not supported (expected auto, colbert, cross_encoder, dense or "
                "dense_maxsim)");
}

Reranker Reranker::from_pretrained(std::string_view path_or_id, const RerankerOptions& options) {
  if (options.max_batch_tokens == 0) throw_invalid("Reranker: max_batch_tokens must be at least 1");
  if (options.max_length && *options.max_length < 2)
    throw_invalid("Reranker: max_length must be at least 2 tokens, found " +
                  std::to_string(*options.max_length));
  auto impl = std::make_unique<Impl>();
  impl->placement = pipeline::resolve_placement(options.device, options.dtype, options.devices);
  impl->kind = options.kind == RerankerKind::automatic
                   ? detect_reranker_kind(path_or_id, options.hub)
                   : options.kind;
  if (options.query_length && impl->kind != RerankerKind::colbert)
    throw_invalid("Reranker: query_length applies to ColBERT models only, this one is " +
                  std::string(reranker_kind_name(impl->kind)));
  impl->num_threads = options.num_threads;
  std::size_t dim = 0;
  switch (impl->kind) {
    case RerankerKind::colbert: {
      auto o = encoder_options<ColbertEncoderOptions>(options, impl->placement);
      o.query_length = options.query_length;
      o.document_length = options.max_length;
      impl->colbert.emplace(ColbertEncoder::from_pretrained(path_or_id, o));
      impl->max_length = impl->colbert->document_length();
      dim = impl->colbert->dimension();
      break;
    }
    case RerankerKind::cross_encoder: {
      auto o = encoder_options<CrossEncoderOptions>(options, impl->placement);
      o.max_length = options.max_length;
      impl->cross.emplace(CrossEncoder::from_pretrained(path_or_id, o));
      if (impl->cross->num_labels() != 1)
        throw_unsupported("Reranker: the cross-encoder has " +
                          std::to_string(impl->cross->num_labels()) +
                          " labels; reranking needs one relevance score per pair (use "
                          "CrossEncoder.predict for classifiers)");
      impl->max_length = impl->cross->max_length();
      break;
    }
    case RerankerKind::dense:
    case RerankerKind::dense_maxsim: {
      auto o = encoder_options<SentenceEncoderOptions>(options, impl->placement);
      o.max_seq_length = options.max_length;
      impl->sentence.emplace(SentenceEncoder::from_pretrained(path_or_id, o));
      impl->max_length = impl->sentence->max_seq_length();
      dim = impl->kind == RerankerKind::dense ? impl->sentence->dimension()
                                              : impl->sentence->hidden_size();
      break;
    }
    case RerankerKind::automatic:
      break;
  }
  const std::filesystem::path directory = pipeline::model_directory(path_or_id, options.hub);
  impl->identity = {std::string(path_or_id), std::string(reranker_kind_name(impl->kind)),
                    pipeline::model_fingerprint(directory), dim, impl->max_length};
  return Reranker(std::move(impl));
}

std::vector<std::vector<RerankHit>> Reranker::rerank_many(
    std::span<const std::string_view> queries,
    std::span<const std::vector<std::string_view>> documents, std::optional<std::size_t> k,
    RerankStats* stats) const {
  const Impl& m = *impl_;
  Stopwatch total;
  if (queries.size() != documents.size())
    throw_invalid("rerank_many: " + std::to_string(queries.size()) + " queries but " +
                  std::to_string(documents.size()) + " document lists (one list per query)");
  check_top_k(k);
  RerankStats st;
  st.queries = queries.size();
  st.device = devices_to_string(m.placement.devices);

  std::vector<std::int64_t> candidate_offsets{0};
  std::vector<std::string_view> all_docs;
  std::vector<std::string_view> pair_queries;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    all_docs.insert(all_docs.end(), documents[q].begin(), documents[q].end());
    pair_queries.insert(pair_queries.end(), documents[q].size(), queries[q]);
    candidate_offsets.push_back(static_cast<std::int64_t>(all_docs.size()));
  }
  std::vector<float> scores;
  if (!all_docs.empty()) {
    if (m.cross) {
      scores = m.predict(pair_queries, all_docs, st);
    } else if (m.colbert) {
      scores = m.score_colbert(queries, all_docs, candidate_offsets, st);
    } else {
      std::vector<std::string_view> scored_queries;
      std::vector<std::int64_t> offsets{0};
      for (std::size_t q = 0; q < queries.size(); ++q)
        if (!documents[q].empty()) scored_queries.push_back(queries[q]);
      const PackedEmbeddings qv = m.encode(scored_queries, true, st);
      const PackedEmbeddings dv = m.encode(all_docs, false, st);
      Stopwatch score_clock;
      for (std::size_t q = 0; q < queries.size(); ++q)
        if (!documents[q].empty()) offsets.push_back(candidate_offsets[q + 1]);
      std::vector<std::int64_t> ids(all_docs.size());
      std::iota(ids.begin(), ids.end(), std::int64_t{0});
      scores =
          maxsim_candidates(packed_view(qv), packed_view(dv), offsets, ids, m.scoring_options());
      st.score_ms += score_clock.ms();
    }
  }
  Stopwatch rank_clock;
  std::vector<std::vector<RerankHit>> out(queries.size());
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const auto begin = static_cast<std::size_t>(candidate_offsets[q]);
    const auto end = static_cast<std::size_t>(candidate_offsets[q + 1]);
    out[q] = ranked(std::span<const float>(scores).subspan(begin, end - begin), k);
  }
  st.score_ms += rank_clock.ms();
  finish(st, total, stats);
  return out;
}

std::vector<RerankHit> Reranker::rerank(std::string_view query,
                                        std::span<const std::string_view> documents,
                                        std::optional<std::size_t> k, RerankStats* stats) const {
  const std::vector<std::string_view> queries{query};
  const std::vector<std::vector<std::string_view>> lists{{documents.begin(), documents.end()}};
  return std::move(rerank_many(queries, lists, k, stats).front());
}

std::vector<float> Reranker::score(std::string_view query,
                                   std::span<const std::string_view> documents,
                                   RerankStats* stats) const {
  std::vector<float> scores(documents.size());
  for (const RerankHit& h : rerank(query, documents, std::nullopt, stats))
    scores[static_cast<std::size_t>(h.index)] = h.score;
  return scores;
}

PackedEmbeddings Reranker::encode_documents(std::span<const std::string_view> documents,
                                            RerankStats* stats) const {
  const Impl& m = *impl_;
  if (m.cross)
    throw_unsupported(
        "encode_documents: a cross-encoder has no document vectors (it reads the "
        "query and the document together)");
  Stopwatch total;
  RerankStats st;
  st.device = devices_to_string(m.placement.devices);
  PackedEmbeddings out = m.encode(documents, false, st);
  finish(st, total, stats);
  return out;
}

void Reranker::save_document_vectors(const std::filesystem::path& path,
                                     std::span<const std::string_view> documents,
                                     std::span<const std::string> ids, DType storage,
                                     RerankStats* stats) const {
  if (ids.size() != documents.size())
    throw_invalid("save_document_vectors: " + std::to_string(ids.size()) + " ids for " +
                  std::to_string(documents.size()) + " documents");
  if (storage != DType::f32 && storage != DType::f16 && storage != DType::bf16)
    throw_invalid("save_document_vectors: storage must be f32, f16 or bf16, found " +
                  std::string(dtype_name(storage)));
  write_document_vectors(path, encode_documents(documents, stats), ids, impl_->identity, storage);
}

std::vector<RerankHit> Reranker::rerank_precomputed(std::string_view query,
                                                    const DocumentVectors& vectors,
                                                    std::span<const std::string_view> candidate_ids,
                                                    std::optional<std::size_t> k,
                                                    RerankStats* stats) const {
  const Impl& m = *impl_;
  if (m.cross) throw_unsupported("rerank_precomputed: a cross-encoder cannot score stored vectors");
  if (const std::string why = vectors.model().mismatch(m.identity); !why.empty())
    throw_invalid(vectors.source() + ": cannot score these vectors with this model: " + why);
  check_top_k(k);
  Stopwatch total;
  RerankStats st;
  st.queries = 1;
  st.device = devices_to_string(m.placement.devices);
  const std::vector<std::int64_t> positions = vectors.positions(candidate_ids);
  std::vector<float> scores;
  if (!positions.empty()) {
    const std::vector<std::string_view> queries{query};
    const PackedEmbeddings qv = m.encode(queries, true, st);
    Stopwatch score_clock;
    const std::vector<std::int64_t> offsets{0, static_cast<std::int64_t>(positions.size())};
    scores = maxsim_candidates(packed_view(qv), vectors.packed(), offsets, positions,
                               m.scoring_options());
    st.score_ms += score_clock.ms();
  }
  Stopwatch rank_clock;
  std::vector<RerankHit> hits = ranked(scores, k);
  st.score_ms += rank_clock.ms();
  finish(st, total, stats);
  return hits;
}

RerankerKind Reranker::kind() const noexcept { return impl_->kind; }
const ModelIdentity& Reranker::identity() const noexcept { return impl_->identity; }
std::string Reranker::device() const { return devices_to_string(impl_->placement.devices); }
std::string Reranker::dtype() const { return std::string(dtype_name(impl_->placement.dtype)); }
std::size_t Reranker::max_length() const noexcept { return impl_->max_length; }

Reranker::Reranker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reranker::Reranker(Reranker&&) noexcept = default;
Reranker& Reranker::operator=(Reranker&&) noexcept = default;
Reranker::~Reranker() = default;

}  // namespace rank_rerank
