// Dense bi-encoders in the sentence-transformers layout: a Transformer module, a Pooling module
// and an optional Normalize module listed in modules.json. Gives the same embeddings as
// sentence-transformers' SentenceTransformer.encode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rank_rerank/device.hpp"
#include "rank_rerank/embeddings.hpp"
#include "rank_rerank/encode_stats.hpp"
#include "rank_rerank/hub.hpp"
#include "rank_rerank/tensor.hpp"

namespace rank_rerank {

struct SentenceEncoderOptions {
  HubOptions hub;               // used when path_or_id is not a local directory
  std::size_t batch_size = 32;  // at most this many texts per forward pass
  // At most this many tokens per forward pass (a longer text gets a pass of its own). Texts are
  // sorted by length into passes; results come back in input order.
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
  // Overrides sentence_bert_config.json's max_seq_length (tokens, special tokens included).
  std::optional<std::size_t> max_seq_length;
};

class SentenceEncoder {
 public:
  // A local directory or a Hugging Face Hub repository id. Reads modules.json (a model without
  // one gets mean pooling, as sentence-transformers does), sentence_bert_config.json,
  // 1_Pooling/config.json, the transformer's config.json, tokenizer and weights. Throws Error
  // naming the file and what was found versus expected: missing files, a module type or pooling
  // mode that is not supported, a model_type other than bert, roberta, xlm-roberta, electra or
  // distilbert, tensor shape mismatches.
  static SentenceEncoder from_pretrained(std::string_view path_or_id,
                                         const SentenceEncoderOptions& options = {});

  // One embedding per text: [texts.size(), dimension()]. Texts are truncated to
  // max_seq_length() tokens; empty strings are valid.
  // stats (when given) is added to: texts, tokens, times, passes.
  Embeddings encode(const std::vector<std::string_view>& texts, EncodeStats* stats = nullptr) const;
  // The transformer's last hidden state of every token (before pooling), one matrix per text.
  PackedEmbeddings encode_tokens(const std::vector<std::string_view>& texts,
                                 EncodeStats* stats = nullptr) const;

  std::size_t dimension() const noexcept;
  std::size_t hidden_size() const noexcept;
  std::size_t max_seq_length() const noexcept;
  bool normalizes() const noexcept;
  // The devices the model runs on (one unless options.devices listed several).
  std::vector<Device> devices() const;
  // Device memory held by each replica, in the order of devices().
  std::vector<DeviceMemory> device_memory() const;
  // The enabled sentence-transformers pooling modes in output order, e.g. {"mean"}.
  std::vector<std::string> pooling_modes() const;

  SentenceEncoder(SentenceEncoder&&) noexcept;
  SentenceEncoder& operator=(SentenceEncoder&&) noexcept;
  ~SentenceEncoder();

  struct Impl;

 private:
  explicit SentenceEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rank_rerank
