// The CUDA backend: every op of backend.hpp on one stream of one device, in f32, f16 or bf16.
// Linear layers go to cuBLASLt (encoder_gemm), ColBERT scoring to the GPU MaxSim kernels
// (maxsim_candidates.cpp), the rest to our kernels (encoder_kernels.cu, encoder_attention.cu,
// copy_rows.cu). Ops only enqueue work; download(), maxsim_candidates() and synchronize() are the
// points that wait.
//
// Small host inputs (ids, offsets, attention tiles) are staged through pinned memory; offsets and
// the attention work list are cached, since every layer of a forward pass asks for the same ones.
//
// run_repeatable records small forward passes as CUDA Graphs (graph_recording.hpp): the first
// time a shape is seen the pass runs eagerly and its memory use is measured; the second time it
// is captured into a graph over its own arena; from then on the ops only stage their host inputs
// ("replay" mode: no device calls) and one graph launch does the device work. This removes the
// ~85 launches and the host work between them that dominate small batches.
#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/device_memory.hpp"
#include "backend/cuda/encoder_gemm.hpp"
#include "backend/cuda/encoder_kernels.hpp"
#include "backend/cuda/graph_recording.hpp"
#include "backend/cuda/maxsim_candidates.hpp"
#include "backend/cuda/op_timer.hpp"
#include "backend/op_totals.hpp"
#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/gpu_maxsim.hpp"
#include "rank_rerank/threading.hpp"

namespace rank_rerank::backend {
namespace {

using cuda::ActivationCode;
using cuda::DeviceContext;
using cuda::Element;
using cuda::GraphRecording;

static_assert(static_cast<int>(Activation::sigmoid) == static_cast<int>(ActivationCode::sigmoid));
static_assert(static_cast<int>(Activation::gelu_tanh) ==
              static_cast<int>(ActivationCode::gelu_tanh));
static_assert(static_cast<int>(Pooling::last_token) ==
              static_cast<int>(cuda::PoolingCode::last_token));

Element element_of(DType dtype) {
  switch (dtype) {
    case DType::f16:
      return Element::f16;
    case DType::bf16:
      return Element::bf16;
    default:
      return Element::f32;
  }
}

// Which part of linear() cuBLASLt's epilogue takes; the rest runs as one bias + activation pass.
//
// Exact-erf GELU in f16 goes to cuBLASLt's GELU epilogue, which computes the tanh form: the two
// differ by at most 4.8e-4 (at x = -2.70), under half an f16 ulp at 1, and the separate pass it
// replaces read and wrote the 4x-wide intermediate once more (15% of a BERT-base forward on an
// H100; net gain 0.9 ms of 13). The f16 model tests against transformers' exact GELU stay inside
// their 1e-2 tolerance (docs/models.md). bf16 keeps the exact pass: its fixture errors already sit
// near their 2e-2 tolerance. f32, whose tolerance is 1e-4, keeps it too.
struct LinearPlan {
  cuda::GemmEpilogue epilogue;
  bool separate_pass;
};
LinearPlan plan_linear(Activation activation, bool has_bias, Element element) {
  using cuda::GemmEpilogue;
  if (activation == Activation::gelu_erf && element == Element::f16)
    activation = Activation::gelu_tanh;
  switch (activation) {
    case Activation::identity:
      return {has_bias ? GemmEpilogue::bias : GemmEpilogue::none, false};
    case Activation::relu:
      return {has_bias ? GemmEpilogue::bias_relu : GemmEpilogue::relu, false};
    case Activation::gelu_tanh:
      return {has_bias ? GemmEpilogue::bias_gelu_tanh : GemmEpilogue::gelu_tanh, false};
    default:
      return {GemmEpilogue::none, true};
  }
}

// Forward passes of at most this many tokens are recorded as CUDA Graphs: above it the launches
// are a small share of the time and each recording's arena would hold much memory.
constexpr std::size_t kGraphMaxTokens = 2048;
// Recordings kept (with their arenas) and shapes remembered; all are dropped past either.
constexpr std::size_t kGraphMaxBytes = std::size_t{512} << 20;
constexpr std::size_t kGraphMaxShapes = 256;

std::size_t round256(std::size_t bytes) { return (bytes + 255) / 256 * 256; }

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, DType dtype, int num_threads)
      : context_(std::make_shared<DeviceContext>(device)),
        dtype_(dtype),
        element_(element_of(dtype)),
        threads_(num_threads),
        gemm_(context_, element_),
        timer_(context_->stream()) {}

