// The op set every model is written against. A model graph (src/model/) calls these ops and
// nothing else; each backend (cpu/, later cuda/) implements them once.
//
// Data layout: variable-length sequences are packed back to back. A batch of n sequences is one
// row-major matrix [total_tokens, cols] plus offsets[n + 1] (cu_seqlens): sequence i owns rows
// [offsets[i], offsets[i + 1]). No op ever touches padding, because there is none.
//
// Pointers passed to ops point into backend memory (host memory for the CPU backend). Token ids
// and offsets are small and always passed as host spans; a device backend copies them itself.
// Ops trust their arguments: the model validates ids, shapes and lengths before calling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rank_rerank/weights.hpp"

namespace rank_rerank::backend {

// Element-wise functions applied after a linear layer.
enum class Activation : std::uint8_t {
  identity,
  gelu_erf,   // x * Phi(x), exact (transformers "gelu")
  gelu_tanh,  // tanh approximation (transformers "gelu_new", "gelu_pytorch_tanh", "gelu_fast")
  relu,
  tanh,
  sigmoid,
};

// The activation a transformers config names (hidden_act). Throws Error (unsupported) naming
// `where`, the name found and the names understood.
Activation activation_from_hf_name(std::string_view name, const std::string& where);
std::string_view activation_name(Activation activation) noexcept;

// Sequence pooling into one row per sequence (sentence-transformers Pooling modes).
enum class Pooling : std::uint8_t { cls, mean, max, mean_sqrt_len, last_token };

// Writable memory owned by a backend.
class Buffer {
 public:
  Buffer() = default;
  Buffer(std::shared_ptr<float[]> memory, std::size_t size)
      : memory_(std::move(memory)), size_(size) {}
  float* data() const noexcept { return memory_.get(); }
  std::size_t size() const noexcept { return size_; }

 private:
  std::shared_ptr<float[]> memory_;
  std::size_t size_ = 0;
};

// Read-only memory in a backend's space: model parameters. May alias a memory-mapped checkpoint,
// which `keep_alive` then keeps open.
class ConstBuffer {
 public:
  ConstBuffer() = default;
  ConstBuffer(const float* data, std::size_t size, std::shared_ptr<const void> keep_alive)
      : keep_alive_(std::move(keep_alive)), data_(data), size_(size) {}
  const float* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  std::shared_ptr<const void> keep_alive_;
  const float* data_ = nullptr;
  std::size_t size_ = 0;
};

// Token ids of a packed batch (host memory). Positions restart at 0 in every sequence.
struct TokenBatch {
  std::span<const std::int32_t> ids;
  std::span<const std::int32_t> type_ids;  // same length as ids
  std::span<const std::int64_t> offsets;   // n_sequences + 1, from 0 to ids.size()
  // Empty, or per sequence how many leading tokens attention may look at (keys and values); the
  // other tokens still get outputs. Models an attention mask that is 1 on a prefix, e.g. ColBERT
  // query expansion tokens that are not attended to.
  std::span<const std::int64_t> key_lengths = {};
  std::size_t tokens() const noexcept { return ids.size(); }
  std::size_t sequences() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
};

// Learned absolute embeddings summed then layer-normalised (BERT-style input layer).
struct EmbeddingTables {
  const float* word = nullptr;        // [vocab, hidden]
  const float* position = nullptr;    // [max_positions, hidden]
  const float* token_type = nullptr;  // [type_vocab, hidden], or null: no token-type term
  const float* gamma = nullptr;       // [hidden]
  const float* beta = nullptr;        // [hidden]
  std::size_t hidden = 0;
  float eps = 1e-12f;
  // Position ids start here: token i of a sequence reads position row position_offset + i
  // (RoBERTa / XLM-R: padding_idx + 1).
  std::size_t position_offset = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual int num_threads() const noexcept = 0;

  // Uninitialised memory for `size` floats.
  virtual Buffer allocate(std::size_t size) = 0;
  // A parameter tensor in backend memory: f32 tensors may be used in place (the Weights object
  // is kept alive), f16 / bf16 / f64 are converted.
  virtual ConstBuffer upload(const WeightTensor& tensor, const Weights& owner) = 0;
  // Host values moved into backend memory (e.g. fused projections assembled at load time).
  virtual ConstBuffer upload(std::vector<float> values) = 0;
  // `size` floats from backend memory to host memory.
  virtual void download(const float* source, std::size_t size, float* destination) = 0;

  // out[t] = LayerNorm(word[ids[t]] + position[position_offset + t - offsets[seq]]
  //                   + token_type[type_ids[t]]).
  // out: [tokens, hidden].
  virtual void embed_layernorm(const TokenBatch& batch, const EmbeddingTables& tables,
                               float* out) = 0;

  // y = act(x W^T + bias): x [rows, in], weight [out, in] (the torch Linear layout), bias [out]
  // or null, y [rows, out].
  virtual void linear(const float* x, std::size_t rows, std::size_t in, const float* weight,
                      const float* bias, std::size_t out, Activation activation, float* y) = 0;

  // x = LayerNorm(x + residual) row by row; x, residual [rows, cols].
  virtual void add_layernorm(float* x, const float* residual, std::size_t rows, std::size_t cols,
                             const float* gamma, const float* beta, float eps) = 0;

  // Multi-head self-attention within each packed sequence (bidirectional). Every token of
  // sequence s attends to the first key_lengths[s] tokens of s (all of them when key_lengths is
  // empty). qkv: [tokens, 3 * heads * head_dim], the query, key and value projections side by
  // side, each head a contiguous block of head_dim columns. out: [tokens, heads * head_dim].
  // Scores are scaled by 1 / sqrt(head_dim).
  virtual void attention(const float* qkv, std::span<const std::int64_t> offsets,
                         std::span<const std::int64_t> key_lengths, std::size_t heads,
                         std::size_t head_dim, float* out) = 0;

  // y += x over n values.
  virtual void add(float* y, const float* x, std::size_t n) = 0;

  // One row per sequence: out[i * out_stride + c] for c < cols. x: [tokens, cols].
  virtual void pool(const float* x, std::size_t cols, std::span<const std::int64_t> offsets,
                    Pooling mode, float* out, std::size_t out_stride) = 0;

  // Each row divided by max(its L2 norm, 1e-12) (torch.nn.functional.normalize).
  virtual void l2_normalize_rows(float* x, std::size_t rows, std::size_t cols) = 0;
};

// The CPU backend: OpenBLAS GEMM, Highway kernels, OpenMP threads. num_threads 0 means
// rank_rerank::default_num_threads().
std::shared_ptr<Backend> make_cpu_backend(int num_threads = 0);

}  // namespace rank_rerank::backend
