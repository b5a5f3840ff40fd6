// The CPU backend: GEMMs through CBLAS (OpenBLAS), row kernels through Highway, threads through
// OpenMP.
//
// Threading: every op opens one OpenMP team and gives each thread its own block of rows (or, for
// short inputs, of output columns); each thread calls a single-threaded sgemm on its block and
// finishes it with the bias / activation pass while the block is still in cache. OpenBLAS is
// therefore pinned to one thread per call: its own pthreads pool spinning beside the OpenMP team
// would oversubscribe the cores.
//
// In bf16 the backend's memory is still float32 everywhere; only linear layers change: their
// weights are uploaded as packed bf16 (a ConstPtr of dtype bf16 marks them) and each thread's
// block runs linear_bf16 instead of sgemm, or, where the CPU has no bf16 kernel, the weights are
// rounded to bf16 and decoded back to float32 for sgemm (bf16_linear.hpp).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "backend/backend.hpp"
#include "backend/cpu/bf16_linear.hpp"
#include "backend/cpu/block_pool.hpp"
#include "backend/cpu/cpu_kernels.hpp"
#include "backend/cpu/op_clock.hpp"
#include "rank_rerank/cpu_blas.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/quantize.hpp"
#include "rank_rerank/threading.hpp"

namespace rank_rerank::backend {
namespace {

float* f32(Ptr p) noexcept { return static_cast<float*>(p.get()); }
const float* f32(ConstPtr p) noexcept { return static_cast<const float*>(p.get()); }

// [begin, end) of part `index` of `count` near-equal parts of n, rounded to multiples of `step`.
std::pair<std::size_t, std::size_t> block_of(std::size_t n, std::size_t count, std::size_t index,
                                             std::size_t step) {
  const std::size_t units = (n + step - 1) / step;
  const std::size_t begin = units * index / count * step;
  const std::size_t end = units * (index + 1) / count * step;
  return {std::min(begin, n), std::min(end, n)};
}

class CpuBackend final : public Backend {
 public:
  CpuBackend(int num_threads, DType dtype)
      : threads_(num_threads),
        dtype_(dtype),
        bf16_kernel_(dtype == DType::bf16 ? cpu::bf16_kernel_from_environment()
                                          : cpu::Bf16Kernel::decoded_f32) {
    static std::once_flag blas_set_up;
    std::call_once(blas_set_up, [] {
      openblas_set_num_threads(1);
      const CpuBlasStatus blas = cpu_blas_status();
      if (blas.generic())
        std::fprintf(stderr,
                     "rank_rerank: OpenBLAS runs its generic '%s' kernels on a CPU that takes its "
                     "'%s' ones (this OpenBLAS does not know the CPU model); the CPU encoder is "
                     "about 4x slower. Set OPENBLAS_CORETYPE=%s before the process starts.\n",
                     blas.core.c_str(), blas.recommended.c_str(), blas.recommended.c_str());
    });
  }

  std::string_view name() const noexcept override { return "cpu"; }
  int num_threads() const noexcept override { return threads_; }
  DType dtype() const noexcept override { return dtype_; }

  Buffer allocate(std::size_t size) override { return Buffer(pool_->take(size), size, DType::f32); }

  ConstBuffer upload(const WeightTensor& tensor, const Weights& owner) override {
    if (tensor.dtype == WeightDType::f32) {
      const std::span<const float> values = tensor.f32();
      return ConstBuffer(values.data(), values.size(), DType::f32,
                         std::make_shared<Weights>(owner));
    }
    return upload(tensor.to_f32());
  }

  ConstBuffer upload(std::vector<float> values) override {
    auto owned = std::make_shared<std::vector<float>>(std::move(values));
    return ConstBuffer(owned->data(), owned->size(), DType::f32, owned);
  }

  ConstBuffer upload_linear_weight(const WeightTensor& tensor, const Weights& owner) override {
    if (dtype_ != DType::bf16) return upload(tensor, owner);
    const std::vector<float> values = tensor.to_f32();
    return bf16_weight(values, static_cast<std::size_t>(tensor.shape.at(0)),
                       static_cast<std::size_t>(tensor.shape.at(1)));
  }

  ConstBuffer upload_linear_weight(std::vector<float> values, std::size_t out,
                                   std::size_t in) override {
    if (dtype_ != DType::bf16) return upload(std::move(values));
    return bf16_weight(values, out, in);
  }