  ~CudaBackend() override {
    // Recordings free pinned memory and graphs: only once the stream has drained.
    cudaStreamSynchronize(context_->stream());
  }

  std::string_view name() const noexcept override { return "cuda"; }
  int num_threads() const noexcept override { return threads_; }
  DType dtype() const noexcept override { return dtype_; }

  Buffer allocate(std::size_t size) override {
    std::lock_guard lock(mutex_);
    select();
    const std::size_t bytes = size * element_bytes(dtype_);
    if (mode_ != Mode::eager) return Buffer(active_->recording->device(bytes), size, dtype_);
    measured_bytes_ += round256(bytes);
    return Buffer(DeviceContext::allocate(context_, bytes), size, dtype_);
  }

  ConstBuffer upload(const WeightTensor& tensor, const Weights&) override {
    return upload(tensor.to_f32());
  }

  ConstBuffer upload(std::vector<float> values) override {
    std::lock_guard lock(mutex_);
    select();
    const std::size_t n = values.size();
    std::shared_ptr<void> target = DeviceContext::allocate(context_, n * element_bytes(dtype_));
    if (n > 0) {
      cudaStream_t stream = context_->stream();
      if (element_ == Element::f32) {
        cuda::check(cudaMemcpyAsync(target.get(), values.data(), n * sizeof(float),
                                    cudaMemcpyHostToDevice, stream),
                    "upload parameters");
      } else {
        std::shared_ptr<void> wide = DeviceContext::allocate(context_, n * sizeof(float));
        cuda::check(cudaMemcpyAsync(wide.get(), values.data(), n * sizeof(float),
                                    cudaMemcpyHostToDevice, stream),
                    "upload parameters");
        cuda::convert_from_f32(element_, stream, static_cast<const float*>(wide.get()), n,
                               target.get());
        cuda::check_launch("convert parameters");
      }
      // `values` is pageable host memory that dies with this call: wait for the copy.
      context_->synchronize();
    }
    const void* address = target.get();
    return ConstBuffer(address, n, dtype_, std::move(target));
  }

  void download(ConstPtr source, std::size_t size, float* destination) override {
    std::lock_guard lock(mutex_);
    select();
    if (mode_ != Mode::eager)
      throw Error(ErrorKind::runtime, "CUDA backend: download while recording");
    if (size == 0) return;
    cudaStream_t stream = context_->stream();
    std::shared_ptr<void> wide;
    const void* from = source.get();
    if (element_ != Element::f32) {
      wide = DeviceContext::allocate(context_, size * sizeof(float));
      cuda::convert_to_f32(element_, stream, source.get(), size, static_cast<float*>(wide.get()));
      cuda::check_launch("convert for download");
      from = wide.get();
    }
    void* staged = context_->stage(size * sizeof(float));
    cuda::check(cudaMemcpyAsync(staged, from, size * sizeof(float), cudaMemcpyDeviceToHost, stream),
                "copy to host");
    cuda::check(cudaStreamSynchronize(stream), "download");
    std::memcpy(destination, staged, size * sizeof(float));
    context_->rewind();
  }

  DeviceMemory memory_usage() const override { return context_->memory_usage(); }

  void embed_layernorm(const TokenBatch& batch, const EmbeddingTables& t, Ptr out) override {
    std::lock_guard lock(mutex_);
    select();
    const std::size_t n = batch.tokens();
    if (n == 0) return;
    // ids, type ids and position ids side by side in one staged copy.
    std::vector<std::int32_t> host(3 * n);
    std::copy(batch.ids.begin(), batch.ids.end(), host.begin());
    std::copy(batch.type_ids.begin(), batch.type_ids.end(),
              host.begin() + static_cast<std::ptrdiff_t>(n));
    for (std::size_t s = 0; s < batch.sequences(); ++s)
      for (auto i = batch.offsets[s]; i < batch.offsets[s + 1]; ++i)
        host[2 * n + static_cast<std::size_t>(i)] = static_cast<std::int32_t>(
            i - batch.offsets[s] + static_cast<std::int64_t>(t.position_offset));
    const std::shared_ptr<void> ids = to_device(std::span<const std::int32_t>(host));
    if (mode_ == Mode::replay) return;
    const auto* base = static_cast<const std::int32_t*>(ids.get());
    const auto span = timer_.time([&] { return shape_label("embed_layernorm", n, t.hidden); });
    cuda::embed_layernorm(element_, context_->stream(), base, base + n, base + 2 * n, t.word.get(),
                          t.position.get(), t.token_type.get(), t.gamma.get(), t.beta.get(), n,
                          t.hidden, t.eps, out.get());
    cuda::check_launch("embed_layernorm");
  }

