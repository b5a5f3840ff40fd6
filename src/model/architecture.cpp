// Per-architecture config keys and tensor names (as transformers' modeling_*.py define them).
#include "model/architecture.hpp"

#include <array>
#include <optional>

#include "rank_rerank/error.hpp"

namespace rank_rerank::model {
namespace {

constexpr std::array kArchitectures{Architecture::bert, Architecture::distilbert,
                                    Architecture::electra, Architecture::roberta,
                                    Architecture::xlm_roberta};

std::size_t positive(const JsonConfig& config, std::string_view key,
                     std::optional<std::int64_t> fallback = std::nullopt) {
  const std::int64_t value =
      fallback ? config.get_or<std::int64_t>(key, *fallback) : config.get<std::int64_t>(key);
  if (value <= 0)
    throw_invalid(config.where() + ": " + std::string(key) + " must be positive, found " +
                  std::to_string(value));
  return static_cast<std::size_t>(value);
}

std::size_t non_negative(const JsonConfig& config, std::string_view key, std::int64_t fallback) {
  const std::int64_t value = config.get_or<std::int64_t>(key, fallback);
  if (value < 0)
    throw_invalid(config.where() + ": " + std::string(key) + " must not be negative, found " +
                  std::to_string(value));
  return static_cast<std::size_t>(value);
}

TensorNames bert_names(std::string task_prefix) {
  TensorNames n;
  n.task_prefix = std::move(task_prefix);
  n.word = "embeddings.word_embeddings";
  n.position = "embeddings.position_embeddings";
  n.token_type = "embeddings.token_type_embeddings";
  n.embedding_norm = "embeddings.LayerNorm";
  n.layer = "encoder.layer.";
  n.query = "attention.self.query";
  n.key = "attention.self.key";
  n.value = "attention.self.value";
  n.attention_output = "attention.output.dense";
  n.attention_norm = "attention.output.LayerNorm";
  n.intermediate = "intermediate.dense";
  n.ffn_output = "output.dense";
  n.ffn_norm = "output.LayerNorm";
  return n;
}

TensorNames electra_names() {
  TensorNames n = bert_names("electra.");
  n.embedding_projection = "embeddings_project";
  return n;
}

TensorNames distilbert_names() {
  TensorNames n;
  n.task_prefix = "distilbert.";
  n.word = "embeddings.word_embeddings";
  n.position = "embeddings.position_embeddings";
  n.embedding_norm = "embeddings.LayerNorm";
  n.layer = "transformer.layer.";
  n.query = "attention.q_lin";
  n.key = "attention.k_lin";
  n.value = "attention.v_lin";
  n.attention_output = "attention.out_lin";
  n.attention_norm = "sa_layer_norm";
  n.intermediate = "ffn.lin1";
  n.ffn_output = "ffn.lin2";
  n.ffn_norm = "output_layer_norm";
  return n;
}

void check_heads(const JsonConfig& config, const TransformerConfig& c) {
  if (c.hidden_size % c.num_heads != 0)
    throw_invalid(config.where() + ": hidden size " + std::to_string(c.hidden_size) +
                  " is not a multiple of the number of attention heads " +
                  std::to_string(c.num_heads));
}

// DistilBERT names its sizes differently and fixes LayerNorm eps at 1e-12.
TransformerConfig distilbert_config(const JsonConfig& config) {
  if (config.get_or<bool>("sinusoidal_pos_embds", false))
    throw_unsupported(config.where() +
                      ": sinusoidal_pos_embds true is not supported (expected false: learned "
                      "position embeddings)");
  TransformerConfig c;
  c.architecture = Architecture::distilbert;
  c.vocab_size = positive(config, "vocab_size");
  c.hidden_size = c.embedding_size = positive(config, "dim");
  c.num_heads = positive(config, "n_heads");
  c.num_layers = positive(config, "n_layers");
  c.intermediate_size = positive(config, "hidden_dim");
  c.max_position_embeddings = positive(config, "max_position_embeddings", 512);
  c.uses_token_types = false;
  c.hidden_act = backend::activation_from_hf_name(config.get_or<std::string>("activation", "gelu"),
                                                  config.where() + ": activation");
  check_heads(config, c);
  return c;
}

}  // namespace

std::string_view architecture_name(Architecture architecture) noexcept {
  switch (architecture) {
    case Architecture::bert:
      return "bert";
    case Architecture::roberta:
      return "roberta";
    case Architecture::xlm_roberta:
      return "xlm-roberta";
    case Architecture::electra:
      return "electra";
    case Architecture::distilbert:
      return "distilbert";
  }
  return "?";
}

std::string supported_architectures() {
  std::string out;
  for (Architecture a : kArchitectures)
    out += (out.empty() ? "" : ", ") + std::string(architecture_name(a));
  return out;
}

const TensorNames& tensor_names(Architecture architecture) noexcept {
  static const TensorNames bert = bert_names("bert.");
  static const TensorNames roberta = bert_names("roberta.");
  static const TensorNames electra = electra_names();
  static const TensorNames distilbert = distilbert_names();
  switch (architecture) {
    case Architecture::bert:
      return bert;
    case Architecture::roberta:
    case Architecture::xlm_roberta:
      return roberta;
    case Architecture::electra:
      return electra;
    case Architecture::distilbert:
      return distilbert;
  }
  return bert;
}

TransformerConfig TransformerConfig::from_json(const JsonConfig& config) {
  const std::string model_type = config.get_or<std::string>("model_type", "bert");
  std::optional<Architecture> architecture;
  for (Architecture a : kArchitectures)
    if (architecture_name(a) == model_type) architecture = a;
  if (!architecture)
    throw_unsupported(config.where() + ": model_type '" + model_type +
                      "' is not supported (supported: " + supported_architectures() + ")");
  if (*architecture == Architecture::distilbert) return distilbert_config(config);

  const std::string positions = config.get_or<std::string>("position_embedding_type", "absolute");
  if (positions != "absolute")
    throw_unsupported(config.where() + ": position_embedding_type '" + positions +
                      "' is not supported (expected 'absolute')");
  TransformerConfig c;
  c.architecture = *architecture;
  c.vocab_size = positive(config, "vocab_size");
  c.hidden_size = positive(config, "hidden_size");
  c.embedding_size = *architecture == Architecture::electra
                         ? positive(config, "embedding_size", 128)  // ElectraConfig's default
                         : c.hidden_size;
  c.num_heads = positive(config, "num_attention_heads");
  c.num_layers = positive(config, "num_hidden_layers");
  c.intermediate_size = positive(config, "intermediate_size");
  c.max_position_embeddings = positive(config, "max_position_embeddings", 512);
  c.type_vocab_size = non_negative(config, "type_vocab_size", 2);
  c.uses_token_types = c.type_vocab_size > 0;
  if (*architecture == Architecture::roberta || *architecture == Architecture::xlm_roberta) {
    // transformers numbers positions from padding_idx + 1 (pad_token_id, 1 in every published
    // RoBERTa / XLM-R) and never passes token types, so the table's row 0 is always added.
    c.position_offset = non_negative(config, "pad_token_id", 1) + 1;
    c.uses_token_types = false;
    if (c.type_vocab_size == 0)
      throw_invalid(config.where() + ": type_vocab_size must be at least 1 for " + model_type);
    if (c.position_offset >= c.max_position_embeddings)
      throw_invalid(config.where() + ": pad_token_id " + std::to_string(c.position_offset - 1) +
                    " leaves no position in max_position_embeddings " +
                    std::to_string(c.max_position_embeddings));
  }
  c.hidden_act = backend::activation_from_hf_name(config.get_or<std::string>("hidden_act", "gelu"),
                                                  config.where() + ": hidden_act");
  c.layer_norm_eps = static_cast<float>(config.get_or<double>("layer_norm_eps", 1e-12));
  check_heads(config, c);
  return c;
}

}  // namespace rank_rerank::model
