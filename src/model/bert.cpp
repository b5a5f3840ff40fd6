// BERT encoder graph: embeddings + LayerNorm, then per layer fused QKV projection, packed
// attention, output projection + residual LayerNorm, feed-forward + residual LayerNorm.
#include "model/bert.hpp"

#include <array>

#include "rank_rerank/error.hpp"

namespace rank_rerank::model {
namespace {

std::size_t positive(const JsonConfig& config, std::string_view key,
                     std::optional<std::int64_t> fallback = std::nullopt) {
  const std::int64_t value =
      fallback ? config.get_or<std::int64_t>(key, *fallback) : config.get<std::int64_t>(key);
  if (value <= 0)
    throw_invalid(config.where() + ": " + std::string(key) + " must be positive, found " +
                  std::to_string(value));
  return static_cast<std::size_t>(value);
}

// A few tensor names of the checkpoint, for messages about missing ones.
std::string sample_names(const Weights& weights) {
  const std::vector<std::string> names = weights.names();
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 6; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 6) out += ", ... (" + std::to_string(names.size()) + " tensors)";
  return out.empty() ? "no tensors" : out;
}

}  // namespace

BertConfig BertConfig::from_json(const JsonConfig& config) {
  const std::string model_type = config.get_or<std::string>("model_type", "bert");
  if (model_type != "bert")
    throw_unsupported(config.where() + ": model_type '" + model_type +
                      "' is not supported by the BERT encoder (expected 'bert')");
  const std::string positions = config.get_or<std::string>("position_embedding_type", "absolute");
  if (positions != "absolute")
    throw_unsupported(config.where() + ": position_embedding_type '" + positions +
                      "' is not supported (expected 'absolute')");
  BertConfig c;
  c.vocab_size = positive(config, "vocab_size");
  c.hidden_size = positive(config, "hidden_size");
  c.num_heads = positive(config, "num_attention_heads");
  c.num_layers = positive(config, "num_hidden_layers");
  c.intermediate_size = positive(config, "intermediate_size");
  c.max_position_embeddings = positive(config, "max_position_embeddings", 512);
  const std::int64_t types = config.get_or<std::int64_t>("type_vocab_size", 2);
  if (types < 0)
    throw_invalid(config.where() + ": type_vocab_size must not be negative, found " +
                  std::to_string(types));
  c.type_vocab_size = static_cast<std::size_t>(types);
  c.hidden_act = backend::activation_from_hf_name(config.get_or<std::string>("hidden_act", "gelu"),
                                                  config.where() + ": hidden_act");
  c.layer_norm_eps = static_cast<float>(config.get_or<double>("layer_norm_eps", 1e-12));
  if (c.hidden_size % c.num_heads != 0)
    throw_invalid(config.where() + ": hidden_size " + std::to_string(c.hidden_size) +
                  " is not a multiple of num_attention_heads " + std::to_string(c.num_heads));
  return c;
}