  void download(ConstPtr source, std::size_t size, float* destination) override {
    if (size > 0) std::memcpy(destination, source.get(), size * sizeof(float));
  }

  void embed_layernorm(const TokenBatch& batch, const EmbeddingTables& t, Ptr out_ptr) override {
    const auto span =
        clock_.time([&] { return shape_label("embed_layernorm", batch.tokens(), t.hidden); });
    float* out = f32(out_ptr);
    const std::size_t n = batch.tokens();
    const std::size_t h = t.hidden;
    std::vector<std::int32_t> positions(n);
    for (std::size_t s = 0; s < batch.sequences(); ++s)
      for (auto i = batch.offsets[s]; i < batch.offsets[s + 1]; ++i)
        positions[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(
            i - batch.offsets[s] + static_cast<std::int64_t>(t.position_offset));
#pragma omp parallel num_threads(threads_)
    {
      const auto [begin, end] = block_of(n, static_cast<std::size_t>(omp_get_num_threads()),
                                         static_cast<std::size_t>(omp_get_thread_num()), 1);
      for (std::size_t i = begin; i < end; ++i) {
        float* row = out + i * h;
        const float* word = f32(t.word) + static_cast<std::size_t>(batch.ids[i]) * h;
        const float* position = f32(t.position) + static_cast<std::size_t>(positions[i]) * h;
        for (std::size_t c = 0; c < h; ++c) row[c] = word[c] + position[c];
        if (t.token_type) {
          const float* type = f32(t.token_type) + static_cast<std::size_t>(batch.type_ids[i]) * h;
          for (std::size_t c = 0; c < h; ++c) row[c] += type[c];
        }
      }
      if (begin < end)
        cpu::layernorm_rows(out + begin * h, nullptr, end - begin, h, f32(t.gamma), f32(t.beta),
                            t.eps);
    }
  }

  void linear(ConstPtr x_ptr, std::size_t rows, std::size_t in, ConstPtr weight_ptr,
              ConstPtr bias_ptr, std::size_t out, Activation activation, Ptr y_ptr) override {
    const float* x = f32(x_ptr);
    const float* bias = f32(bias_ptr);
    float* y = f32(y_ptr);
    if (rows == 0 || out == 0) return;
    const bool packed = weight_ptr.dtype() == DType::bf16;
    const auto span = clock_.time([&] {
      return shape_label("linear", in, out) + " " + std::string(activation_name(activation)) +
             (packed ? " bf16" : " f32");
    });
    const auto threads = static_cast<std::size_t>(threads_);
    // Row blocks keep each thread's sgemm large; with few rows, split the output columns. The
    // bf16 kernels take rows 32 at a time (two AMX tiles).
    const bool by_rows = rows >= 32 * threads;
    const std::size_t row_step = packed ? 32 : 8;
#pragma omp parallel num_threads(threads_)
    {
      const auto team = static_cast<std::size_t>(omp_get_num_threads());
      const auto me = static_cast<std::size_t>(omp_get_thread_num());
      const auto [r0, r1] =
          by_rows ? block_of(rows, team, me, row_step) : std::pair{std::size_t{0}, rows};
      const auto [c0, c1] = by_rows ? std::pair{std::size_t{0}, out} : block_of(out, team, me, 16);
      if (r0 < r1 && c0 < c1) {
        float* block = y + r0 * out + c0;
        if (packed) {
          cpu::linear_bf16(bf16_kernel_, x + r0 * in, r1 - r0, in,
                           static_cast<const std::uint16_t*>(weight_ptr.get()), c0, c1, block, out,
                           bias, activation);
        } else {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(r1 - r0),
                      static_cast<int>(c1 - c0), static_cast<int>(in), 1.0f, x + r0 * in,
                      static_cast<int>(in), f32(weight_ptr) + c0 * in, static_cast<int>(in), 0.0f,
                      block, static_cast<int>(out));
          cpu::bias_activation(block, r1 - r0, c1 - c0, out, bias == nullptr ? nullptr : bias + c0,
                               activation);
        }
      }
    }
  }

