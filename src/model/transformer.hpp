// Encoder-only transformer (BERT, RoBERTa, XLM-RoBERTa, ELECTRA discriminator, DistilBERT; the
// transformers base model without a pooler), written once against the backend op set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "model/architecture.hpp"
#include "rank_rerank/weights.hpp"

namespace rank_rerank::model {

class TransformerEncoder {
 public:
  // Parameters named as transformers names them for config.architecture, with or without the
  // task models' prefix ("bert.", "roberta.", ...). Throws Error naming the checkpoint, the
  // tensor and the shape found versus expected.
  static TransformerEncoder load(const TransformerConfig& config, const Weights& weights,
                                 std::shared_ptr<backend::Backend> backend);

  // The last hidden state of every token, packed: [batch.tokens(), hidden_size] in backend
  // memory. Throws Error (invalid_argument) for ids or type ids out of range, bad offsets, or a
  // sequence longer than the position table allows.
  backend::Buffer forward(const backend::TokenBatch& batch) const;

  const TransformerConfig& config() const noexcept { return config_; }
  backend::Backend& backend() const noexcept { return *backend_; }
  // "" or the task prefix: where the encoder's parameters live in the checkpoint (heads sit
  // beside it).
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
  backend::Buffer run_layers(const backend::TokenBatch& batch) const;

  TransformerConfig config_;
  std::shared_ptr<backend::Backend> backend_;
  std::uint64_t owner_ = 0;  // this model's id for the backend's recordings (run_repeatable)
  std::string prefix_;
  backend::ConstBuffer word_, position_, token_type_, embedding_norm_weight_, embedding_norm_bias_;
  backend::ConstBuffer projection_weight_, projection_bias_;  // ELECTRA: embedding -> hidden
  std::vector<Layer> layers_;
};

}  // namespace rank_rerank::model
