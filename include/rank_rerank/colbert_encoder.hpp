// ColBERT (late interaction) encoders: one L2-normalised vector per token, as PyLate's
// ColBERT.encode gives them. Reads both checkpoint layouts:
//   - PyLate / sentence-transformers: modules.json with a Transformer and one or more Dense
//     modules, settings in config_sentence_transformers.json;
//   - Stanford ColBERT: config.json architectures ["HF_ColBERT"], the projection `linear.weight`
//     beside the bert.* tensors, settings in artifact.metadata (flat or under "config").
// Queries: truncated to query_length - 1 tokens, padded with [MASK] up to that length when
// query expansion is on, the query marker inserted as an id at position 1; every vector is kept.
// Documents: truncated to document_length - 1 tokens, document marker at position 1; vectors of
// skiplist tokens (punctuation by default) are dropped after encoding. score_candidates keeps the
// vectors where they were computed and scores them there (the GPU MaxSim kernels on CUDA).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rank_rerank/device.hpp"
#include "rank_rerank/embeddings.hpp"
#include "rank_rerank/encode_stats.hpp"
#include "rank_rerank/hub.hpp"
#include "rank_rerank/tensor.hpp"

namespace rank_rerank {

struct ColbertEncoderOptions {
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
  // Override the checkpoint's settings.
  std::optional<std::size_t> query_length;
  std::optional<std::size_t> document_length;
};

class ColbertEncoder {
 public:
  // Throws Error naming the file and what was found versus expected: neither layout, a missing
  // marker token, Dense modules whose sizes do not chain, unsupported activations.
  static ColbertEncoder from_pretrained(std::string_view path_or_id,
                                        const ColbertEncoderOptions& options = {});

  // One [n_i, dimension()] matrix per text, packed. stats (when given) is added to: texts,
  // tokens, times, passes.
  PackedEmbeddings encode_queries(const std::vector<std::string_view>& texts,
                                  EncodeStats* stats = nullptr) const;
  PackedEmbeddings encode_documents(const std::vector<std::string_view>& texts,
                                    EncodeStats* stats = nullptr) const;

  // Each query scored against its own documents by MaxSim (dot product), as maxsim_candidates
  // over encode_queries / encode_documents scores them, without the token vectors leaving the
  // device: query q scores documents [candidate_offsets[q], candidate_offsets[q + 1]), and
  // candidate_offsets runs from 0 to documents.size() (queries.size() + 1 entries). Returns one
  // score per document. Queries without documents are not encoded. On several devices the
  // vectors come back to the host and are scored there. stats (when given) is added to: texts,
  // tokens, times, passes and score_ms.
  std::vector<float> score_candidates(const std::vector<std::string_view>& queries,
                                      const std::vector<std::string_view>& documents,
                                      std::span<const std::int64_t> candidate_offsets,
                                      EncodeStats* stats = nullptr) const;

  std::size_t dimension() const noexcept;
  std::size_t query_length() const noexcept;
  std::size_t document_length() const noexcept;
  // The devices the model runs on (one unless options.devices listed several).
  std::vector<Device> devices() const;
  // Device memory held by each replica, in the order of devices().
  std::vector<DeviceMemory> device_memory() const;

  ColbertEncoder(ColbertEncoder&&) noexcept;
  ColbertEncoder& operator=(ColbertEncoder&&) noexcept;
  ~ColbertEncoder();

  struct Impl;

 private:
  explicit ColbertEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// PyLate's name for it.
using ColBERT = ColbertEncoder;

}  // namespace rank_rerank
