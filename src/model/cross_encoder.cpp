// CrossEncoder: pair tokenization -> packed BERT -> first token -> pooler (dense + tanh) ->
// classifier (+ the resolved activation).
#include "rank_rerank/cross_encoder.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "model/batching.hpp"
#include "model/dense.hpp"
#include "model/pretrained.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank {

struct CrossEncoder::Impl {
  std::shared_ptr<backend::Backend> backend;
  model::BertEncoder encoder;
  Tokenizer tokenizer;
  backend::ConstBuffer pooler_weight, pooler_bias, classifier_weight, classifier_bias;
  std::size_t labels = 1;
  backend::Activation activation = backend::Activation::identity;
  std::size_t max_length = 512;
  std::size_t batch_size = 32;
};

namespace {

// sentence-transformers' activation resolution (CrossEncoder.get_default_activation_fn).
backend::Activation resolve_activation(const JsonConfig& config, std::size_t labels) {
  std::optional<std::string> name;
  if (config.contains("sentence_transformers"))
    name = config.object("sentence_transformers").find<std::string>("activation_fn");
  if (!name) name = config.find<std::string>("sbert_ce_default_activation_function");
  if (name) {
    if (name->rfind("torch.", 0) != 0)
      throw_unsupported(config.where() + ": activation_fn '" + *name +
                        "' is not a torch class (supported: torch.nn Identity, Sigmoid, Tanh, "
                        "ReLU, GELU)");
    return model::activation_from_torch_class(*name, config.where() + ": activation_fn");
  }
  return labels == 1 ? backend::Activation::sigmoid : backend::Activation::identity;
}

}  // namespace

CrossEncoder CrossEncoder::from_pretrained(std::string_view path_or_id,
                                           const CrossEncoderOptions& options) {
  const HubOptions& hub = options.hub;
  if (options.batch_size == 0) throw_invalid("CrossEncoder: batch_size must be at least 1");
  std::shared_ptr<backend::Backend> be =
      model::make_model_backend(options.device, options.dtype, options.num_threads);
  model::PretrainedBert bert = model::load_bert(path_or_id, hub, be);
  const auto h = static_cast<std::int64_t>(bert.config.hidden_size);
  const std::string prefix = bert.encoder.prefix();  // a copy: the encoder is moved below
  const Weights& w = bert.weights;
  if (!w.contains("classifier.weight"))
    throw_unsupported(w.source() +
                      ": not a sequence classification checkpoint: expected classifier.weight "
                      "and " +
                      prefix + "pooler.dense.weight (BertForSequenceClassification)");
  const WeightTensor& classifier = w.get("classifier.weight");
  if (classifier.shape.size() != 2 || classifier.shape[1] != h || classifier.shape[0] < 1)
    throw_invalid(w.source() + ": classifier.weight must have shape [num_labels, " +
                  std::to_string(h) + "]");
  const std::int64_t labels = classifier.shape[0];

  auto impl = std::make_unique<Impl>(
      Impl{be,
           std::move(bert.encoder),
           model::load_tokenizer(path_or_id, hub),
           {},
           {},
           {},
           {},
           static_cast<std::size_t>(labels),
           resolve_activation(bert.config_json, static_cast<std::size_t>(labels)),
           bert.config.max_position_embeddings,
           options.batch_size});
  impl->pooler_weight = be->upload(w.get(prefix + "pooler.dense.weight", std::array{h, h}), w);
  impl->pooler_bias = be->upload(w.get(prefix + "pooler.dense.bias", std::array{h}), w);
  impl->classifier_weight = be->upload(classifier, w);
  impl->classifier_bias = be->upload(w.get("classifier.bias", std::array{labels}), w);

  // As sentence-transformers: the tokenizer's model_max_length, capped by the position table.
  if (auto tc = hf_resolve_optional(path_or_id, "tokenizer_config.json", hub)) {
    const auto n = JsonConfig::load(*tc).find<double>("model_max_length");
    if (n && *n >= 1 && *n < static_cast<double>(impl->max_length))
      impl->max_length = static_cast<std::size_t>(*n);
  }
  if (options.max_length) {
    if (*options.max_length < 2 || *options.max_length > bert.config.max_position_embeddings)
      throw_invalid("CrossEncoder: max_length must be in [2, " +
                    std::to_string(bert.config.max_position_embeddings) + "], found " +
                    std::to_string(*options.max_length));
    impl->max_length = *options.max_length;
  }
  return CrossEncoder(std::move(impl));
}

std::vector<float> CrossEncoder::predict(
    const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
    bool apply_softmax) const {
  const Impl& m = *impl_;
  backend::Backend& be = *m.backend;
  const std::size_t h = m.encoder.config().hidden_size;
  std::vector<float> scores(pairs.size() * m.labels);
  EncodeOptions options;
  options.truncation = std::optional<TruncationOptions>(TruncationOptions{m.max_length});
  options.padding = std::optional<PaddingOptions>();
  options.num_threads = be.num_threads();
  model::for_each_batch(
      pairs.size(), m.batch_size, "CrossEncoder.predict", [&](std::size_t begin, std::size_t end) {
        std::vector<std::string_view> queries, documents;
        for (std::size_t i = begin; i < end; ++i) {
          queries.push_back(pairs[i].first);
          documents.push_back(pairs[i].second);
        }
        model::PackedIds batch;
        for (const Encoding& e : m.tokenizer.encode_batch(queries, documents, options))
          batch.append(e);
        const backend::Buffer tokens = m.encoder.forward(batch.view());
        const std::size_t n = end - begin;
        backend::Buffer first = be.allocate(n * h);
        be.pool(tokens.data(), h, batch.offsets, backend::Pooling::cls, first.data(), h);
        backend::Buffer pooled = be.allocate(n * h);
        be.linear(first.data(), n, h, m.pooler_weight.data(), m.pooler_bias.data(), h,
                  backend::Activation::tanh, pooled.data());
        backend::Buffer logits = be.allocate(n * m.labels);
        be.linear(pooled.data(), n, h, m.classifier_weight.data(), m.classifier_bias.data(),
                  m.labels, m.activation, logits.data());
        float* out = scores.data() + begin * m.labels;
        be.download(logits.data(), logits.size(), out);
        if (apply_softmax)  // after the activation, as sentence-transformers (even for one label)
          for (std::size_t r = 0; r < n; ++r) {
            float* row = out + r * m.labels;
            const float top = *std::max_element(row, row + m.labels);
            float sum = 0;
            for (std::size_t c = 0; c < m.labels; ++c) sum += row[c] = std::exp(row[c] - top);
            for (std::size_t c = 0; c < m.labels; ++c) row[c] /= sum;
          }
      });
  return scores;
}

std::size_t CrossEncoder::num_labels() const noexcept { return impl_->labels; }
std::size_t CrossEncoder::max_length() const noexcept { return impl_->max_length; }
std::string CrossEncoder::activation() const {
  return std::string(backend::activation_name(impl_->activation));
}

CrossEncoder::CrossEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CrossEncoder::CrossEncoder(CrossEncoder&&) noexcept = default;
CrossEncoder& CrossEncoder::operator=(CrossEncoder&&) noexcept = default;
CrossEncoder::~CrossEncoder() = default;

}  // namespace rank_rerank
