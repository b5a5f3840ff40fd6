// The op set every model is written against. A model graph (src/model/) calls these ops and
// nothing else; each backend (cpu/, later cuda/) implements them once.
//
// Data layout: variable-length sequences are packed back to back. A batch of n sequences is one
// row-major matrix [total_tokens, cols] plus offsets[n + 1] (cu_seqlens): sequence i owns rows
// [offsets[i], offsets[i + 1]). No op ever touches padding, because there is none.
//
// Pointers passed to ops (Ptr / ConstPtr: an address plus the backend's compute dtype) point into
// backend memory (host memory for the CPU backend). Token ids and offsets are small and always
// passed as host spans; a device backend copies them itself.
// Ops trust their arguments: the model validates ids, shapes and lengths before calling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "rank_rerank/device.hpp"
#include "rank_rerank/tensor.hpp"
#include "rank_rerank/weights.hpp"

namespace rank_rerank::backend {

// Element-wise functions applied after a linear layer.
enum class Activation : std::uint8_t {
  identity,
  gelu_erf,   // x * Phi(x), exact (transformers "gelu"); the CUDA backend's f16 linear layers
              // compute it in the tanh form (|difference| <= 4.8e-4, see cuda_backend.cpp)
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

// Element type of activations and parameters in a backend's memory: its compute dtype. The CUDA
// backend computes in f32, f16 or bf16 (with f32 accumulation and f32 LayerNorm / softmax
// statistics); the CPU backend in f32 or bf16, where bf16 applies to the linear layers only
// (bf16 weights and rounded activations, f32 accumulation) and its memory stays f32 (see
// cpu/bf16_linear.hpp). Only f32, f16 and bf16 are compute dtypes.
std::size_t element_bytes(DType dtype) noexcept;

// A typed address in backend memory (device memory for a GPU backend): arithmetic counts
// elements of the dtype, so model code can offset into a buffer without knowing its width.
template <typename Void>
class BasicPtr {
 public:
  BasicPtr() = default;
  BasicPtr(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): "no bias" reads naturally
  BasicPtr(Void* address, DType dtype) : address_(address), dtype_(dtype) {}
  // Plain f32 memory (the CPU backend's, host arrays in tests) converts implicitly.
  template <typename Float>
  BasicPtr(Float* address)  // NOLINT(google-explicit-constructor)
      requires(std::is_same_v<std::remove_const_t<Float>, float> &&
               (std::is_const_v<Void> || !std::is_const_v<Float>))
      : address_(address), dtype_(DType::f32) {}
  template <typename Other>
  BasicPtr(const BasicPtr<Other>& other)  // NOLINT(google-explicit-constructor): mutable -> const
      requires(std::is_const_v<Void> && !std::is_const_v<Other>)
      : address_(other.get()), dtype_(other.dtype()) {}

  Void* get() const noexcept { return address_; }
  DType dtype() const noexcept { return dtype_; }
  explicit operator bool() const noexcept { return address_ != nullptr; }
  BasicPtr operator+(std::size_t elements) const noexcept {
    using Byte = std::conditional_t<std::is_const_v<Void>, const std::byte, std::byte>;
    return {static_cast<Byte*>(address_) + elements * element_bytes(dtype_), dtype_};
  }

 private:
  Void* address_ = nullptr;
  DType dtype_ = DType::f32;
};
using Ptr = BasicPtr<void>;
using ConstPtr = BasicPtr<const void>;

// Writable memory owned by a backend: `size` elements of `dtype`.
class Buffer {
 public:
  Buffer() = default;
  Buffer(std::shared_ptr<void> memory, std::size_t size, DType dtype)
      : memory_(std::move(memory)), size_(size), dtype_(dtype) {}
  Ptr data() const noexcept { return {memory_.get(), dtype_}; }
  std::size_t size() const noexcept { return size_; }
  DType dtype() const noexcept { return dtype_; }

 private:
  std::shared_ptr<void> memory_;
  std::size_t size_ = 0;
  DType dtype_ = DType::f32;
};

// Read-only memory in a backend's space: model parameters. May alias a memory-mapped checkpoint,
// which `keep_alive` then keeps open.
class ConstBuffer {
 public:
  ConstBuffer() = default;
  ConstBuffer(const void* data, std::size_t size, DType dtype,
              std::shared_ptr<const void> keep_alive)
      : keep_alive_(std::move(keep_alive)), data_(data), size_(size), dtype_(dtype) {}
  ConstPtr data() const noexcept { return data_ == nullptr ? ConstPtr() : ConstPtr(data_, dtype_); }
  std::size_t size() const noexcept { return size_; }
  DType dtype() const noexcept { return dtype_; }

