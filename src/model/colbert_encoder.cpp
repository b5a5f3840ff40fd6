// ColbertEncoder: tokenizer -> marker insertion / query expansion -> batches by token budget ->
// transformer encoder -> Dense chain -> L2 normalisation -> (documents) skiplist filtering, and for
// score_candidates MaxSim in the backend's memory, so that only the scores leave the device.
#include "rank_rerank/colbert_encoder.hpp"

#include <algorithm>
#include <functional>
#include <numeric>
#include <span>
#include <unordered_set>

#include "core/stopwatch.hpp"
#include "model/batching.hpp"
#include "model/colbert_settings.hpp"
#include "model/dense.hpp"
#include "model/pretrained.hpp"
#include "model/replicas.hpp"
#include "model/tokenize_ahead.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank {

struct ColbertEncoder::Impl {
  // The parameters on one device (backends.backends[i] for replicas[i]).
  struct Replica {
    model::TransformerEncoder encoder;
    std::vector<model::DenseLayer> projection;
  };
  model::DeviceBackends backends;
  std::vector<Replica> replicas;
  Tokenizer tokenizer;
  model::ColbertSettings settings;
  std::optional<std::int32_t> query_marker, document_marker;
  std::int32_t mask_id = 0;
  std::unordered_set<std::int32_t> skiplist;
  std::size_t batch_size = 32;
  std::size_t max_batch_tokens = 32768;
  std::unique_ptr<model::TokenizerThread> tokenizer_thread;  // none on the CPU

  // Token ids of every text with PyLate's query / document preparation, and per text how many
  // leading tokens attention may look at.
  struct Prepared {
    std::vector<Encoding> encodings;
    std::vector<std::int64_t> key_lengths;
  };
  Prepared prepare(const std::vector<std::string_view>& texts, bool is_query) const {
    const std::optional<std::int32_t>& marker = is_query ? query_marker : document_marker;
    const std::size_t length = is_query ? settings.query_length : settings.document_length;
    const std::size_t budget = marker ? length - 1 : length;
    EncodeOptions options;
    options.truncation = std::optional<TruncationOptions>(TruncationOptions{budget});
    options.padding = std::optional<PaddingOptions>();
    options.num_threads =
        model::tokenizer_threads(backends.backends[0]->num_threads(), tokenizer_thread.get());
    const bool expand = is_query && settings.do_query_expansion;
    Prepared prepared{tokenizer.encode_batch(texts, {}, options), {}};
    for (Encoding& e : prepared.encodings) {
      std::size_t attended = e.ids.size();
      if (expand && e.ids.size() < budget) {
        e.ids.resize(budget, mask_id);
        e.type_ids.resize(budget, 0);
      }
      if (marker && !e.ids.empty()) {
        e.ids.insert(e.ids.begin() + 1, *marker);
        e.type_ids.insert(e.type_ids.begin() + 1, 0);
        ++attended;
      }
      prepared.key_lengths.push_back(static_cast<std::int64_t>(
          expand && settings.attend_to_expansion_tokens ? e.ids.size() : attended));
    }
    return prepared;
  }

  bool kept(std::int32_t id, bool is_query) const { return is_query || !skiplist.contains(id); }

  std::size_t dim() const noexcept { return replicas[0].projection.back().out_features(); }

  // Per text, where its kept vectors start in the packed output (n + 1 entries): which vectors
  // survive is known from the ids, so the output layout is fixed before encoding.
  std::vector<std::int64_t> kept_offsets(const Prepared& prepared, bool is_query) const {
    std::vector<std::int64_t> offsets{0};
    for (const Encoding& e : prepared.encodings)
      offsets.push_back(offsets.back() +
                        std::count_if(e.ids.begin(), e.ids.end(),
                                      [&](std::int32_t id) { return kept(id, is_query); }));
    return offsets;
  }

  // Calls keep(t, row) for every kept token t of a pass over `items`: row is where its vector
  // goes in the packed output laid out by `offsets`.
  template <typename Keep>
  void for_each_kept(const model::PackedIds& batch, std::span<const std::size_t> items,
                     std::span<const std::int64_t> offsets, bool is_query, Keep&& keep) const {
    for (std::size_t k = 0; k < items.size(); ++k) {
      std::int64_t row = offsets[items[k]];
      for (auto t = static_cast<std::size_t>(batch.offsets[k]);
           t < static_cast<std::size_t>(batch.offsets[k + 1]); ++t)
        if (kept(batch.ids[t], is_query)) keep(t, row++);
    }
  }

