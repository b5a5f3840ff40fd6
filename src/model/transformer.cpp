// Encoder graph: embeddings + LayerNorm (+ ELECTRA's projection), then per layer fused QKV
// projection, packed attention, output projection + residual LayerNorm, feed-forward + residual
// LayerNorm. The architectures differ only in tensor names (architecture.cpp).
#include "model/transformer.hpp"

#include <array>

#include "rank_rerank/error.hpp"

namespace rank_rerank::model {
namespace {

// A few tensor names of the checkpoint, for messages about missing ones.
std::string sample_names(const Weights& weights) {
  const std::vector<std::string> names = weights.names();
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 6; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 6) out += ", ... (" + std::to_string(names.size()) + " tensors)";
  return out.empty() ? "no tensors" : out;
}

}  // namespace

TransformerEncoder TransformerEncoder::load(const TransformerConfig& config, const Weights& weights,
                                            std::shared_ptr<backend::Backend> backend) {
  TransformerEncoder m;
  m.config_ = config;
  m.backend_ = std::move(backend);
  m.owner_ = backend::new_owner_id();
  backend::Backend& be = *m.backend_;
  const TensorNames& names = tensor_names(config.architecture);
  const std::string probe = names.word + ".weight";
  if (weights.contains(probe)) {
    m.prefix_ = "";
  } else if (weights.contains(names.task_prefix + probe)) {
    m.prefix_ = names.task_prefix;
  } else {
    throw_invalid(weights.source() + ": not a " +
                  std::string(architecture_name(config.architecture)) + " checkpoint: expected '" +
                  probe + "' or '" + names.task_prefix + probe + "', found " +
                  sample_names(weights));
  }
  const auto h = static_cast<std::int64_t>(config.hidden_size);
  const auto e = static_cast<std::int64_t>(config.embedding_size);
  const auto inter = static_cast<std::int64_t>(config.intermediate_size);
  const auto param = [&](const std::string& name, std::initializer_list<std::int64_t> shape) {
    return be.upload(weights.get(m.prefix_ + name, std::vector<std::int64_t>(shape)), weights);
  };
  const auto linear_weight = [&](const std::string& name, std::int64_t out, std::int64_t in) {
    return be.upload_linear_weight(weights.get(m.prefix_ + name, std::array{out, in}), weights);
  };
  // LayerNorm scale and shift: "weight" / "bias", or "gamma" / "beta" as the original BERT
  // checkpoints (and some writers still) name them; transformers accepts both.
  const auto norm = [&](const std::string& base, const char* modern, const char* legacy,
                        std::int64_t size) {
    const std::string name = base + "." + modern;
    const std::string old_name = base + "." + legacy;
    return param(weights.contains(m.prefix_ + name) || !weights.contains(m.prefix_ + old_name)
                     ? name
                     : old_name,
                 {size});
  };
  m.word_ = param(names.word + ".weight", {static_cast<std::int64_t>(config.vocab_size), e});
  m.position_ = param(names.position + ".weight",
                      {static_cast<std::int64_t>(config.max_position_embeddings), e});
  if (!names.token_type.empty() && config.type_vocab_size > 0)
    m.token_type_ =
        param(names.token_type + ".weight", {static_cast<std::int64_t>(config.type_vocab_size), e});
  m.embedding_norm_weight_ = norm(names.embedding_norm, "weight", "gamma", e);
  m.embedding_norm_bias_ = norm(names.embedding_norm, "bias", "beta", e);
  if (!names.embedding_projection.empty() && config.embedding_size != config.hidden_size) {
    m.projection_weight_ = linear_weight(names.embedding_projection + ".weight", h, e);
    m.projection_bias_ = param(names.embedding_projection + ".bias", {h});
  } else if (config.embedding_size != config.hidden_size) {
    throw_invalid(weights.source() + ": embedding size " + std::to_string(e) +
                  " differs from hidden size " + std::to_string(h) + ", which " +
                  std::string(architecture_name(config.architecture)) + " does not support");
  }

  for (std::size_t l = 0; l < config.num_layers; ++l) {
    const std::string p = names.layer + std::to_string(l) + ".";
    Layer layer;
    // Query, key and value become one [3 * hidden, hidden] projection: one GEMM instead of three.
    std::vector<float> qkv_weight, qkv_bias;
    qkv_weight.reserve(static_cast<std::size_t>(3 * h * h));
    qkv_bias.reserve(static_cast<std::size_t>(3 * h));
    for (const std::string* part : {&names.query, &names.key, &names.value}) {
      const std::string base = m.prefix_ + p + *part;
      const std::vector<float> w = weights.get(base + ".weight", std::array{h, h}).to_f32();
      const std::vector<float> b = weights.get(base + ".bias", std::array{h}).to_f32();
      qkv_weight.insert(qkv_weight.end(), w.begin(), w.end());
      qkv_bias.insert(qkv_bias.end(), b.begin(), b.end());
    }
    layer.qkv_weight = be.upload_linear_weight(
        std::move(qkv_weight), static_cast<std::size_t>(3 * h), static_cast<std::size_t>(h));
    layer.qkv_bias = be.upload(std::move(qkv_bias));
    layer.output_weight = linear_weight(p + names.attention_output + ".weight", h, h);
    layer.output_bias = param(p + names.attention_output + ".bias", {h});
    layer.attention_norm_weight = norm(p + names.attention_norm, "weight", "gamma", h);
    layer.attention_norm_bias = norm(p + names.attention_norm, "bias", "beta", h);
    layer.intermediate_weight = linear_weight(p + names.intermediate + ".weight", inter, h);
    layer.intermediate_bias = param(p + names.intermediate + ".bias", {inter});
    layer.ffn_output_weight = linear_weight(p + names.ffn_output + ".weight", h, inter);
    layer.ffn_output_bias = param(p + names.ffn_output + ".bias", {h});
    layer.ffn_norm_weight = norm(p + names.ffn_norm, "weight", "gamma", h);
    layer.ffn_norm_bias = norm(p + names.ffn_norm, "bias", "beta", h);
    m.layers_.push_back(std::move(layer));
  }
  return m;
}