  void add_layernorm(Ptr x_ptr, ConstPtr residual_ptr, std::size_t rows, std::size_t cols,
                     ConstPtr gamma, ConstPtr beta, float eps) override {
    const auto span = clock_.time([&] { return shape_label("add_layernorm", rows, cols); });
    float* x = f32(x_ptr);
    const float* residual = f32(residual_ptr);
#pragma omp parallel num_threads(threads_)
    {
      const auto [begin, end] = block_of(rows, static_cast<std::size_t>(omp_get_num_threads()),
                                         static_cast<std::size_t>(omp_get_thread_num()), 1);
      if (begin < end)
        cpu::layernorm_rows(x + begin * cols, residual + begin * cols, end - begin, cols,
                            f32(gamma), f32(beta), eps);
    }
  }

  void attention(ConstPtr qkv_ptr, std::span<const std::int64_t> offsets,
                 std::span<const std::int64_t> key_lengths, std::size_t heads, std::size_t head_dim,
                 Ptr out_ptr) override {
    const float* qkv = f32(qkv_ptr);
    float* out = f32(out_ptr);
    if (offsets.size() < 2) return;
    const std::size_t sequences = offsets.size() - 1;
    const auto span = clock_.time([&] { return shape_label("attention", heads, head_dim); });
    const std::size_t hidden = heads * head_dim;
    const auto ld_qkv = static_cast<int>(3 * hidden);
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    // Longest sequences first, so the dynamic schedule does not end on one long straggler.
    std::vector<std::size_t> order(sequences);
    for (std::size_t s = 0; s < sequences; ++s) order[s] = s;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return offsets[a + 1] - offsets[a] > offsets[b + 1] - offsets[b];
    });
    const auto work = static_cast<std::int64_t>(sequences * heads);
#pragma omp parallel num_threads(threads_)
    {
      std::vector<float> scores;
#pragma omp for schedule(dynamic, 1)
      for (std::int64_t job = 0; job < work; ++job) {
        const std::size_t s = order[static_cast<std::size_t>(job) / heads];
        const std::size_t h = static_cast<std::size_t>(job) % heads;
        const auto start = static_cast<std::size_t>(offsets[s]);
        const auto len = static_cast<std::size_t>(offsets[s + 1]) - start;
        if (len == 0) continue;
        const std::size_t keys =
            key_lengths.empty() ? len : static_cast<std::size_t>(key_lengths[s]);
        scores.resize(len * keys);
        const float* q = qkv + start * 3 * hidden + h * head_dim;
        const float* k = q + hidden;
        const float* v = q + 2 * hidden;
        const int n = static_cast<int>(len);
        const int nk = static_cast<int>(keys);
        const int dh = static_cast<int>(head_dim);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, nk, dh, scale, q, ld_qkv, k, ld_qkv,
                    0.0f, scores.data(), nk);
        cpu::softmax_rows(scores.data(), len, keys, keys);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, dh, nk, 1.0f, scores.data(), nk,
                    v, ld_qkv, 0.0f, out + start * hidden + h * head_dim, static_cast<int>(hidden));
      }
    }
  }

  void add(Ptr y_ptr, ConstPtr x_ptr, std::size_t n) override {
    const auto span = clock_.time([&] { return std::string("add"); });
    float* y = f32(y_ptr);
    const float* x = f32(x_ptr);
    const auto count = static_cast<std::int64_t>(n);
#pragma omp parallel for num_threads(threads_) schedule(static)
    for (std::int64_t i = 0; i < count; ++i) y[i] += x[i];
  }

  void pool(ConstPtr x_ptr, std::size_t cols, std::span<const std::int64_t> offsets, Pooling mode,
            Ptr out_ptr, std::size_t out_stride) override {
    const auto span = clock_.time([&] { return std::string("pool"); });
    const float* x = f32(x_ptr);
    float* out = f32(out_ptr);
    if (offsets.size() < 2) return;
    const auto sequences = static_cast<std::int64_t>(offsets.size() - 1);
#pragma omp parallel for num_threads(threads_) schedule(static)
    for (std::int64_t s = 0; s < sequences; ++s) {
      const auto begin = static_cast<std::size_t>(offsets[static_cast<std::size_t>(s)]);
      const auto end = static_cast<std::size_t>(offsets[static_cast<std::size_t>(s) + 1]);
      float* dst = out + static_cast<std::size_t>(s) * out_stride;
      if (begin == end) {
        std::fill(dst, dst + cols, 0.0f);
        continue;
      }
      switch (mode) {
        case Pooling::cls:
          std::copy(x + begin * cols, x + (begin + 1) * cols, dst);
          break;
        case Pooling::last_token:
          std::copy(x + (end - 1) * cols, x + end * cols, dst);
          break;
        case Pooling::max:
          std::copy(x + begin * cols, x + (begin + 1) * cols, dst);
          for (std::size_t t = begin + 1; t < end; ++t)
            for (std::size_t c = 0; c < cols; ++c) dst[c] = std::max(dst[c], x[t * cols + c]);
          break;
        case Pooling::mean:
        case Pooling::mean_sqrt_len: {
          std::fill(dst, dst + cols, 0.0f);
          for (std::size_t t = begin; t < end; ++t)
            for (std::size_t c = 0; c < cols; ++c) dst[c] += x[t * cols + c];
          const auto count = static_cast<float>(end - begin);
          const float divisor = mode == Pooling::mean ? count : std::sqrt(count);
          for (std::size_t c = 0; c < cols; ++c) dst[c] /= divisor;
          break;
        }
      }
    }
  }

  void l2_normalize_rows(Ptr x_ptr, std::size_t rows, std::size_t cols) override {
    const auto span = clock_.time([&] { return std::string("l2_normalize_rows"); });
    float* x = f32(x_ptr);
#pragma omp parallel num_threads(threads_)
    {
      const auto [begin, end] = block_of(rows, static_cast<std::size_t>(omp_get_num_threads()),
                                         static_cast<std::size_t>(omp_get_thread_num()), 1);
      if (begin < end) cpu::l2_normalize_rows(x + begin * cols, end - begin, cols);
    }
  }

  void copy_rows(ConstPtr source, std::span<const std::int64_t> from, Ptr destination,
                 std::span<const std::int64_t> to, std::size_t cols) override {
    const auto span = clock_.time([&] { return std::string("copy_rows"); });
    for (std::size_t i = 0; i < from.size(); ++i)
      std::memcpy(f32(destination) + static_cast<std::size_t>(to[i]) * cols,
                  f32(source) + static_cast<std::size_t>(from[i]) * cols, cols * sizeof(float));
  }

  std::vector<float> maxsim_candidates(ConstPtr queries,
                                       std::span<const std::int64_t> query_offsets,
                                       ConstPtr documents,
                                       std::span<const std::int64_t> document_offsets,
                                       std::span<const std::int64_t> candidate_offsets,
                                       std::size_t dim) override {
    return host_maxsim_candidates(f32(queries), query_offsets, f32(documents), document_offsets,
                                  candidate_offsets, dim, threads_);
  }

  void set_op_timing(bool enabled) override { clock_.set_enabled(enabled); }
  std::vector<OpTime> take_op_times() override { return clock_.take(); }

 private:
  // A linear weight [out, in] in bf16: packed for the bf16 kernel, or (without one) rounded and
  // decoded back to float32 for sgemm.
  ConstBuffer bf16_weight(const std::vector<float>& values, std::size_t out, std::size_t in) {
    if (bf16_kernel_ == cpu::Bf16Kernel::decoded_f32) {
      std::vector<float> decoded(values.size());
      for (std::size_t i = 0; i < values.size(); ++i)
        decoded[i] = bf16_to_float(float_to_bf16(values[i]));
      return upload(std::move(decoded));
    }
    auto packed =
        std::make_shared<std::vector<std::uint16_t>>(cpu::pack_bf16_weight(values.data(), out, in));
    return ConstBuffer(packed->data(), packed->size(), DType::bf16, packed);
  }

  int threads_;
  DType dtype_;
  cpu::Bf16Kernel bf16_kernel_;
  cpu::OpClock clock_;
  std::shared_ptr<cpu::BlockPool> pool_ = cpu::BlockPool::make();
};

}  // namespace

std::shared_ptr<Backend> make_cpu_backend(int num_threads, DType dtype) {
  if (dtype != DType::f32 && dtype != DType::bf16)
    throw_unsupported("the CPU backend computes in float32 or bfloat16; " +
                      std::string(dtype_name(dtype)) + " needs a CUDA device");
  const int threads =
      num_threads > 0 ? num_threads : static_cast<int>(rank_rerank::default_num_threads());
  return std::make_shared<CpuBackend>(threads, dtype);
}

}  // namespace rank_rerank::backend