  // Runs the passes over `prepared` and hands each one's vectors (every token, projected and
  // L2-normalised, in the memory of backend `replica`) to take(replica, items, batch, vectors).
  using TakePass = std::function<void(std::size_t, std::span<const std::size_t>,
                                      const model::PackedIds&, const backend::Buffer&)>;
  void run_passes(const Prepared& prepared, EncodeStats* stats, const TakePass& take) const {
    const std::vector<std::size_t> lengths = model::lengths_of(prepared.encodings);
    const auto batches = model::plan_batches(lengths, batch_size, max_batch_tokens);
    const auto pass = [&](std::size_t replica, std::span<const std::size_t> items) {
      const Replica& parameters = replicas[replica];
      backend::Backend& be = *backends.backends[replica];
      model::PackedIds batch = model::PackedIds::gather(prepared.encodings, items);
      for (std::size_t i : items) batch.key_lengths.push_back(prepared.key_lengths[i]);
      const std::size_t rows = batch.ids.size();
      backend::Buffer x = parameters.encoder.forward(batch.view());
      for (const model::DenseLayer& dense : parameters.projection)
        x = dense.forward(be, x.data(), rows);
      be.l2_normalize_rows(x.data(), rows, dim());
      take(replica, items, batch, x);
    };
    model::for_each_batch_on_devices(batches, lengths, backends, "ColbertEncoder.encode", stats,
                                     pass);
  }

  // The chunks one call's texts are tokenized and encoded in (model/tokenize_ahead.hpp).
  std::vector<model::TextChunk> chunks_of(std::span<const std::string_view> texts,
                                          bool is_query) const {
    return model::plan_chunks(model::byte_sizes(texts), length_of(is_query), batch_size,
                              max_batch_tokens * backends.backends.size());
  }

  std::size_t length_of(bool is_query) const {
    return is_query ? settings.query_length : settings.document_length;
  }

  PackedEmbeddings encode(const std::vector<std::string_view>& texts, bool is_query,
                          EncodeStats* stats) const {
    PackedEmbeddings out;
    out.dim = dim();
    out.offsets.reserve(texts.size() + 1);
    out.offsets.push_back(0);
    // The output grows chunk by chunk: room for the estimated rows up front, so that it is not
    // copied again at every growth (for a 400 MB result that doubled the host's share).
    out.values.reserve(model::estimated_tokens(texts, length_of(is_query)) * out.dim);
    const std::vector<model::TextChunk> chunks = chunks_of(texts, is_query);
    model::tokenize_ahead(
        tokenizer_thread.get(), std::span<const model::TextChunk>(chunks),
        [&](const model::TextChunk& chunk) { return prepare(chunk.of(texts), is_query); },
        [&](const model::TextChunk& chunk, const Prepared& prepared) {
          // The chunk's texts take the next rows of the output, in input order.
          const std::int64_t base = out.offsets.back();
          append_offsets(out.offsets, kept_offsets(prepared, is_query));
          out.values.resize(static_cast<std::size_t>(out.offsets.back()) * out.dim);
          if (replicas.size() == 1) {
            // The kept rows are gathered in input order on the device and come back in one copy
            // per chunk, straight into place (no download and host scatter per pass).
            const BackendRows part = encode_in_backend(prepared, is_query, stats);
            backends.backends[0]->download(part.values.data(), part.values.size(),
                                           out.values.data() + base * out.dim);
            return;
          }
          const std::span<const std::int64_t> rows =
              std::span<const std::int64_t>(out.offsets).subspan(chunk.begin);
          run_passes(
              prepared, stats,
              [&](std::size_t replica, std::span<const std::size_t> items,
                  const model::PackedIds& batch, const backend::Buffer& x) {
                std::vector<float> host(batch.ids.size() * out.dim);
                backends.backends[replica]->download(x.data(), host.size(), host.data());
                for_each_kept(batch, items, rows, is_query, [&](std::size_t t, std::int64_t row) {
                  std::copy_n(host.data() + t * out.dim, out.dim,
                              out.values.data() + row * static_cast<std::int64_t>(out.dim));
                });
              });
        },
        stats);
    return out;
  }

  // The kept vectors of some texts packed in the memory of the single backend, text i in rows
  // [offsets[i], offsets[i + 1]) of `values`; nothing is copied to the host.
  struct BackendRows {
    backend::Buffer values;
    std::vector<std::int64_t> offsets{0};
  };