  void linear(ConstPtr x, std::size_t rows, std::size_t in, ConstPtr weight, ConstPtr bias,
              std::size_t out, Activation activation, Ptr y) override {
    std::lock_guard lock(mutex_);
    select();
    if (rows == 0 || out == 0 || mode_ == Mode::replay) return;
    const LinearPlan plan = plan_linear(activation, static_cast<bool>(bias), element_);
    {
      const auto span = timer_.time([&] {
        return shape_label("linear", in, out) + " " +
               (plan.separate_pass ? "gemm"
                                   : std::string(activation_name(activation)) + " epilogue");
      });
      gemm_.linear(x.get(), rows, in, weight.get(), plan.separate_pass ? nullptr : bias.get(), out,
                   plan.epilogue, y.get());
    }
    if (plan.separate_pass) {
      const auto span = timer_.time([&] {
        return "bias+" + std::string(activation_name(activation)) + " x" + std::to_string(out);
      });
      cuda::bias_activation(element_, context_->stream(), y.get(), bias.get(), rows, out,
                            static_cast<ActivationCode>(activation));
      cuda::check_launch("bias_activation");
    }
  }

  void add_layernorm(Ptr x, ConstPtr residual, std::size_t rows, std::size_t cols, ConstPtr gamma,
                     ConstPtr beta, float eps) override {
    std::lock_guard lock(mutex_);
    select();
    if (mode_ == Mode::replay) return;
    const auto span = timer_.time([&] { return shape_label("add_layernorm", rows, cols); });
    cuda::add_layernorm(element_, context_->stream(), x.get(), residual.get(), gamma.get(),
                        beta.get(), rows, cols, eps);
    cuda::check_launch("add_layernorm");
  }

  void attention(ConstPtr qkv, std::span<const std::int64_t> offsets,
                 std::span<const std::int64_t> key_lengths, std::size_t heads, std::size_t head_dim,
                 Ptr out) override {
    std::lock_guard lock(mutex_);
    select();
    if (offsets.size() < 2 || heads == 0 || mode_ == Mode::replay) return;
    if (head_dim > cuda::kMaxHeadDim)
      throw_unsupported("CUDA attention: head_dim " + std::to_string(head_dim) +
                        " is larger than " + std::to_string(cuda::kMaxHeadDim));
    const bool tensor_cores =
        cuda::attention_uses_tensor_cores(element_, head_dim, heads * head_dim, qkv.get());
    const std::size_t tile_rows = cuda::attention_tile_rows(tensor_cores);
    const Sequences& s = sequences(offsets, key_lengths, tile_rows);
    cuda::AttentionArgs args;
    args.qkv = qkv.get();
    args.out = out.get();
    args.offsets = static_cast<const std::int64_t*>(s.offsets.get());
    args.key_lengths = static_cast<const std::int64_t*>(s.key_lengths.get());
    args.tiles = static_cast<const cuda::AttentionTile*>(s.tiles.get());
    args.tile_count = s.tile_count;
    args.heads = heads;
    args.head_dim = head_dim;
    const auto span = timer_.time([&] {
      return "attention " + std::to_string(heads) + "x" + std::to_string(head_dim) +
             (tensor_cores ? " mma" : " rows");
    });
    cuda::attention(element_, context_->stream(), args);
    cuda::check_launch("attention");
  }

  void add(Ptr y, ConstPtr x, std::size_t n) override {
    std::lock_guard lock(mutex_);
    select();
    if (mode_ == Mode::replay) return;
    const auto span = timer_.time([&] { return std::string("add"); });
    cuda::add(element_, context_->stream(), y.get(), x.get(), n);
    cuda::check_launch("add");
  }