 private:
  std::shared_ptr<const void> keep_alive_;
  const void* data_ = nullptr;
  std::size_t size_ = 0;
  DType dtype_ = DType::f32;
};

// Thrown by a device backend when its memory runs out. The model layer catches it, splits the
// batch and retries (see model/batching.hpp); only a single sequence that cannot fit becomes an
// Error.
class DeviceOutOfMemory : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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
// Position ids are the index within the sequence plus position_offset (RoBERTa-style tables
// start after the padding index).
struct EmbeddingTables {
  ConstPtr word;        // [vocab, hidden]
  ConstPtr position;    // [max_positions, hidden]
  ConstPtr token_type;  // [type_vocab, hidden], or null: no token-type term
  ConstPtr gamma;       // [hidden]
  ConstPtr beta;        // [hidden]
  std::size_t hidden = 0;
  float eps = 1e-12f;
  // Position ids start here: token i of a sequence reads position row position_offset + i
  // (RoBERTa / XLM-R: padding_idx + 1).
  std::size_t position_offset = 0;
};

// Device time of one kind of op (its name with the shape that matters), summed over `calls`.
struct OpTime {
  std::string op;
  std::size_t calls = 0;
  double milliseconds = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const noexcept = 0;
  // Host threads the backend (and tokenization beside it) may use.
  virtual int num_threads() const noexcept = 0;
  virtual DType dtype() const noexcept = 0;

  // Uninitialised memory for `size` elements of dtype(). A device backend throws
  // DeviceOutOfMemory when even its cache cannot supply it.
  virtual Buffer allocate(std::size_t size) = 0;
  // A parameter tensor in backend memory, converted to dtype(). The CPU backend uses f32 tensors
  // in place (the Weights object is kept alive).
  virtual ConstBuffer upload(const WeightTensor& tensor, const Weights& owner) = 0;
  // Host values moved into backend memory (e.g. fused projections assembled at load time).
  virtual ConstBuffer upload(std::vector<float> values) = 0;
  // The weight [out, in] of a linear layer, read by linear() alone: a backend may keep it in a
  // layout and precision of its own (the CPU backend in bf16 packs it for its bf16 kernels).
  // From a checkpoint tensor, or from host values (e.g. a fused projection).
  virtual ConstBuffer upload_linear_weight(const WeightTensor& tensor, const Weights& owner) {
    return upload(tensor, owner);
  }
  virtual ConstBuffer upload_linear_weight(std::vector<float> values, std::size_t out,
                                           std::size_t in) {
    (void)out;
    (void)in;
    return upload(std::move(values));
  }
  // `size` elements from backend memory to host memory, converted to f32. Waits for the
  // backend's queued work.
  virtual void download(ConstPtr source, std::size_t size, float* destination) = 0;

  // Device memory this backend holds: its pool's live allocations (parameters, workspaces,
  // activations of a pass in flight) and what the pool keeps from the driver. Zeros on the CPU.
  virtual DeviceMemory memory_usage() const { return {}; }

  // out[t] = LayerNorm(word[ids[t]] + position[position_offset + t - offsets[seq]]
  //                   + token_type[type_ids[t]]).
  // out: [tokens, hidden].
  virtual void embed_layernorm(const TokenBatch& batch, const EmbeddingTables& tables, Ptr out) = 0;

  // y = act(x W^T + bias): x [rows, in], weight [out, in] (the torch Linear layout, from
  // upload_linear_weight or plain parameter memory), bias [out] or null, y [rows, out].
  virtual void linear(ConstPtr x, std::size_t rows, std::size_t in, ConstPtr weight, ConstPtr bias,
                      std::size_t out, Activation activation, Ptr y) = 0;

  // x = LayerNorm(x + residual) row by row; x, residual [rows, cols].
  virtual void add_layernorm(Ptr x, ConstPtr residual, std::size_t rows, std::size_t cols,
                             ConstPtr gamma, ConstPtr beta, float eps) = 0;

  // Multi-head self-attention within each packed sequence (bidirectional). Every token of
  // sequence s attends to the first key_lengths[s] tokens of s (all of them when key_lengths is
  // empty). qkv: [tokens, 3 * heads * head_dim], the query, key and value projections side by
  // side, each head a contiguous block of head_dim columns. out: [tokens, heads * head_dim].
  // Scores are scaled by 1 / sqrt(head_dim).
  virtual void attention(ConstPtr qkv, std::span<const std::int64_t> offsets,
                         std::span<const std::int64_t> key_lengths, std::size_t heads,
                         std::size_t head_dim, Ptr out) = 0;

  // y += x over n values.
  virtual void add(Ptr y, ConstPtr x, std::size_t n) = 0;