  // The kept vectors of `prepared` as BackendRows. The passes are only queued.
  BackendRows encode_in_backend(const Prepared& prepared, bool is_query, EncodeStats* stats) const {
    backend::Backend& be = *backends.backends[0];
    BackendRows out;
    out.offsets = kept_offsets(prepared, is_query);
    out.values =
        allocate_rows(static_cast<std::size_t>(out.offsets.back()), prepared.encodings.size());
    run_passes(prepared, stats,
               [&](std::size_t, std::span<const std::size_t> items, const model::PackedIds& batch,
                   const backend::Buffer& x) {
                 std::vector<std::int64_t> from, to;
                 for_each_kept(batch, items, out.offsets, is_query,
                               [&](std::size_t t, std::int64_t row) {
                                 from.push_back(static_cast<std::int64_t>(t));
                                 to.push_back(row);
                               });
                 be.copy_rows(x.data(), from, out.values.data(), to, dim());
               });
    return out;
  }

  backend::Buffer allocate_rows(std::size_t rows, std::size_t texts) const {
    try {
      return backends.backends[0]->allocate(rows * dim());
    } catch (const backend::DeviceOutOfMemory& oom) {
      throw Error(ErrorKind::runtime, "ColbertEncoder: the " + std::to_string(rows) +
                                          " vectors of " + std::to_string(texts) +
                                          " texts do not fit in device memory (" + oom.what() +
                                          ")");
    }
  }

  // Appends the ends of `part` (offsets from 0) after the last end of `offsets`.
  static void append_offsets(std::vector<std::int64_t>& offsets,
                             std::span<const std::int64_t> part) {
    const std::int64_t base = offsets.back();
    for (std::size_t i = 1; i < part.size(); ++i) offsets.push_back(base + part[i]);
  }

  // One BackendRows from the parts encoded chunk by chunk, in order (the only part itself).
  BackendRows concatenate(std::vector<BackendRows> parts) const {
    if (parts.size() == 1) return std::move(parts.front());
    BackendRows out;
    for (const BackendRows& part : parts) append_offsets(out.offsets, part.offsets);
    out.values =
        allocate_rows(static_cast<std::size_t>(out.offsets.back()), out.offsets.size() - 1);
    std::int64_t base = 0;
    for (const BackendRows& part : parts) {
      std::vector<std::int64_t> from(static_cast<std::size_t>(part.offsets.back())),
          to(from.size());
      std::iota(from.begin(), from.end(), 0);
      std::iota(to.begin(), to.end(), base);
      backends.backends[0]->copy_rows(part.values.data(), from, out.values.data(), to, dim());
      base += part.offsets.back();
    }
    return out;
  }

  // ColbertEncoder::score_candidates after its argument checks, for queries that all have
  // documents (candidate_offsets[q] < candidate_offsets[q + 1]).
  std::vector<float> score(const std::vector<std::string_view>& queries,
                           const std::vector<std::string_view>& documents,
                           std::span<const std::int64_t> candidate_offsets,
                           EncodeStats* stats) const {
    backend::Backend& be = *backends.backends[0];
    if (replicas.size() > 1) {
      // Passes run on several devices: their vectors meet on the host and are scored there.
      const PackedEmbeddings q = encode(queries, true, stats);
      const PackedEmbeddings d = encode(documents, false, stats);
      check_queries_have_vectors(q.offsets);
      const Stopwatch score_clock;
      std::vector<float> scores =
          backend::host_maxsim_candidates(q.values.data(), q.offsets, d.values.data(), d.offsets,
                                          candidate_offsets, dim(), be.num_threads());
      if (stats) stats->score_ms += score_clock.ms();
      return scores;
    }
    // The queries' chunks, then the documents': the documents' first chunk is tokenized while the
    // queries are encoded.
    struct Chunk {
      model::TextChunk texts;
      bool is_query;
    };
    std::vector<Chunk> chunks;
    for (const model::TextChunk& c : chunks_of(queries, true)) chunks.push_back({c, true});
    for (const model::TextChunk& c : chunks_of(documents, false)) chunks.push_back({c, false});
    std::vector<BackendRows> query_parts, document_parts;
    model::tokenize_ahead(
        tokenizer_thread.get(), std::span<const Chunk>(chunks),
        [&](const Chunk& chunk) {
          return prepare(chunk.texts.of(chunk.is_query ? queries : documents), chunk.is_query);
        },
        [&](const Chunk& chunk, const Prepared& prepared) {
          (chunk.is_query ? query_parts : document_parts)
              .push_back(encode_in_backend(prepared, chunk.is_query, stats));
        },
        stats);
    const Stopwatch wait_clock;
    const BackendRows q = concatenate(std::move(query_parts));
    const BackendRows d = concatenate(std::move(document_parts));
    // The passes were only queued: the encoding time covers them running.
    be.synchronize();
    if (stats) stats->encode_ms += wait_clock.ms();
    check_queries_have_vectors(q.offsets);
    const Stopwatch score_clock;
    std::vector<float> scores = be.maxsim_candidates(q.values.data(), q.offsets, d.values.data(),
                                                     d.offsets, candidate_offsets, dim());
    if (stats) stats->score_ms += score_clock.ms();
    return scores;
  }

