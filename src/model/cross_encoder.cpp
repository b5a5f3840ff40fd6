// CrossEncoder: pair tokenization -> batches by token budget -> transformer encoder -> first
// token -> the architecture's classification head: dense + activation, then the output
// projection (+ the resolved activation).
#include "rank_rerank/cross_encoder.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "model/batching.hpp"
#include "model/dense.hpp"
#include "model/pretrained.hpp"
#include "model/replicas.hpp"
#include "model/tokenize_ahead.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank {

struct CrossEncoder::Impl {
  // The parameters on one device (backends.backends[i] for replicas[i]).
  struct Replica {
    model::TransformerEncoder encoder;
    backend::ConstBuffer dense_weight, dense_bias, classifier_weight, classifier_bias;
  };
  model::DeviceBackends backends;
  std::vector<Replica> replicas;
  Tokenizer tokenizer;
  backend::Activation dense_activation = backend::Activation::tanh;
  std::size_t labels = 1;
  backend::Activation activation = backend::Activation::identity;
  std::size_t max_length = 512;
  std::size_t batch_size = 32;
  std::size_t max_batch_tokens = 32768;
  std::unique_ptr<model::TokenizerThread> tokenizer_thread;  // none on the CPU
};

namespace {

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

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

// The *ForSequenceClassification head over the first token, as transformers defines it per
// architecture: tensor names (without .weight / .bias) and the activation between its layers.
struct ClassificationHead {
  std::string dense, output;
  backend::Activation activation;
  const char* model_class;
};

ClassificationHead classification_head(model::Architecture architecture,
                                       const std::string& prefix) {
  using model::Architecture;
  switch (architecture) {
    case Architecture::bert:
      return {prefix + "pooler.dense", "classifier", backend::Activation::tanh,
              "BertForSequenceClassification"};
    case Architecture::roberta:
    case Architecture::xlm_roberta:
      return {"classifier.dense", "classifier.out_proj", backend::Activation::tanh,
              "RobertaForSequenceClassification"};
    case Architecture::electra:
      return {"classifier.dense", "classifier.out_proj", backend::Activation::gelu_erf,
              "ElectraForSequenceClassification"};
    case Architecture::distilbert:
      return {"pre_classifier", "classifier", backend::Activation::relu,
              "DistilBertForSequenceClassification"};
  }
  throw_unsupported("CrossEncoder: no classification head for this architecture");
}

}  // namespace

CrossEncoder CrossEncoder::from_pretrained(std::string_view path_or_id,
                                           const CrossEncoderOptions& options) {
  const HubOptions& hub = options.hub;
  if (options.batch_size == 0) throw_invalid("CrossEncoder: batch_size must be at least 1");
  if (options.max_batch_tokens == 0)
    throw_invalid("CrossEncoder: max_batch_tokens must be at least 1");
  model::DeviceBackends backends = model::make_model_backends(
      options.device, options.devices, options.dtype, options.num_threads, "CrossEncoder");
  model::PretrainedTransformer bert =
      model::load_transformer(path_or_id, hub, backends.backends[0]);
  const auto h = static_cast<std::int64_t>(bert.config.hidden_size);
  const std::string prefix = bert.encoder.prefix();  // a copy: the encoder is moved below
  const Weights& w = bert.weights;
  const ClassificationHead head = classification_head(bert.config.architecture, prefix);
  const std::string output_name = head.output + ".weight";
  if (!w.contains(output_name))
    throw_unsupported(w.source() + ": not a sequence classification checkpoint: expected " +
                      output_name + " and " + head.dense + ".weight (" + head.model_class + ")");
  const WeightTensor& classifier = w.get(output_name);
  if (classifier.shape.size() != 2 || classifier.shape[1] != h || classifier.shape[0] < 1)
    throw_invalid(w.source() + ": " + output_name + " must have shape [num_labels, " +
                  std::to_string(h) + "], found " + shape_string(classifier.shape));
  const std::int64_t labels = classifier.shape[0];

  // The head on every device; the other devices get their copy of the encoder from the
  // checkpoint already mapped.
  std::vector<Impl::Replica> replicas;
  for (std::size_t r = 0; r < backends.backends.size(); ++r) {
    backend::Backend& be = *backends.backends[r];
    replicas.push_back({r == 0
                            ? std::move(bert.encoder)
                            : model::TransformerEncoder::load(bert.config, w, backends.backends[r]),
                        be.upload_linear_weight(w.get(head.dense + ".weight", std::array{h, h}), w),
                        be.upload(w.get(head.dense + ".bias", std::array{h}), w),
                        be.upload_linear_weight(classifier, w),
                        be.upload(w.get(head.output + ".bias", std::array{labels}), w)});
  }
  std::unique_ptr<model::TokenizerThread> thread = model::tokenizer_thread_for(backends.devices[0]);
  auto impl = std::make_unique<Impl>(
      Impl{std::move(backends), std::move(replicas), model::load_tokenizer(path_or_id, hub),
           head.activation, static_cast<std::size_t>(labels),
           resolve_activation(bert.config_json, static_cast<std::size_t>(labels)),
           bert.config.max_sequence_length(), options.batch_size, options.max_batch_tokens,
           std::move(thread)});

  // As sentence-transformers: the tokenizer's model_max_length, capped by the position table.
  if (auto tc = hf_resolve_optional(path_or_id, "tokenizer_config.json", hub)) {
    const auto n = JsonConfig::load(*tc).find<double>("model_max_length");
    if (n && *n >= 1 && *n < static_cast<double>(impl->max_length))
      impl->max_length = static_cast<std::size_t>(*n);
  }
  if (options.max_length) {
    if (*options.max_length < 2 || *options.max_length > bert.config.max_sequence_length())
      throw_invalid("CrossEncoder: max_length must be in [2, " +
                    std::to_string(bert.config.max_sequence_length()) + "], found " +
                    std::to_string(*options.max_length));
    impl->max_length = *options.max_length;
  }
  return CrossEncoder(std::move(impl));
}