  // One row per sequence: out[i * out_stride + c] for c < cols. x: [tokens, cols].
  virtual void pool(ConstPtr x, std::size_t cols, std::span<const std::int64_t> offsets,
                    Pooling mode, Ptr out, std::size_t out_stride) = 0;

  // Each row divided by max(its L2 norm, 1e-12) (torch.nn.functional.normalize).
  virtual void l2_normalize_rows(Ptr x, std::size_t rows, std::size_t cols) = 0;

  // destination row to[i] = source row from[i] for every i, rows of `cols` elements: gathers the
  // rows worth keeping (ColBERT drops skiplist tokens) from a pass's output into a packed buffer.
  virtual void copy_rows(ConstPtr source, std::span<const std::int64_t> from, Ptr destination,
                         std::span<const std::int64_t> to, std::size_t cols) = 0;

  // Late interaction (ColBERT MaxSim, dot product) of packed queries against packed documents,
  // both in backend memory with `dim` columns; text i is rows [offsets[i], offsets[i + 1]). The
  // documents come query by query: query q scores documents [candidate_offsets[q],
  // candidate_offsets[q + 1]), and candidate_offsets runs from 0 to the number of documents.
  // Every query has a row; an empty document scores 0. Returns one score per document in host
  // memory, the same numbers as rank_rerank::maxsim_candidates over the downloaded rows (within
  // the compute dtype's rounding). Only the scores leave the device. Waits for queued work.
  virtual std::vector<float> maxsim_candidates(ConstPtr queries,
                                               std::span<const std::int64_t> query_offsets,
                                               ConstPtr documents,
                                               std::span<const std::int64_t> document_offsets,
                                               std::span<const std::int64_t> candidate_offsets,
                                               std::size_t dim) = 0;

  // Waits for the work queued so far (ops never need it for correctness; callers use it to time
  // device work they did not download).
  virtual void synchronize() {}

  // Runs `forward`, a sequence of this backend's ops on `batch` that returns its output buffer.
  // A device backend may record the ops the second time it sees a batch of the same shape
  // (offsets and key lengths; the ids may differ) from the same `owner` (one id per model, see
  // new_owner_id) and replay the recording afterwards, e.g. as one CUDA Graph launch instead of
  // one launch per op. The result is the same either way. Ops called from other threads
  // meanwhile wait.
  virtual Buffer run_repeatable(std::uint64_t owner, const TokenBatch& batch,
                                const std::function<Buffer()>& forward) {
    (void)owner;
    (void)batch;
    return forward();
  }

  // Per-op device timing for profiling (bench_gpu_forward --profile): while on, every op is timed
  // on its own (nothing is replayed). Backends that cannot time ops ignore it.
  virtual void set_op_timing(bool enabled) { (void)enabled; }
  // The times gathered since the last call (waits for queued work), largest first; empty when
  // the backend does not time ops.
  virtual std::vector<OpTime> take_op_times() { return {}; }
};

// Backend::maxsim_candidates over f32 rows in host memory: the CPU backend's op, and what a
// device backend falls back to for widths its kernels do not take. num_threads 0: the default.
std::vector<float> host_maxsim_candidates(const float* queries,
                                          std::span<const std::int64_t> query_offsets,
                                          const float* documents,
                                          std::span<const std::int64_t> document_offsets,
                                          std::span<const std::int64_t> candidate_offsets,
                                          std::size_t dim, int num_threads);

// A process-wide unique id for run_repeatable's `owner` (never reused, unlike addresses).
std::uint64_t new_owner_id() noexcept;

// The CPU backend: OpenBLAS GEMM, Highway kernels, OpenMP threads; computing in f32 or bf16
// (linear layers on the kernel bf16_kernel_from_environment() picks, see cpu/bf16_linear.hpp).
// num_threads 0 means rank_rerank::default_num_threads().
std::shared_ptr<Backend> make_cpu_backend(int num_threads = 0, DType dtype = DType::f32);

// The CUDA backend on device `index` computing in `dtype` (f32, f16 or bf16), with one stream,
// cuBLASLt GEMMs and a caching allocator. num_threads is for host work beside it (0: default).
// Throws Error (unsupported) when the build has no CUDA or the device is unusable.
std::shared_ptr<Backend> make_cuda_backend(int index, DType dtype, int num_threads = 0);

// A backend for `device` computing in `dtype`. The CPU computes in f32 or bf16: f16 on the CPU
// throws Error (unsupported). Throws for devices that are unusable (require_usable).
std::shared_ptr<Backend> make_backend(const Device& device, DType dtype, int num_threads = 0);

}  // namespace rank_rerank::backend