  // A query gets no tokens only from a tokenizer that adds no special tokens, without query
  // expansion, given an empty text.
  static void check_queries_have_vectors(std::span<const std::int64_t> offsets) {
    if (std::adjacent_find(offsets.begin(), offsets.end()) != offsets.end())
      throw_invalid(
          "ColbertEncoder.score_candidates: a query has no tokens; MaxSim needs at least one");
  }
};

namespace {

std::optional<std::int32_t> marker_id(const Tokenizer& tokenizer, const std::string& token,
                                      const char* what) {
  if (token.empty()) return std::nullopt;
  if (auto id = tokenizer.token_to_id(token)) return id;
  throw_invalid(std::string("ColbertEncoder: the ") + what + " '" + token +
                "' is not a token of the tokenizer's vocabulary");
}

}  // namespace

ColbertEncoder ColbertEncoder::from_pretrained(std::string_view path_or_id,
                                               const ColbertEncoderOptions& options) {
  const HubOptions& hub = options.hub;
  if (options.batch_size == 0) throw_invalid("ColbertEncoder: batch_size must be at least 1");
  if (options.max_batch_tokens == 0)
    throw_invalid("ColbertEncoder: max_batch_tokens must be at least 1");
  model::DeviceBackends backends = model::make_model_backends(
      options.device, options.devices, options.dtype, options.num_threads, "ColbertEncoder");
  const std::size_t n_replicas = backends.backends.size();
  model::PretrainedTransformer bert =
      model::load_transformer(path_or_id, hub, backends.backends[0]);

  model::ColbertSettings settings;
  // projections[r]: the Dense chain on backend r.
  std::vector<std::vector<model::DenseLayer>> projections(n_replicas);
  const std::vector<model::DenseLayer>& projection = projections[0];
  if (const auto modules_path = hf_resolve_optional(path_or_id, "modules.json", hub)) {
    const auto folders = model::colbert_dense_folders(
        model::parse_modules_json(model::read_text_file(*modules_path), modules_path->string()),
        modules_path->string());
    for (const std::string& folder : folders) {
      std::vector<model::DenseLayer> layers =
          model::DenseLayer::load(path_or_id, folder, hub, backends.backends);
      for (std::size_t r = 0; r < n_replicas; ++r) projections[r].push_back(std::move(layers[r]));
    }
    std::optional<JsonConfig> st_config;
    if (auto p = hf_resolve_optional(path_or_id, "config_sentence_transformers.json", hub))
      st_config = JsonConfig::load(*p);
    settings = model::pylate_settings(st_config);
  } else {
    const auto architectures =
        bert.config_json.get_or<std::vector<std::string>>("architectures", {});
    if (std::find(architectures.begin(), architectures.end(), "HF_ColBERT") ==
        architectures.end()) {
      std::string found;
      for (const std::string& a : architectures) found += (found.empty() ? "" : ", ") + a;
      throw_unsupported(std::string(path_or_id) +
                        ": not a ColBERT checkpoint: no modules.json (PyLate layout) and "
                        "config.json architectures [" +
                        found + "] do not name HF_ColBERT (Stanford layout)");
    }
    for (std::size_t r = 0; r < n_replicas; ++r)
      projections[r].push_back(model::DenseLayer::from_weight(
          bert.weights, "linear.weight", bert.config.hidden_size, *backends.backends[r]));
    std::optional<JsonConfig> metadata;
    if (auto p = hf_resolve_optional(path_or_id, "artifact.metadata", hub))
      metadata = JsonConfig::load(*p);
    settings = model::stanford_settings(metadata);
  }
  for (std::size_t i = 0; i < projection.size(); ++i) {
    const std::size_t expected =
        i == 0 ? bert.config.hidden_size : projection[i - 1].out_features();
    if (projection[i].in_features() != expected)
      throw_invalid(std::string(path_or_id) + ": Dense module " + std::to_string(i + 1) +
                    " takes " + std::to_string(projection[i].in_features()) +
                    " features, but its input has " + std::to_string(expected));
  }
  if (options.query_length) settings.query_length = *options.query_length;
  if (options.document_length) settings.document_length = *options.document_length;
  for (std::size_t length : {settings.query_length, settings.document_length})
    if (length < 2 || length > bert.config.max_sequence_length())
      throw_invalid("ColbertEncoder: query and document lengths must be in [2, " +
                    std::to_string(bert.config.max_sequence_length()) + "], found " +
                    std::to_string(length));

  // The other devices get their copy of the parameters from the checkpoint already mapped.
  std::vector<Impl::Replica> replicas;
  replicas.push_back({std::move(bert.encoder), std::move(projections[0])});
  for (std::size_t r = 1; r < n_replicas; ++r)
    replicas.push_back(
        {model::TransformerEncoder::load(bert.config, bert.weights, backends.backends[r]),
         std::move(projections[r])});
  Tokenizer tokenizer = model::load_tokenizer(path_or_id, hub);
  std::unique_ptr<model::TokenizerThread> thread = model::tokenizer_thread_for(backends.devices[0]);
  auto impl = std::make_unique<Impl>(Impl{std::move(backends),
                                          std::move(replicas),
                                          std::move(tokenizer),
                                          std::move(settings),
                                          {},
                                          {},
                                          0,
                                          {},
                                          options.batch_size,
                                          options.max_batch_tokens,
                                          std::move(thread)});
  impl->query_marker = marker_id(impl->tokenizer, impl->settings.query_prefix, "query prefix");
  impl->document_marker =
      marker_id(impl->tokenizer, impl->settings.document_prefix, "document prefix");
  std::optional<std::int32_t> mask = impl->tokenizer.token_to_id("[MASK]");
  if (!mask) mask = impl->tokenizer.token_to_id("<mask>");
  if (!mask && impl->settings.do_query_expansion)
    throw_unsupported(std::string(path_or_id) +
                      ": query expansion needs a mask token; the tokenizer has neither [MASK] "
                      "nor <mask>");
  impl->mask_id = mask.value_or(0);
  // PyLate looks each skiplist word up as a whole token; words outside the vocabulary (which
  // PyLate would map to the unknown token's id) are ignored here.
  for (const std::string& word : impl->settings.skiplist_words)
    if (auto id = impl->tokenizer.token_to_id(word)) impl->skiplist.insert(*id);
  return ColbertEncoder(std::move(impl));
}

