// The CUDA backend: every op of backend.hpp on one stream of one device, in f32, f16 or bf16.
// Linear layers go to cuBLASLt (encoder_gemm), the rest to our kernels (encoder_kernels.cu,
// encoder_attention.cu). Ops only enqueue work; download() is the one point that waits.
//
// Small host inputs (ids, offsets, attention tiles) are staged through pinned memory; offsets and
// the attention work list are cached, since every layer of a forward pass asks for the same ones.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "backend/backend.hpp"
#include "backend/cuda/cuda_check.hpp"
#include "backend/cuda/device_memory.hpp"
#include "backend/cuda/encoder_gemm.hpp"
#include "backend/cuda/encoder_kernels.hpp"
#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/threading.hpp"

namespace rank_rerank::backend {
namespace {

using cuda::ActivationCode;
using cuda::DeviceContext;
using cuda::Element;

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
struct LinearPlan {
  cuda::GemmEpilogue epilogue;
  bool separate_pass;
};
LinearPlan plan_linear(Activation activation, bool has_bias) {
  using cuda::GemmEpilogue;
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

// A host array copied to the device through the pinned staging arena.
template <typename T>
std::shared_ptr<void> upload_small(const std::shared_ptr<DeviceContext>& context,
                                   std::span<const T> values) {
  const std::size_t bytes = values.size_bytes();
  std::shared_ptr<void> device = DeviceContext::allocate(context, bytes);
  if (bytes == 0) return device;
  void* staged = context->stage(bytes);
  std::memcpy(staged, values.data(), bytes);
  cuda::check(
      cudaMemcpyAsync(device.get(), staged, bytes, cudaMemcpyHostToDevice, context->stream()),
      "copy to device");
  return device;
}

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, DType dtype, int num_threads)
      : context_(std::make_shared<DeviceContext>(device)),
        dtype_(dtype),
        element_(element_of(dtype)),
        threads_(num_threads),
        gemm_(context_, element_) {}

  std::string_view name() const noexcept override { return "cuda"; }
  int num_threads() const noexcept override { return threads_; }
  DType dtype() const noexcept override { return dtype_; }

  Buffer allocate(std::size_t size) override {
    std::lock_guard lock(mutex_);
    select();
    return Buffer(DeviceContext::allocate(context_, size * element_bytes(dtype_)), size, dtype_);
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
    const std::shared_ptr<void> ids = upload_small(context_, std::span<const std::int32_t>(host));
    const auto* base = static_cast<const std::int32_t*>(ids.get());
    cuda::embed_layernorm(element_, context_->stream(), base, base + n, base + 2 * n, t.word.get(),
                          t.position.get(), t.token_type.get(), t.gamma.get(), t.beta.get(), n,
                          t.hidden, t.eps, out.get());
    cuda::check_launch("embed_layernorm");
  }

  void linear(ConstPtr x, std::size_t rows, std::size_t in, ConstPtr weight, ConstPtr bias,
              std::size_t out, Activation activation, Ptr y) override {
    std::lock_guard lock(mutex_);
    select();
    if (rows == 0 || out == 0) return;
    const LinearPlan plan = plan_linear(activation, static_cast<bool>(bias));
    gemm_.linear(x.get(), rows, in, weight.get(), plan.separate_pass ? nullptr : bias.get(), out,
                 plan.epilogue, y.get());
    if (plan.separate_pass) {
      cuda::bias_activation(element_, context_->stream(), y.get(), bias.get(), rows, out,
                            static_cast<ActivationCode>(activation));
      cuda::check_launch("bias_activation");
    }
  }

  void add_layernorm(Ptr x, ConstPtr residual, std::size_t rows, std::size_t cols, ConstPtr gamma,
                     ConstPtr beta, float eps) override {
    std::lock_guard lock(mutex_);
    select();
    cuda::add_layernorm(element_, context_->stream(), x.get(), residual.get(), gamma.get(),
                        beta.get(), rows, cols, eps);
    cuda::check_launch("add_layernorm");
  }

  void attention(ConstPtr qkv, std::span<const std::int64_t> offsets,
                 std::span<const std::int64_t> key_lengths, std::size_t heads, std::size_t head_dim,
                 Ptr out) override {
    std::lock_guard lock(mutex_);
    select();
    if (offsets.size() < 2 || heads == 0) return;
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
    cuda::attention(element_, context_->stream(), args);
    cuda::check_launch("attention");
  }

  void add(Ptr y, ConstPtr x, std::size_t n) override {
    std::lock_guard lock(mutex_);
    select();
    cuda::add(element_, context_->stream(), y.get(), x.get(), n);
    cuda::check_launch("add");
  }

  void pool(ConstPtr x, std::size_t cols, std::span<const std::int64_t> offsets, Pooling mode,
            Ptr out, std::size_t out_stride) override {
    std::lock_guard lock(mutex_);
    select();
    if (offsets.size() < 2) return;
    const Sequences& s = sequences(offsets, {}, 0);
    cuda::pool(element_, context_->stream(), x.get(), cols,
               static_cast<const std::int64_t*>(s.offsets.get()), offsets.size() - 1,
               static_cast<cuda::PoolingCode>(mode), out.get(), out_stride);
    cuda::check_launch("pool");
  }

  void l2_normalize_rows(Ptr x, std::size_t rows, std::size_t cols) override {
    std::lock_guard lock(mutex_);
    select();
    cuda::l2_normalize_rows(element_, context_->stream(), x.get(), rows, cols);
    cuda::check_launch("l2_normalize_rows");
  }

 private:
  // Device copies of a batch's offsets, key lengths and attention work list.
  struct Sequences {
    std::vector<std::int64_t> host_offsets, host_key_lengths;
    std::size_t tile_rows = 0;
    std::shared_ptr<void> offsets, key_lengths, tiles;
    std::size_t tile_count = 0;
  };

  // The cached entry for these offsets (uploading them when they changed). tile_rows 0: no
  // attention work list needed.
  const Sequences& sequences(std::span<const std::int64_t> offsets,
                             std::span<const std::int64_t> key_lengths, std::size_t tile_rows) {
    Sequences& s = cached_;
    const bool same_offsets = std::ranges::equal(s.host_offsets, offsets);
    if (!same_offsets) {
      s = Sequences{};
      s.host_offsets.assign(offsets.begin(), offsets.end());
      s.offsets = upload_small(context_, offsets);
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
      s.tiles = upload_small(context_, std::span<const cuda::AttentionTile>(tiles));
    }
    if (!std::ranges::equal(s.host_key_lengths, key_lengths)) {
      s.host_key_lengths.assign(key_lengths.begin(), key_lengths.end());
      s.key_lengths = key_lengths.empty() ? nullptr : upload_small(context_, key_lengths);
    }
    return s;
  }

  void select() { cuda::check(cudaSetDevice(context_->device()), "cudaSetDevice"); }

  std::shared_ptr<DeviceContext> context_;
  DType dtype_;
  Element element_;
  int threads_;
  cuda::LtGemm gemm_;
  Sequences cached_;
  std::mutex mutex_;
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
