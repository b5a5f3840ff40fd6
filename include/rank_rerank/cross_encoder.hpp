// Cross-encoders (sentence-transformers CrossEncoder over Bert / Roberta / XLMRoberta / Electra /
// DistilBert ForSequenceClassification): the query and the document are read together and
// scored. Same scores as CrossEncoder.predict, same order as CrossEncoder.rank.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rank_rerank/device.hpp"
#include "rank_rerank/encode_stats.hpp"
#include "rank_rerank/hub.hpp"
#include "rank_rerank/tensor.hpp"

namespace rank_rerank {

struct CrossEncoderOptions {
  HubOptions hub;
  std::size_t batch_size = 32;  // at most this many texts per forward pass
  // At most this many tokens per forward pass (a longer text gets a pass of its own); inputs are
  // sorted by length into passes, results come back in input order.
  std::size_t max_batch_tokens = 32768;
  int num_threads = 0;  // 0: rank_rerank::default_num_threads()
  // Where the model runs: nullopt picks CUDA when usable, else the CPU (saying why once); an
  // explicit device that cannot be used throws.
  std::optional<Device> device;
  // Several devices (parse_devices: {cuda:0, cuda:1}, every GPU with "cuda:all"): the parameters
  // are read once and copied to each, a request's forward passes are shared out by token count
  // (small requests stay on one device), results come back in input order and equal a
  // single-device run bit for bit (docs/multi_gpu.md). Exclusive with `device`.
  std::vector<Device> devices;
  // Compute precision: f32 (default: the same numbers as the CPU and PyTorch in float32), f16
  // (CUDA only) or bf16 (f32 accumulation; on the CPU only the linear layers, see docs/models.md).
  // An automatic fallback to the CPU computes f16 in f32.
  DType dtype = DType::f32;
  // Overrides tokenizer_config.json's model_max_length (capped at max_position_embeddings).
  std::optional<std::size_t> max_length;
};

class CrossEncoder {
 public:
  // config.json (model_type bert, roberta, xlm-roberta, electra or distilbert; num_labels from the
  // classifier's shape), the encoder with its classification head (BERT: pooler + classifier;
  // RoBERTa / XLM-R: classifier.dense + tanh + classifier.out_proj; ELECTRA: the same with GELU;
  // DistilBERT: pre_classifier + ReLU + classifier), the tokenizer. The activation applied to the
  // logits is resolved as sentence-transformers does: config.json
  // sentence_transformers.activation_fn, else the legacy sbert_ce_default_activation_function, else
  // Sigmoid for one label and Identity otherwise. Throws Error naming the file and what was found
  // versus expected.
  static CrossEncoder from_pretrained(std::string_view path_or_id,
                                      const CrossEncoderOptions& options = {});

  // Scores of (query, document) pairs: [pairs.size() * num_labels()], row-major. The pair is
  // tokenized as [CLS] query [SEP] document [SEP] with longest-first truncation to max_length().
  // With apply_softmax each row is then replaced by its softmax (after the activation, as
  // sentence-transformers does; a single label becomes 1). stats (when given) is added to.
  std::vector<float> predict(
      const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
      bool apply_softmax = false, EncodeStats* stats = nullptr) const;

  // One document of a ranking: its index in the documents given, its score, and (when asked
  // for) its text.
  struct Ranked {
    std::size_t corpus_id = 0;
    float score = 0;
    std::optional<std::string> text;
  };
  // sentence-transformers' CrossEncoder.rank: scores (query, document) for every document and
  // returns them best first (ties in document order), the first top_k when given. Needs a model
  // with one label; throws Error otherwise. An empty list of documents gives an empty ranking.
  std::vector<Ranked> rank(std::string_view query, const std::vector<std::string_view>& documents,
                           std::optional<std::size_t> top_k = std::nullopt,
                           bool return_documents = false, bool apply_softmax = false) const;

  std::size_t num_labels() const noexcept;
  std::size_t max_length() const noexcept;
  // The devices the model runs on (one unless options.devices listed several).
  std::vector<Device> devices() const;
  // Device memory held by each replica, in the order of devices().
  std::vector<DeviceMemory> device_memory() const;
  // "sigmoid", "identity", ...
  std::string activation() const;

  CrossEncoder(CrossEncoder&&) noexcept;
  CrossEncoder& operator=(CrossEncoder&&) noexcept;
  ~CrossEncoder();

  struct Impl;

 private:
  explicit CrossEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rank_rerank