  void pool(ConstPtr x, std::size_t cols, std::span<const std::int64_t> offsets, Pooling mode,
            Ptr out, std::size_t out_stride) override {
    std::lock_guard lock(mutex_);
    select();
    if (offsets.size() < 2 || mode_ == Mode::replay) return;
    const Sequences& s = sequences(offsets, {}, 0);
    const auto span = timer_.time([&] { return std::string("pool"); });
    cuda::pool(element_, context_->stream(), x.get(), cols,
               static_cast<const std::int64_t*>(s.offsets.get()), offsets.size() - 1,
               static_cast<cuda::PoolingCode>(mode), out.get(), out_stride);
    cuda::check_launch("pool");
  }

  void l2_normalize_rows(Ptr x, std::size_t rows, std::size_t cols) override {
    std::lock_guard lock(mutex_);
    select();
    if (mode_ == Mode::replay) return;
    const auto span = timer_.time([&] { return std::string("l2_normalize_rows"); });
    cuda::l2_normalize_rows(element_, context_->stream(), x.get(), rows, cols);
    cuda::check_launch("l2_normalize_rows");
  }

  void copy_rows(ConstPtr source, std::span<const std::int64_t> from, Ptr destination,
                 std::span<const std::int64_t> to, std::size_t cols) override {
    std::lock_guard lock(mutex_);
    select();
    if (from.empty()) return;
    // Both index lists in one copy.
    std::vector<std::int64_t> pairs(from.begin(), from.end());
    pairs.insert(pairs.end(), to.begin(), to.end());
    const std::shared_ptr<void> indices = to_device(std::span<const std::int64_t>(pairs));
    if (mode_ == Mode::replay) return;
    const auto* base = static_cast<const std::int64_t*>(indices.get());
    const auto span = timer_.time([&] { return std::string("copy_rows"); });
    cuda::copy_rows(context_->stream(), source.get(), base, destination.get(), base + from.size(),
                    from.size(), cols * element_bytes(dtype_));
    cuda::check_launch("copy_rows");
  }

  std::vector<float> maxsim_candidates(ConstPtr queries,
                                       std::span<const std::int64_t> query_offsets,
                                       ConstPtr documents,
                                       std::span<const std::int64_t> document_offsets,
                                       std::span<const std::int64_t> candidate_offsets,
                                       std::size_t dim) override {
    std::lock_guard lock(mutex_);
    select();
    if (mode_ != Mode::eager)
      throw Error(ErrorKind::runtime, "CUDA backend: maxsim_candidates while recording");
    if (!gpu::supports_dim(dim)) {
      // The fused kernels have no tile for this width: the rows are scored on the host.
      std::vector<float> q(static_cast<std::size_t>(query_offsets.back()) * dim);
      std::vector<float> d(static_cast<std::size_t>(document_offsets.back()) * dim);
      download(queries, q.size(), q.data());
      download(documents, d.size(), d.data());
      return host_maxsim_candidates(q.data(), query_offsets, d.data(), document_offsets,
                                    candidate_offsets, dim, threads_);
    }
    const auto span = timer_.time([&] { return "maxsim_candidates " + std::to_string(dim); });
    return cuda::device_maxsim_candidates(context_, dtype_, queries.get(), query_offsets,
                                          documents.get(), document_offsets, candidate_offsets,
                                          dim);
  }

  void synchronize() override {
    std::lock_guard lock(mutex_);
    select();
    if (mode_ != Mode::eager)
      throw Error(ErrorKind::runtime, "CUDA backend: synchronize while recording");
    context_->synchronize();
  }

  Buffer run_repeatable(std::uint64_t owner, const TokenBatch& batch,
                        const std::function<Buffer()>& forward) override {
    std::lock_guard lock(mutex_);
    if (mode_ != Mode::eager || timer_.enabled() || batch.tokens() == 0 ||
        batch.tokens() > kGraphMaxTokens)
      return forward();
    select();
    std::vector<std::int64_t> key{static_cast<std::int64_t>(owner),
                                  static_cast<std::int64_t>(batch.offsets.size())};
    key.insert(key.end(), batch.offsets.begin(), batch.offsets.end());
    key.insert(key.end(), batch.key_lengths.begin(), batch.key_lengths.end());
    auto found = shapes_.find(key);
    if (found == shapes_.end()) {
      if (shapes_.size() >= kGraphMaxShapes) forget_recordings();
      found = shapes_.emplace(std::move(key), Shape{}).first;
    }
    Shape& shape = found->second;
    if (shape.unrecordable) return forward();
    if (!shape.recording) {
      if (shape.device_bytes == 0) {
        // First sight: run eagerly, measuring the memory a recording needs.
        measured_bytes_ = 0;
        Buffer out = forward();
        shape.device_bytes = measured_bytes_;
        return out;
      }
      if (!record(shape, batch, forward)) return forward();
    } else {
      replay(shape, forward);
    }
    GraphRecording& r = *shape.recording;
    r.launch(context_->stream());
    std::shared_ptr<void> out = DeviceContext::allocate(context_, r.output_bytes());
    cuda::check(cudaMemcpyAsync(out.get(), r.output(), r.output_bytes(), cudaMemcpyDeviceToDevice,
                                context_->stream()),
                "copy graph output");
    return Buffer(std::move(out), r.output_bytes() / element_bytes(dtype_), dtype_);
  }

