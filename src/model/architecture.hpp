// The encoder-only transformer families one graph covers (BERT, RoBERTa, XLM-RoBERTa, ELECTRA
// discriminator, DistilBERT): how each names its config keys and checkpoint tensors. They share
// the computation (embeddings + LayerNorm, post-LayerNorm attention and feed-forward blocks) and
// differ only in names, the position-id offset, token types and ELECTRA's embedding projection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "backend/backend.hpp"
#include "rank_rerank/json_config.hpp"

namespace rank_rerank::model {

enum class Architecture : std::uint8_t { bert, roberta, xlm_roberta, electra, distilbert };

// The config.json model_type of an architecture ("bert", "xlm-roberta", ...).
std::string_view architecture_name(Architecture architecture) noexcept;
// "bert, distilbert, electra, roberta, xlm-roberta": for messages.
std::string supported_architectures();

// Checkpoint tensor names without the ".weight" / ".bias" suffix, relative to the encoder (the
// task models put the encoder under `task_prefix`). Empty: the architecture has no such tensor.
struct TensorNames {
  std::string task_prefix;  // "bert.", "roberta.", "electra.", "distilbert."
  std::string word, position, token_type, embedding_norm;
  std::string embedding_projection;  // ELECTRA's embeddings_project (embedding_size -> hidden)
  std::string layer;                 // "encoder.layer." + index + "."
  std::string query, key, value, attention_output, attention_norm;
  std::string intermediate, ffn_output, ffn_norm;
};
const TensorNames& tensor_names(Architecture architecture) noexcept;

struct TransformerConfig {
  Architecture architecture = Architecture::bert;
  std::size_t vocab_size = 0;
  std::size_t hidden_size = 0;
  std::size_t embedding_size = 0;  // width of the embedding tables; hidden_size except ELECTRA
  std::size_t num_heads = 0;
  std::size_t num_layers = 0;
  std::size_t intermediate_size = 0;
  std::size_t max_position_embeddings = 0;  // rows of the position table
  std::size_t type_vocab_size = 0;          // rows of the token-type table (0: none)
  // RoBERTa family: position ids start at padding_idx + 1 (the rows below are never used).
  std::size_t position_offset = 0;
  // False where the tokenizer's token type ids never reach the model (RoBERTa family: the
  // transformers tokenizers do not return them, so type 0 is used; DistilBERT: no table).
  bool uses_token_types = true;
  backend::Activation hidden_act = backend::Activation::gelu_erf;
  float layer_norm_eps = 1e-12f;

  // The longest sequence the position table covers.
  std::size_t max_sequence_length() const noexcept {
    return max_position_embeddings - position_offset;
  }

  // From a transformers config.json (model_type selects the key names). Throws Error naming the
  // file and key for a missing or inconsistent value, and Error (unsupported) for a model_type
  // outside supported_architectures() or a position scheme other than learned absolute.
  static TransformerConfig from_json(const JsonConfig& config);
};

}  // namespace rank_rerank::model