BertEncoder BertEncoder::load(const BertConfig& config, const Weights& weights,
                              std::shared_ptr<backend::Backend> backend) {
  BertEncoder m;
  m.config_ = config;
  m.backend_ = std::move(backend);
  backend::Backend& be = *m.backend_;
  const std::string probe = "embeddings.word_embeddings.weight";
  if (weights.contains(probe)) {
    m.prefix_ = "";
  } else if (weights.contains("bert." + probe)) {
    m.prefix_ = "bert.";
  } else {
    throw_invalid(weights.source() + ": not a BERT checkpoint: expected '" + probe + "' or 'bert." +
                  probe + "', found " + sample_names(weights));
  }
  const auto h = static_cast<std::int64_t>(config.hidden_size);
  const auto inter = static_cast<std::int64_t>(config.intermediate_size);
  const auto param = [&](const std::string& name, std::initializer_list<std::int64_t> shape) {
    return be.upload(weights.get(m.prefix_ + name, std::vector<std::int64_t>(shape)), weights);
  };
  // LayerNorm scale and shift: "weight" / "bias", or "gamma" / "beta" as the original BERT
  // checkpoints (and some writers still) name them; transformers accepts both.
  const auto norm = [&](const std::string& base, const char* modern, const char* legacy) {
    const std::string name = base + "." + modern;
    const std::string old_name = base + "." + legacy;
    return param(weights.contains(m.prefix_ + name) || !weights.contains(m.prefix_ + old_name)
                     ? name
                     : old_name,
                 {h});
  };
  m.word_ =
      param("embeddings.word_embeddings.weight", {static_cast<std::int64_t>(config.vocab_size), h});
  m.position_ = param("embeddings.position_embeddings.weight",
                      {static_cast<std::int64_t>(config.max_position_embeddings), h});
  if (config.type_vocab_size > 0)
    m.token_type_ = param("embeddings.token_type_embeddings.weight",
                          {static_cast<std::int64_t>(config.type_vocab_size), h});
  m.embedding_norm_weight_ = norm("embeddings.LayerNorm", "weight", "gamma");
  m.embedding_norm_bias_ = norm("embeddings.LayerNorm", "bias", "beta");

  for (std::size_t l = 0; l < config.num_layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    Layer layer;
    // Query, key and value become one [3 * hidden, hidden] projection: one GEMM instead of three.
    std::vector<float> qkv_weight, qkv_bias;
    qkv_weight.reserve(static_cast<std::size_t>(3 * h * h));
    qkv_bias.reserve(static_cast<std::size_t>(3 * h));
    for (const char* part : {"query", "key", "value"}) {
      const std::string base = m.prefix_ + p + "attention.self." + part;
      const std::vector<float> w = weights.get(base + ".weight", std::array{h, h}).to_f32();
      const std::vector<float> b = weights.get(base + ".bias", std::array{h}).to_f32();
      qkv_weight.insert(qkv_weight.end(), w.begin(), w.end());
      qkv_bias.insert(qkv_bias.end(), b.begin(), b.end());
    }
    layer.qkv_weight = be.upload(std::move(qkv_weight));
    layer.qkv_bias = be.upload(std::move(qkv_bias));
    layer.output_weight = param(p + "attention.output.dense.weight", {h, h});
    layer.output_bias = param(p + "attention.output.dense.bias", {h});
    layer.attention_norm_weight = norm(p + "attention.output.LayerNorm", "weight", "gamma");
    layer.attention_norm_bias = norm(p + "attention.output.LayerNorm", "bias", "beta");
    layer.intermediate_weight = param(p + "intermediate.dense.weight", {inter, h});
    layer.intermediate_bias = param(p + "intermediate.dense.bias", {inter});
    layer.ffn_output_weight = param(p + "output.dense.weight", {h, inter});
    layer.ffn_output_bias = param(p + "output.dense.bias", {h});
    layer.ffn_norm_weight = norm(p + "output.LayerNorm", "weight", "gamma");
    layer.ffn_norm_bias = norm(p + "output.LayerNorm", "bias", "beta");
    m.layers_.push_back(std::move(layer));
  }
  return m;
}

