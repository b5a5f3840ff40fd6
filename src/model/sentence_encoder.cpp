// SentenceEncoder: tokenizer -> batches by token budget -> transformer encoder -> pooling ->
// optional L2 normalisation, scattered back into input order.
#include "rank_rerank/sentence_encoder.hpp"

#include <algorithm>
#include <functional>

#include "backend/backend.hpp"
#include "model/batching.hpp"
#include "model/pretrained.hpp"
#include "model/replicas.hpp"
#include "model/sentence_modules.hpp"
#include "model/tokenize_ahead.hpp"
#include "model/transformer.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/json_config.hpp"
#include "rank_rerank/tokenizer.hpp"

namespace rank_rerank {

struct SentenceEncoder::Impl {
  model::DeviceBackends backends;
  std::vector<model::TransformerEncoder> encoders;  // encoders[i] on backends.backends[i]
  Tokenizer tokenizer;
  model::PoolingConfig pooling;
  bool normalize = false;
  std::size_t max_seq_length = 0;
  std::size_t batch_size = 32;
  std::size_t max_batch_tokens = 32768;
  std::unique_ptr<model::TokenizerThread> tokenizer_thread;  // none on the CPU

  // Token ids of texts, truncated to max_seq_length.
  std::vector<Encoding> tokenize(const std::vector<std::string_view>& texts) const {
    EncodeOptions options;
    options.truncation = std::optional<TruncationOptions>(TruncationOptions{max_seq_length});
    options.padding = std::optional<PaddingOptions>();
    options.num_threads =
        model::tokenizer_threads(backends.backends[0]->num_threads(), tokenizer_thread.get());
    return tokenizer.encode_batch(texts, {}, options);
  }

  // Tokenizes `texts` chunk by chunk, the next chunk while this one is encoded
  // (model/tokenize_ahead.hpp): encode(chunk, encodings of its texts).
  void for_each_chunk(const std::vector<std::string_view>& texts, EncodeStats* stats,
                      const std::function<void(const model::TextChunk&,
                                               const std::vector<Encoding>&)>& encode) const {
    const std::vector<model::TextChunk> chunks =
        model::plan_chunks(model::byte_sizes(texts), max_seq_length, batch_size,
                           max_batch_tokens * backends.backends.size());
    model::tokenize_ahead(
        tokenizer_thread.get(), std::span<const model::TextChunk>(chunks),
        [&](const model::TextChunk& chunk) { return tokenize(chunk.of(texts)); }, encode, stats);
  }

