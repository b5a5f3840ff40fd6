// BERT encoder (transformers BertModel without the pooler), written against the backend op set.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "rank_rerank/json_config.hpp"
#include "rank_rerank/weights.hpp"

namespace rank_rerank::model {

struct BertConfig {
  std::size_t vocab_size = 0;
  std::size_t hidden_size = 0;
  std::size_t num_heads = 0;
  std::size_t num_layers = 0;
  std::size_t intermediate_size = 0;
  std::size_t max_position_embeddings = 0;
  std::size_t type_vocab_size = 0;
  backend::Activation hidden_act = backend::Activation::gelu_erf;
  float layer_norm_eps = 1e-12f;

  // From a transformers config.json. Throws Error naming the file and key for a missing or
  // inconsistent value, and Error (unsupported) for a model_type other than "bert" or a
  // position_embedding_type other than "absolute".
  static BertConfig from_json(const JsonConfig& config);
};

class BertEncoder {
 public:
  // Parameters named as transformers names them, with or without the "bert." prefix (task
  // models such as BertForSequenceClassification add it). Throws Error naming the checkpoint, the
  // tensor and the shape found versus expected.
  static BertEncoder load(const BertConfig& config, const Weights& weights,
                          std::shared_ptr<backend::Backend> backend);

  // The last hidden state of every token, packed: [batch.tokens(), hidden_size] in backend
  // memory. Throws Error (invalid_argument) for ids or type ids out of range, bad offsets, or a
  // sequence longer than max_position_embeddings.
  backend::Buffer forward(const backend::TokenBatch& batch) const;

  const BertConfig& config() const noexcept { return config_; }
  backend::Backend& backend() const noexcept { return *backend_; }
  // "" or "bert.": where the encoder's parameters live in the checkpoint (heads sit beside it).
  const std::string& prefix() const noexcept { return prefix_; }

 private:
  struct Layer {
    backend::ConstBuffer qkv_weight, qkv_bias;  // [3 * hidden, hidden], [3 * hidden]
    backend::ConstBuffer output_weight, output_bias;
    backend::ConstBuffer attention_norm_weight, attention_norm_bias;
    backend::ConstBuffer intermediate_weight, intermediate_bias;
    backend::ConstBuffer ffn_output_weight, ffn_output_bias;
    backend::ConstBuffer ffn_norm_weight, ffn_norm_bias;
  };
  void validate(const backend::TokenBatch& batch) const;

  BertConfig config_;
  std::shared_ptr<backend::Backend> backend_;
  std::string prefix_;
  backend::ConstBuffer word_, position_, token_type_, embedding_norm_weight_, embedding_norm_bias_;
  std::vector<Layer> layers_;
};

}  // namespace rank_rerank::model