void BertEncoder::validate(const backend::TokenBatch& batch) const {
  if (batch.type_ids.size() != batch.ids.size())
    throw_invalid("BERT forward: type_ids has " + std::to_string(batch.type_ids.size()) +
                  " entries, ids has " + std::to_string(batch.ids.size()));
  if (batch.offsets.empty() || batch.offsets.front() != 0 ||
      batch.offsets.back() != static_cast<std::int64_t>(batch.ids.size()))
    throw_invalid("BERT forward: offsets must run from 0 to the number of tokens (" +
                  std::to_string(batch.ids.size()) + ")");
  if (!batch.key_lengths.empty() && batch.key_lengths.size() + 1 != batch.offsets.size())
    throw_invalid("BERT forward: key_lengths has " + std::to_string(batch.key_lengths.size()) +
                  " entries for " + std::to_string(batch.offsets.size() - 1) + " sequences");
  for (std::size_t s = 0; s + 1 < batch.offsets.size(); ++s) {
    const std::int64_t length = batch.offsets[s + 1] - batch.offsets[s];
    if (!batch.key_lengths.empty() &&
        (batch.key_lengths[s] < std::min<std::int64_t>(length, 1) || batch.key_lengths[s] > length))
      throw_invalid("BERT forward: key_lengths[" + std::to_string(s) + "] = " +
                    std::to_string(batch.key_lengths[s]) + " is outside [1, sequence length " +
                    std::to_string(batch.offsets[s + 1] - batch.offsets[s]) + "]");
    const std::int64_t len = batch.offsets[s + 1] - batch.offsets[s];
    if (len < 0) throw_invalid("BERT forward: offsets decrease at sequence " + std::to_string(s));
    if (static_cast<std::size_t>(len) > config_.max_position_embeddings)
      throw_invalid("BERT forward: sequence " + std::to_string(s) + " has " + std::to_string(len) +
                    " tokens, more than max_position_embeddings " +
                    std::to_string(config_.max_position_embeddings));
  }
  for (std::size_t i = 0; i < batch.ids.size(); ++i) {
    if (batch.ids[i] < 0 || static_cast<std::size_t>(batch.ids[i]) >= config_.vocab_size)
      throw_invalid("BERT forward: token id " + std::to_string(batch.ids[i]) + " at position " +
                    std::to_string(i) + " is outside the vocabulary [0, " +
                    std::to_string(config_.vocab_size) + ")");
    const auto types = std::max<std::size_t>(config_.type_vocab_size, 1);
    if (batch.type_ids[i] < 0 || static_cast<std::size_t>(batch.type_ids[i]) >= types)
      throw_invalid("BERT forward: type id " + std::to_string(batch.type_ids[i]) + " at position " +
                    std::to_string(i) + " is outside [0, " + std::to_string(types) + ")");
  }
}

backend::Buffer BertEncoder::forward(const backend::TokenBatch& batch) const {
  validate(batch);
  backend::Backend& be = *backend_;
  const std::size_t n = batch.tokens();
  const std::size_t h = config_.hidden_size;
  const std::size_t inter = config_.intermediate_size;
  const float eps = config_.layer_norm_eps;
  backend::Buffer hidden = be.allocate(n * h);
  if (n == 0) return hidden;
  be.embed_layernorm(batch,
                     {word_.data(), position_.data(), token_type_.data(),
                      embedding_norm_weight_.data(), embedding_norm_bias_.data(), h, eps},
                     hidden.data());
  backend::Buffer qkv = be.allocate(n * 3 * h);
  backend::Buffer context = be.allocate(n * h);
  backend::Buffer projected = be.allocate(n * h);
  backend::Buffer intermediate = be.allocate(n * inter);
  const std::size_t head_dim = h / config_.num_heads;
  for (const Layer& layer : layers_) {
    be.linear(hidden.data(), n, h, layer.qkv_weight.data(), layer.qkv_bias.data(), 3 * h,
              backend::Activation::identity, qkv.data());
    be.attention(qkv.data(), batch.offsets, batch.key_lengths, config_.num_heads, head_dim,
                 context.data());
    be.linear(context.data(), n, h, layer.output_weight.data(), layer.output_bias.data(), h,
              backend::Activation::identity, projected.data());
    be.add_layernorm(projected.data(), hidden.data(), n, h, layer.attention_norm_weight.data(),
                     layer.attention_norm_bias.data(), eps);
    std::swap(hidden, projected);
    be.linear(hidden.data(), n, h, layer.intermediate_weight.data(), layer.intermediate_bias.data(),
              inter, config_.hidden_act, intermediate.data());
    be.linear(intermediate.data(), n, inter, layer.ffn_output_weight.data(),
              layer.ffn_output_bias.data(), h, backend::Activation::identity, projected.data());
    be.add_layernorm(projected.data(), hidden.data(), n, h, layer.ffn_norm_weight.data(),
                     layer.ffn_norm_bias.data(), eps);
    std::swap(hidden, projected);
  }
  return hidden;
}

}  // namespace rank_rerank::model