  // Every planned pass of `encodings`, spread over the devices: run(replica, items).
  void for_each_pass(
      const std::vector<Encoding>& encodings, const char* what, EncodeStats* stats,
      const std::function<void(std::size_t, std::span<const std::size_t>)>& run) const {
    const std::vector<std::size_t> lengths = model::lengths_of(encodings);
    model::for_each_batch_on_devices(model::plan_batches(lengths, batch_size, max_batch_tokens),
                                     lengths, backends, what, stats, run);
  }
};

SentenceEncoder SentenceEncoder::from_pretrained(std::string_view path_or_id,
                                                 const SentenceEncoderOptions& options) {
  const HubOptions& hub = options.hub;
  if (options.batch_size == 0) throw_invalid("SentenceEncoder: batch_size must be at least 1");
  if (options.max_batch_tokens == 0)
    throw_invalid("SentenceEncoder: max_batch_tokens must be at least 1");
  model::DeviceBackends backends = model::make_model_backends(
      options.device, options.devices, options.dtype, options.num_threads, "SentenceEncoder");
  model::PretrainedTransformer bert =
      model::load_transformer(path_or_id, hub, backends.backends[0]);
  const model::TransformerConfig& config = bert.config;

  // Without modules.json sentence-transformers builds Transformer + mean pooling; so do we.
  model::PoolingConfig pooling{config.hidden_size, {backend::Pooling::mean}};
  bool normalize = false;
  if (const auto modules_path = hf_resolve_optional(path_or_id, "modules.json", hub)) {
    const model::SentencePipeline plan = model::plan_sentence_pipeline(
        model::parse_modules_json(model::read_text_file(*modules_path), modules_path->string()),
        modules_path->string());
    const std::string pooling_file =
        plan.pooling_path->empty() ? "config.json" : *plan.pooling_path + "/config.json";
    pooling =
        model::parse_pooling_config(JsonConfig::load(hf_resolve(path_or_id, pooling_file, hub)));
    normalize = plan.normalize;
    if (pooling.word_embedding_dimension != config.hidden_size)
      throw_invalid(pooling_file + ": word_embedding_dimension " +
                    std::to_string(pooling.word_embedding_dimension) +
                    " differs from the transformer's hidden_size " +
                    std::to_string(config.hidden_size));
  }

  std::size_t max_length = config.max_sequence_length();
  if (const auto st_path = hf_resolve_optional(path_or_id, "sentence_bert_config.json", hub)) {
    const JsonConfig st = JsonConfig::load(*st_path);
    if (st.get_or<bool>("do_lower_case", false))
      throw_unsupported(st.where() +
                        ": do_lower_case true is not supported (the text would need Python's "
                        "str.lower before tokenization)");
    if (const auto n = st.find<std::int64_t>("max_seq_length")) {
      if (*n <= 0)
        throw_invalid(st.where() + ": max_seq_length must be positive, found " +
                      std::to_string(*n));
      max_length = static_cast<std::size_t>(*n);
    }
  }
  if (options.max_seq_length) {
    if (*options.max_seq_length == 0)
      throw_invalid("SentenceEncoder: max_seq_length must be at least 1");
    max_length = *options.max_seq_length;
  }
  if (max_length > config.max_sequence_length())
    throw_invalid("SentenceEncoder: max_seq_length " + std::to_string(max_length) +
                  " exceeds the " + std::to_string(config.max_sequence_length()) +
                  " positions the model has (max_position_embeddings " +
                  std::to_string(config.max_position_embeddings) + ")");

  Tokenizer tokenizer = model::load_tokenizer(path_or_id, hub);
  // The other devices get their copy of the parameters from the checkpoint already mapped.
  std::vector<model::TransformerEncoder> encoders;
  encoders.push_back(std::move(bert.encoder));
  for (std::size_t r = 1; r < backends.backends.size(); ++r)
    encoders.push_back(model::TransformerEncoder::load(config, bert.weights, backends.backends[r]));
  std::unique_ptr<model::TokenizerThread> thread = model::tokenizer_thread_for(backends.devices[0]);
  return SentenceEncoder(std::make_unique<Impl>(Impl{
      std::move(backends), std::move(encoders), std::move(tokenizer), std::move(pooling), normalize,
      max_length, options.batch_size, options.max_batch_tokens, std::move(thread)}));
}

Embeddings SentenceEncoder::encode(const std::vector<std::string_view>& texts,
                                   EncodeStats* stats) const {
  const Impl& m = *impl_;
  const std::size_t word_dim = m.pooling.word_embedding_dimension;
  Embeddings out;
  out.rows = texts.size();
  out.dim = dimension();
  out.values.resize(out.rows * out.dim);
  m.for_each_chunk(
      texts, stats, [&](const model::TextChunk& chunk, const std::vector<Encoding>& encodings) {
        m.for_each_pass(encodings, "SentenceEncoder.encode", stats,
                        [&](std::size_t replica, std::span<const std::size_t> items) {
                          backend::Backend& be = *m.backends.backends[replica];
                          const model::PackedIds batch = model::PackedIds::gather(encodings, items);
                          const backend::Buffer tokens = m.encoders[replica].forward(batch.view());
                          backend::Buffer pooled = be.allocate(items.size() * out.dim);
                          for (std::size_t k = 0; k < m.pooling.modes.size(); ++k)
                            be.pool(tokens.data(), word_dim, batch.offsets, m.pooling.modes[k],
                                    pooled.data() + k * word_dim, out.dim);
                          if (m.normalize)
                            be.l2_normalize_rows(pooled.data(), items.size(), out.dim);
                          std::vector<float> host(pooled.size());
                          be.download(pooled.data(), pooled.size(), host.data());
                          for (std::size_t k = 0; k < items.size(); ++k)
                            std::copy_n(host.data() + k * out.dim, out.dim,
                                        out.values.data() + (chunk.begin + items[k]) * out.dim);
                        });
      });
  return out;
}

PackedEmbeddings SentenceEncoder::encode_tokens(const std::vector<std::string_view>& texts,
                                                EncodeStats* stats) const {
  const Impl& m = *impl_;
  PackedEmbeddings out;
  out.dim = hidden_size();
  out.offsets.reserve(texts.size() + 1);
  out.offsets.push_back(0);
  // The output grows chunk by chunk: room for the estimated rows up front (no copy per growth).
  out.values.reserve(model::estimated_tokens(texts, m.max_seq_length) * out.dim);
  m.for_each_chunk(
      texts, stats, [&](const model::TextChunk& chunk, const std::vector<Encoding>& encodings) {
        // The chunk's texts take the next rows of the output, in input order.
        for (const Encoding& e : encodings)
          out.offsets.push_back(out.offsets.back() + static_cast<std::int64_t>(e.ids.size()));
        out.values.resize(static_cast<std::size_t>(out.offsets.back()) * out.dim);
        m.for_each_pass(
            encodings, "SentenceEncoder.encode_tokens", stats,
            [&](std::size_t replica, std::span<const std::size_t> items) {
              const model::PackedIds batch = model::PackedIds::gather(encodings, items);
              const backend::Buffer tokens = m.encoders[replica].forward(batch.view());
              std::vector<float> host(tokens.size());
              m.backends.backends[replica]->download(tokens.data(), tokens.size(), host.data());
              const auto dim = static_cast<std::ptrdiff_t>(out.dim);
              for (std::size_t k = 0; k < items.size(); ++k)
                std::copy(host.begin() + batch.offsets[k] * dim,
                          host.begin() + batch.offsets[k + 1] * dim,
                          out.values.begin() + out.offsets[chunk.begin + items[k]] * dim);
            });
      });
  return out;
}

std::size_t SentenceEncoder::dimension() const noexcept {
  return impl_->pooling.word_embedding_dimension * impl_->pooling.modes.size();
}
std::size_t SentenceEncoder::hidden_size() const noexcept {
  return impl_->encoders[0].config().hidden_size;
}
std::size_t SentenceEncoder::max_seq_length() const noexcept { return impl_->max_seq_length; }
bool SentenceEncoder::normalizes() const noexcept { return impl_->normalize; }
std::vector<Device> SentenceEncoder::devices() const { return impl_->backends.devices; }
std::vector<DeviceMemory> SentenceEncoder::device_memory() const {
  return impl_->backends.memory_usage();
}
std::vector<std::string> SentenceEncoder::pooling_modes() const {
  std::vector<std::string> names;
  for (backend::Pooling mode : impl_->pooling.modes) names.emplace_back(model::pooling_name(mode));
  return names;
}

SentenceEncoder::SentenceEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SentenceEncoder::SentenceEncoder(SentenceEncoder&&) noexcept = default;
SentenceEncoder& SentenceEncoder::operator=(SentenceEncoder&&) noexcept = default;
SentenceEncoder::~SentenceEncoder() = default;

}  // namespace rank_rerank