  void set_op_timing(bool enabled) override {
    std::lock_guard lock(mutex_);
    timer_.set_enabled(enabled);
  }

  std::vector<OpTime> take_op_times() override {
    std::lock_guard lock(mutex_);
    select();
    return timer_.take();
  }

 private:
  enum class Mode : std::uint8_t { eager, record, replay };

  // Device copies of a batch's offsets, key lengths and attention work list.
  struct Sequences {
    std::vector<std::int64_t> host_offsets, host_key_lengths;
    std::size_t tile_rows = 0;
    std::shared_ptr<void> offsets, key_lengths, tiles;
    std::size_t tile_count = 0;
  };

  // A batch shape seen by run_repeatable: its measured memory, then its recording.
  struct Shape {
    std::size_t device_bytes = 0;
    bool unrecordable = false;
    std::unique_ptr<GraphRecording> recording;
    Sequences sequences;  // what the recording's attention reads
  };

  // Captures `forward` into shape's recording; false (and the shape marked unrecordable) when
  // capture fails, after which the caller runs it eagerly.
  bool record(Shape& shape, const TokenBatch& batch, const std::function<Buffer()>& forward) {
    const std::size_t n = batch.tokens();
    const std::size_t sequences = batch.sequences();
    // Staged inputs: ids + type ids + positions, offsets, key lengths, one attention tile per
    // token at most; the arena adds the same for their device copies.
    const std::size_t inputs = round256(3 * n * sizeof(std::int32_t)) +
                               round256((sequences + 1) * sizeof(std::int64_t)) +
                               round256(sequences * sizeof(std::int64_t)) +
                               round256(n * sizeof(cuda::AttentionTile)) + 1024;
    std::size_t held = 0;
    for (const auto& [k, s] : shapes_) held += s.recording ? s.recording->device_bytes() : 0;
    if (held + shape.device_bytes + inputs > kGraphMaxBytes) forget_recordings();
    cudaStream_t stream = context_->stream();
    try {
      shape.recording =
          std::make_unique<GraphRecording>(context_, shape.device_bytes + inputs, inputs);
      shape.sequences = Sequences{};
      active_ = &shape;
      mode_ = Mode::record;
      cuda::check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal),
                  "cudaStreamBeginCapture");
      Buffer out;
      try {
        out = forward();
      } catch (...) {
        cudaGraph_t partial = nullptr;
        cudaStreamEndCapture(stream, &partial);
        if (partial != nullptr) cudaGraphDestroy(partial);
        throw;
      }
      cudaGraph_t graph = nullptr;
      cuda::check(cudaStreamEndCapture(stream, &graph), "cudaStreamEndCapture");
      mode_ = Mode::eager;
      active_ = nullptr;
      shape.recording->instantiate(graph);
      shape.recording->set_output(out.data().get(), out.size() * element_bytes(dtype_));
      return true;
    } catch (const std::exception&) {
      cudaGetLastError();
      mode_ = Mode::eager;
      active_ = nullptr;
      shape.recording.reset();
      shape.unrecordable = true;
      return false;
    }
  }

  // Re-runs the host side of `forward` so its inputs land in the recording's slots.
  void replay(Shape& shape, const std::function<Buffer()>& forward) {
    shape.recording->begin_replay();
    active_ = &shape;
    mode_ = Mode::replay;
    try {
      forward();
    } catch (...) {
      mode_ = Mode::eager;
      active_ = nullptr;
      throw;
    }
    mode_ = Mode::eager;
    active_ = nullptr;
  }

  void forget_recordings() {
    context_->synchronize();
    shapes_.clear();
  }

  // A host array copied to the device: through the pinned staging arena, or, while recording,
  // through the recording's own input slot and arena (a replay only refills the slot).
  template <typename T>
  std::shared_ptr<void> to_device(std::span<const T> values) {
    const std::size_t bytes = values.size_bytes();
    if (mode_ == Mode::replay) {
      std::memcpy(active_->recording->replay_input(bytes), values.data(), bytes);
      return nullptr;
    }
    std::shared_ptr<void> device;
    void* staged = nullptr;
    if (mode_ == Mode::record) {
      device = active_->recording->device(bytes);
      staged = active_->recording->record_input(bytes);
    } else {
      measured_bytes_ += round256(bytes);
      device = DeviceContext::allocate(context_, bytes);
      if (bytes == 0) return device;
      staged = context_->stage(bytes);
    }
    if (bytes == 0) return device;
    std::memcpy(staged, values.data(), bytes);
    cuda::check(
        cudaMemcpyAsync(device.get(), staged, bytes, cudaMemcpyHostToDevice, context_->stream()),
        "copy to device");
    return device;
  }

  // The cached entry for these offsets (uploading them when they changed). tile_rows 0: no
  // attention work list needed. While recording, the recording's own entry.
  const Sequences& sequences(std::span<const std::int64_t> offsets,
                             std::span<const std::int64_t> key_lengths, std::size_t tile_rows) {
    Sequences& s = mode_ == Mode::eager ? cached_ : active_->sequences;
    const bool same_offsets = s.offsets && std::ranges::equal(s.host_offsets, offsets);
    if (!same_offsets) {
      s = Sequences{};
      s.host_offsets.assign(offsets.begin(), offsets.end());
      s.offsets = to_device(offsets);
    }
    if (tile_rows == 0) return s;
    if (!s.tiles || s.tile_rows != tile_rows) {
      std::vector<cuda::AttentionTile> tiles;
      for (std::size_t q = 0; q + 1 < offsets.size(); ++q)
        for (std::int64_t row = 0; row < offsets[q + 1] - offsets[q];
             row += static_cast<std::int64_t>(tile_rows))
          tiles.push_back({static_cast<std::int32_t>(q), static_cast<std::int32_t>(row)});
      s.tile_rows = tile_rows;
      s.tile_count = tiles.size();
      s.tiles = to_device(std::span<const cuda::AttentionTile>(tiles));
    }
    if (!std::ranges::equal(s.host_key_lengths, key_lengths)) {
      s.host_key_lengths.assign(key_lengths.begin(), key_lengths.end());
      s.key_lengths = key_lengths.empty() ? nullptr : to_device(key_lengths);
    }
    return s;
  }

  void select() { cuda::check(cudaSetDevice(context_->device()), "cudaSetDevice"); }

  std::shared_ptr<DeviceContext> context_;
  DType dtype_;
  Element element_;
  int threads_;
  cuda::LtGemm gemm_;
  cuda::OpTimer timer_;
  Sequences cached_;
  // Held for a whole run_repeatable, whose ops lock it again.
  std::recursive_mutex mutex_;
  Mode mode_ = Mode::eager;
  Shape* active_ = nullptr;         // the shape being recorded or replayed
  std::size_t measured_bytes_ = 0;  // device bytes allocated since run_repeatable reset it
  std::map<std::vector<std::int64_t>, Shape> shapes_;
};

}  // namespace

std::shared_ptr<Backend> make_cuda_backend(int index, DType dtype, int num_threads) {
  const BackendStatus status = cuda_status();
  if (!status.usable()) throw_unsupported("CUDA backend: " + status.reason);
  if (index < 0 || index >= status.device_count)
    throw_unsupported("CUDA backend: cuda:" + std::to_string(index) + " does not exist (" +
                      std::to_string(status.device_count) + " device(s) visible)");
  if (dtype != DType::f32 && dtype != DType::f16 && dtype != DType::bf16)
    throw_invalid("CUDA backend: dtype must be float32, float16 or bfloat16, found " +
                  std::string(dtype_name(dtype)));
  const int threads =
      num_threads > 0 ? num_threads : static_cast<int>(rank_rerank::default_num_threads());
  return std::make_shared<CudaBackend>(index, dtype, threads);
}

}  // namespace rank_rerank::backend