PackedEmbeddings ColbertEncoder::encode_queries(const std::vector<std::string_view>& texts,
                                                EncodeStats* stats) const {
  return impl_->encode(texts, true, stats);
}
PackedEmbeddings ColbertEncoder::encode_documents(const std::vector<std::string_view>& texts,
                                                  EncodeStats* stats) const {
  return impl_->encode(texts, false, stats);
}
std::vector<float> ColbertEncoder::score_candidates(const std::vector<std::string_view>& queries,
                                                    const std::vector<std::string_view>& documents,
                                                    std::span<const std::int64_t> candidate_offsets,
                                                    EncodeStats* stats) const {
  if (candidate_offsets.size() != queries.size() + 1 || candidate_offsets.front() != 0 ||
      static_cast<std::size_t>(candidate_offsets.back()) != documents.size() ||
      !std::is_sorted(candidate_offsets.begin(), candidate_offsets.end()))
    throw_invalid("ColbertEncoder.score_candidates: candidate_offsets must have queries + 1 = " +
                  std::to_string(queries.size() + 1) +
                  " entries, never decreasing, from 0 to the number of documents (" +
                  std::to_string(documents.size()) + ")");
  // Queries without documents are not encoded.
  std::vector<std::string_view> scored;
  std::vector<std::int64_t> offsets{0};
  for (std::size_t q = 0; q < queries.size(); ++q)
    if (candidate_offsets[q] < candidate_offsets[q + 1]) {
      scored.push_back(queries[q]);
      offsets.push_back(candidate_offsets[q + 1]);
    }
  if (scored.empty()) return {};
  return impl_->score(scored, documents, offsets, stats);
}
std::size_t ColbertEncoder::dimension() const noexcept { return impl_->dim(); }
std::vector<Device> ColbertEncoder::devices() const { return impl_->backends.devices; }
std::vector<DeviceMemory> ColbertEncoder::device_memory() const {
  return impl_->backends.memory_usage();
}
std::size_t ColbertEncoder::query_length() const noexcept { return impl_->settings.query_length; }
std::size_t ColbertEncoder::document_length() const noexcept {
  return impl_->settings.document_length;
}

ColbertEncoder::ColbertEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ColbertEncoder::ColbertEncoder(ColbertEncoder&&) noexcept = default;
ColbertEncoder& ColbertEncoder::operator=(ColbertEncoder&&) noexcept = default;
ColbertEncoder::~ColbertEncoder() = default;

}  // namespace rank_rerank
