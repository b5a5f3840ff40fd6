// SentenceEncoder: tokenizer -> packed batch -> BERT encoder -> pooling -> optional L2
// normalisation, batch by batch.
#include "rank_rerank/sentence_encoder.hpp"

#include <algorithm>

#include "backend/backend.hpp"
#include "model/batching.hpp"
#include "model/bert.hpp"
#include "model/pretrained.hpp"
#include "model/sentence_modules.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/json_config.hpp"
#include "rank_rerank/tokenizer.hpp"

namespace rank_rerank {

struct SentenceEncoder::Impl {
  std::shared_ptr<backend::Backend> backend;
  model::BertEncoder encoder;
  Tokenizer tokenizer;
  model::PoolingConfig pooling;
  bool normalize = false;
  std::size_t max_seq_length = 0;
  std::size_t batch_size = 32;

  // Token ids of texts[begin, end), packed, truncated to max_seq_length.
  model::PackedIds tokenize(const std::vector<std::string_view>& texts, std::size_t begin,
                            std::size_t end) const {
    EncodeOptions options;
    options.truncation = std::optional<TruncationOptions>(TruncationOptions{max_seq_length});
    options.padding = std::optional<PaddingOptions>();
    options.num_threads = backend->num_threads();
    const std::vector<std::string_view> slice(texts.begin() + static_cast<std::ptrdiff_t>(begin),
                                              texts.begin() + static_cast<std::ptrdiff_t>(end));
    model::PackedIds batch;
    for (const Encoding& e : tokenizer.encode_batch(slice, {}, options)) batch.append(e);
    return batch;
  }
};

SentenceEncoder SentenceEncoder::from_pretrained(std::string_view path_or_id,
                                                 const SentenceEncoderOptions& options) {
  const HubOptions& hub = options.hub;
  if (options.batch_size == 0) throw_invalid("SentenceEncoder: batch_size must be at least 1");
  std::shared_ptr<backend::Backend> be =
      model::make_model_backend(options.device, options.dtype, options.num_threads);
  model::PretrainedBert bert = model::load_bert(path_or_id, hub, be);
  const model::BertConfig& config = bert.config;

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

  std::size_t max_length = config.max_position_embeddings;
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
  if (max_length > config.max_position_embeddings)
    throw_invalid("SentenceEncoder: max_seq_length " + std::to_string(max_length) +
                  " exceeds the model's max_position_embeddings " +
                  std::to_string(config.max_position_embeddings));

  Tokenizer tokenizer = model::load_tokenizer(path_or_id, hub);
  return SentenceEncoder(
      std::make_unique<Impl>(Impl{std::move(be), std::move(bert.encoder), std::move(tokenizer),
                                  std::move(pooling), normalize, max_length, options.batch_size}));
}

Embeddings SentenceEncoder::encode(const std::vector<std::string_view>& texts) const {
  const Impl& m = *impl_;
  backend::Backend& be = *m.backend;
  const std::size_t word_dim = m.pooling.word_embedding_dimension;
  Embeddings out;
  out.rows = texts.size();
  out.dim = dimension();
  out.values.resize(out.rows * out.dim);
  model::for_each_batch(texts.size(), m.batch_size, "SentenceEncoder.encode",
                        [&](std::size_t begin, std::size_t end) {
                          const model::PackedIds batch = m.tokenize(texts, begin, end);
                          const backend::Buffer tokens = m.encoder.forward(batch.view());
                          backend::Buffer pooled = be.allocate((end - begin) * out.dim);
                          for (std::size_t k = 0; k < m.pooling.modes.size(); ++k)
                            be.pool(tokens.data(), word_dim, batch.offsets, m.pooling.modes[k],
                                    pooled.data() + k * word_dim, out.dim);
                          if (m.normalize)
                            be.l2_normalize_rows(pooled.data(), end - begin, out.dim);
                          be.download(pooled.data(), pooled.size(),
                                      out.values.data() + begin * out.dim);
                        });
  return out;
}

PackedEmbeddings SentenceEncoder::encode_tokens(const std::vector<std::string_view>& texts) const {
  const Impl& m = *impl_;
  PackedEmbeddings out;
  out.dim = hidden_size();
  out.offsets.push_back(0);
  model::for_each_batch(texts.size(), m.batch_size, "SentenceEncoder.encode_tokens",
                        [&](std::size_t begin, std::size_t end) {
                          const model::PackedIds batch = m.tokenize(texts, begin, end);
                          const backend::Buffer tokens = m.encoder.forward(batch.view());
                          std::vector<float> host(tokens.size());
                          m.backend->download(tokens.data(), tokens.size(), host.data());
                          out.values.insert(out.values.end(), host.begin(), host.end());
                          for (std::size_t i = 1; i < batch.offsets.size(); ++i)
                            out.offsets.push_back(out.offsets[begin] + batch.offsets[i]);
                        });
  return out;
}

std::size_t SentenceEncoder::dimension() const noexcept {
  return impl_->pooling.word_embedding_dimension * impl_->pooling.modes.size();
}
std::size_t SentenceEncoder::hidden_size() const noexcept {
  return impl_->encoder.config().hidden_size;
}
std::size_t SentenceEncoder::max_seq_length() const noexcept { return impl_->max_seq_length; }
bool SentenceEncoder::normalizes() const noexcept { return impl_->normalize; }
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