void TransformerEncoder::validate(const backend::TokenBatch& batch) const {
  if (batch.type_ids.size() != batch.ids.size())
    throw_invalid("encoder forward: type_ids has " + std::to_string(batch.type_ids.size()) +
                  " entries, ids has " + std::to_string(batch.ids.size()));
  if (batch.offsets.empty() || batch.offsets.front() != 0 ||
      batch.offsets.back() != static_cast<std::int64_t>(batch.ids.size()))
    throw_invalid("encoder forward: offsets must run from 0 to the number of tokens (" +
                  std::to_string(batch.ids.size()) + ")");
  if (!batch.key_lengths.empty() && batch.key_lengths.size() + 1 != batch.offsets.size())
    throw_invalid("encoder forward: key_lengths has " + std::to_string(batch.key_lengths.size()) +
                  " entries for " + std::to_string(batch.offsets.size() - 1) + " sequences");
  for (std::size_t s = 0; s + 1 < batch.offsets.size(); ++s) {
    const std::int64_t length = batch.offsets[s + 1] - batch.offsets[s];
    if (!batch.key_lengths.empty() &&
        (batch.key_lengths[s] < std::min<std::int64_t>(length, 1) || batch.key_lengths[s] > length))
      throw_invalid("encoder forward: key_lengths[" + std::to_string(s) + "] = " +
                    std::to_string(batch.key_lengths[s]) + " is outside [1, sequence length " +
                    std::to_string(batch.offsets[s + 1] - batch.offsets[s]) + "]");
    const std::int64_t len = batch.offsets[s + 1] - batch.offsets[s];
    if (len < 0)
      throw_invalid("encoder forward: offsets decrease at sequence " + std::to_string(s));
    if (static_cast<std::size_t>(len) > config_.max_sequence_length())
      throw_invalid("encoder forward: sequence " + std::to_string(s) + " has " +
                    std::to_string(len) + " tokens, more than the " +
                    std::to_string(config_.max_sequence_length()) +
                    " positions of max_position_embeddings " +
                    std::to_string(config_.max_position_embeddings) +
                    (config_.position_offset ? " after the padding_idx + 1 offset" : ""));
  }
  for (std::size_t i = 0; i < batch.ids.size(); ++i) {
    if (batch.ids[i] < 0 || static_cast<std::size_t>(batch.ids[i]) >= config_.vocab_size)
      throw_invalid("encoder forward: token id " + std::to_string(batch.ids[i]) + " at position " +
                    std::to_string(i) + " is outside the vocabulary [0, " +
                    std::to_string(config_.vocab_size) + ")");
    if (!config_.uses_token_types) continue;
    const std::size_t types = config_.type_vocab_size;
    if (batch.type_ids[i] < 0 || static_cast<std::size_t>(batch.type_ids[i]) >= types)
      throw_invalid("encoder forward: type id " + std::to_string(batch.type_ids[i]) +
                    " at position " + std::to_string(i) + " is outside [0, " +
                    std::to_string(types) + ")");
  }
}

backend::Buffer TransformerEncoder::forward(const backend::TokenBatch& batch) const {
  validate(batch);
  // The same ops every time for a given shape: a device backend may replay them as one graph.
  return backend_->run_repeatable(owner_, batch, [&] { return run_layers(batch); });
}

backend::Buffer TransformerEncoder::run_layers(const backend::TokenBatch& batch) const {
  backend::Backend& be = *backend_;
  const std::size_t n = batch.tokens();
  const std::size_t h = config_.hidden_size;
  const std::size_t inter = config_.intermediate_size;
  const float eps = config_.layer_norm_eps;
  backend::Buffer hidden = be.allocate(n * h);
  if (n == 0) return hidden;
  // Architectures whose inputs carry no token types add row 0 of the table (if there is one).
  const std::vector<std::int32_t> zero_types(config_.uses_token_types ? 0 : n, 0);
  backend::TokenBatch embedded = batch;
  if (!config_.uses_token_types) embedded.type_ids = zero_types;
  const std::size_t e = config_.embedding_size;
  const backend::EmbeddingTables tables{word_.data(),
                                        position_.data(),
                                        token_type_.data(),
                                        embedding_norm_weight_.data(),
                                        embedding_norm_bias_.data(),
                                        e,
                                        eps,
                                        config_.position_offset};
  if (!projection_weight_.data()) {
    be.embed_layernorm(embedded, tables, hidden.data());
  } else {
    backend::Buffer embeddings = be.allocate(n * e);
    be.embed_layernorm(embedded, tables, embeddings.data());
    be.linear(embeddings.data(), n, e, projection_weight_.data(), projection_bias_.data(), h,
              backend::Activation::identity, hidden.data());
  }
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