std::vector<float> CrossEncoder::predict(
    const std::vector<std::pair<std::string_view, std::string_view>>& pairs, bool apply_softmax,
    EncodeStats* stats) const {
  const Impl& m = *impl_;
  const std::size_t h = m.replicas[0].encoder.config().hidden_size;
  std::vector<float> scores(pairs.size() * m.labels);
  EncodeOptions options;
  options.truncation = std::optional<TruncationOptions>(TruncationOptions{m.max_length});
  options.padding = std::optional<PaddingOptions>();
  options.num_threads =
      model::tokenizer_threads(m.backends.backends[0]->num_threads(), m.tokenizer_thread.get());
  std::vector<std::string_view> queries, documents;
  std::vector<std::size_t> bytes;
  for (const auto& [query, document] : pairs) {
    queries.push_back(query);
    documents.push_back(document);
    bytes.push_back(query.size() + document.size());
  }
  const std::vector<model::TextChunk> chunks = model::plan_chunks(
      bytes, m.max_length, m.batch_size, m.max_batch_tokens * m.backends.backends.size());
  model::tokenize_ahead(
      m.tokenizer_thread.get(), std::span<const model::TextChunk>(chunks),
      [&](const model::TextChunk& chunk) {
        return m.tokenizer.encode_batch(chunk.of(queries), chunk.of(documents), options);
      },
      [&](const model::TextChunk& chunk, const std::vector<Encoding>& encodings) {
        const std::vector<std::size_t> lengths = model::lengths_of(encodings);
        model::for_each_batch_on_devices(
            model::plan_batches(lengths, m.batch_size, m.max_batch_tokens), lengths, m.backends,
            "CrossEncoder.predict", stats,
            [&](std::size_t replica, std::span<const std::size_t> items) {
              const Impl::Replica& r = m.replicas[replica];
              backend::Backend& be = *m.backends.backends[replica];
              const model::PackedIds batch = model::PackedIds::gather(encodings, items);
              const backend::Buffer tokens = r.encoder.forward(batch.view());
              const std::size_t n = items.size();
              backend::Buffer first = be.allocate(n * h);
              be.pool(tokens.data(), h, batch.offsets, backend::Pooling::cls, first.data(), h);
              backend::Buffer dense = be.allocate(n * h);
              be.linear(first.data(), n, h, r.dense_weight.data(), r.dense_bias.data(), h,
                        m.dense_activation, dense.data());
              backend::Buffer logits = be.allocate(n * m.labels);
              be.linear(dense.data(), n, h, r.classifier_weight.data(), r.classifier_bias.data(),
                        m.labels, m.activation, logits.data());
              std::vector<float> host(logits.size());
              be.download(logits.data(), logits.size(), host.data());
              for (std::size_t k = 0; k < n; ++k)
                std::copy_n(host.data() + k * m.labels, m.labels,
                            scores.data() + (chunk.begin + items[k]) * m.labels);
            });
      },
      stats);
  if (apply_softmax)  // after the activation, as sentence-transformers (even for one label)
    for (std::size_t r = 0; r < pairs.size(); ++r) {
      float* row = scores.data() + r * m.labels;
      const float top = *std::max_element(row, row + m.labels);
      float sum = 0;
      for (std::size_t c = 0; c < m.labels; ++c) sum += row[c] = std::exp(row[c] - top);
      for (std::size_t c = 0; c < m.labels; ++c) row[c] /= sum;
    }
  return scores;
}

std::vector<CrossEncoder::Ranked> CrossEncoder::rank(std::string_view query,
                                                     const std::vector<std::string_view>& documents,
                                                     std::optional<std::size_t> top_k,
                                                     bool return_documents,
                                                     bool apply_softmax) const {
  if (impl_->labels != 1)
    throw_invalid("CrossEncoder::rank: the model has " + std::to_string(impl_->labels) +
                  " labels; rank needs a model with one (use predict for several)");
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  pairs.reserve(documents.size());
  for (std::string_view document : documents) pairs.emplace_back(query, document);
  const std::vector<float> scores = predict(pairs, apply_softmax);
  std::vector<Ranked> ranked(documents.size());
  for (std::size_t i = 0; i < documents.size(); ++i) {
    ranked[i].corpus_id = i;
    ranked[i].score = scores[i];
    if (return_documents) ranked[i].text = std::string(documents[i]);
  }
  // Stable, as Python's sorted(..., reverse=True): ties keep the documents' order.
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const Ranked& a, const Ranked& b) { return a.score > b.score; });
  if (top_k && *top_k < ranked.size()) ranked.resize(*top_k);
  return ranked;
}

std::size_t CrossEncoder::num_labels() const noexcept { return impl_->labels; }
std::size_t CrossEncoder::max_length() const noexcept { return impl_->max_length; }
std::vector<Device> CrossEncoder::devices() const { return impl_->backends.devices; }
std::vector<DeviceMemory> CrossEncoder::device_memory() const {
  return impl_->backends.memory_usage();
}
std::string CrossEncoder::activation() const {
  return std::string(backend::activation_name(impl_->activation));
}

CrossEncoder::CrossEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CrossEncoder::CrossEncoder(CrossEncoder&&) noexcept = default;
CrossEncoder& CrossEncoder::operator=(CrossEncoder&&) noexcept = default;
CrossEncoder::~CrossEncoder() = default;

}  // namespace rank_rerank
