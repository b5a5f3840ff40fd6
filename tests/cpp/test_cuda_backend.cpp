// The CUDA backend's ops against the CPU backend (whose kernels are tested against float64
// references in test_cpu_kernels.cpp) on fresh random inputs, in f32, f16 and bf16: linear layers
// with every activation, embeddings, residual LayerNorm, packed attention (tensor-core head sizes
// and the generic path, key lengths, sequences of 1 to 300 tokens), pooling, normalisation, row
// gathers and ColBERT scoring.
// Outputs are poisoned with NaN first, so an element the GPU never writes fails the comparison.
// Skips with the reason when no CUDA device is usable (CI).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "backend/backend.hpp"
#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::backend {
namespace {

#define SKIP_WITHOUT_CUDA()                                                           \
  do {                                                                                \
    const BackendStatus status = cuda_status();                                       \
    if (!status.usable()) GTEST_SKIP() << "no usable CUDA device: " << status.reason; \
  } while (0)

std::mt19937& rng() {
  static std::mt19937 engine{std::random_device{}()};
  return engine;
}

std::vector<float> random_values(std::size_t n, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng());
  return v;
}

// ||got - want|| / ||want||, NaN when any element is not finite.
double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  EXPECT_EQ(got.size(), want.size());
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (!std::isfinite(got[i])) return std::numeric_limits<double>::quiet_NaN();
    diff += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
    norm += double(want[i]) * want[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-300));
}

double tolerance(DType dtype) {
  switch (dtype) {
    case DType::f16:
      return 5e-3;
    case DType::bf16:
      return 3e-2;
    default:  // cuBLASLt's tanh-GELU epilogue lands near 2.5e-6
      return 1e-5;
  }
}

// Memory an op may write, pre-filled with NaN (uploaded parameters are device memory too).
Ptr poisoned(Backend& be, std::size_t n, std::vector<ConstBuffer>& keep) {
  keep.push_back(be.upload(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN())));
  return Ptr(const_cast<void*>(keep.back().data().get()), be.dtype());
}

std::vector<float> fetch(Backend& be, ConstPtr p, std::size_t n) {
  std::vector<float> out(n);
  be.download(p, n, out.data());
  return out;
}

class CudaOps : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_CUDA();
    gpu_ = make_cuda_backend(0, GetParam());
    ASSERT_EQ(gpu_->dtype(), GetParam());
  }
  std::shared_ptr<Backend> cpu_ = make_cpu_backend(1);
  std::shared_ptr<Backend> gpu_;
  std::vector<ConstBuffer> keep_;
};

TEST_P(CudaOps, UploadDownloadRoundTrip) {
  const std::vector<float> values = random_values(1001);
  const ConstBuffer b = gpu_->upload(values);
  EXPECT_EQ(b.size(), values.size());
  EXPECT_LE(relative_error(fetch(*gpu_, b.data(), values.size()), values),
            GetParam() == DType::f32 ? 0.0 : tolerance(GetParam()));
}

TEST_P(CudaOps, LinearWithEveryActivation) {
  struct Shape {
    std::size_t rows, in, out;
  };
  for (const Shape s : {Shape{1, 64, 48}, Shape{37, 96, 130}, Shape{300, 128, 256}})
    for (const bool with_bias : {true, false})
      for (const Activation act :
           {Activation::identity, Activation::gelu_erf, Activation::gelu_tanh, Activation::relu,
            Activation::tanh, Activation::sigmoid}) {
        const auto x = random_values(s.rows * s.in);
        const auto w = random_values(s.out * s.in, 1.0f / std::sqrt(float(s.in)));
        const auto b = random_values(s.out, 0.5f);
        std::vector<float> want(s.rows * s.out);
        {
          const ConstBuffer cx = cpu_->upload(x), cw = cpu_->upload(w), cb = cpu_->upload(b);
          cpu_->linear(cx.data(), s.rows, s.in, cw.data(), with_bias ? cb.data() : nullptr, s.out,
                       act, Ptr(want.data(), DType::f32));
        }
        const ConstBuffer gx = gpu_->upload(x), gw = gpu_->upload(w), gb = gpu_->upload(b);
        const Ptr y = poisoned(*gpu_, s.rows * s.out, keep_);
        gpu_->linear(gx.data(), s.rows, s.in, gw.data(), with_bias ? gb.data() : nullptr, s.out,
                     act, y);
        EXPECT_LE(relative_error(fetch(*gpu_, y, want.size()), want), tolerance(GetParam()))
            << activation_name(act) << " bias " << with_bias << " rows " << s.rows;
      }
}

// Row width 96 takes the vectorised warp-per-row kernels, 70 (not whole 16-byte vectors) the
// block-per-row ones.
class CudaRowWidths : public ::testing::TestWithParam<std::tuple<DType, std::size_t>> {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_CUDA();
    gpu_ = make_cuda_backend(0, std::get<0>(GetParam()));
  }
  std::shared_ptr<Backend> cpu_ = make_cpu_backend(1);
  std::shared_ptr<Backend> gpu_;
  std::vector<ConstBuffer> keep_;
};

TEST_P(CudaRowWidths, EmbeddingsAndResidualLayerNorm) {
  const DType dtype = std::get<0>(GetParam());
  const std::size_t hidden = std::get<1>(GetParam()), vocab = 50, positions = 40, types = 2;
  const auto word = random_values(vocab * hidden), pos = random_values(positions * hidden),
             type = random_values(types * hidden), gamma = random_values(hidden),
             beta = random_values(hidden);
  const std::vector<std::int64_t> offsets{0, 5, 6, 6, 30};
  std::vector<std::int32_t> ids(30), type_ids(30);
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(vocab) - 1);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = id(rng());
    type_ids[i] = static_cast<std::int32_t>(i % 2);
  }
  const TokenBatch batch{ids, type_ids, offsets};
  for (const bool with_types : {true, false})
    for (const std::size_t position_offset : {std::size_t{0}, std::size_t{2}}) {
      const auto tables = [&](Backend& be, std::vector<ConstBuffer>& k) {
        for (const auto* v : {&word, &pos, &type, &gamma, &beta}) k.push_back(be.upload(*v));
        return EmbeddingTables{k[0].data(), k[1].data(),    with_types ? k[2].data() : nullptr,
                               k[3].data(), k[4].data(),    hidden,
                               1e-12f,      position_offset};
      };
      std::vector<ConstBuffer> cpu_keep, gpu_keep;
      std::vector<float> want(ids.size() * hidden);
      cpu_->embed_layernorm(batch, tables(*cpu_, cpu_keep), Ptr(want.data(), DType::f32));
      const Ptr out = poisoned(*gpu_, want.size(), keep_);
      gpu_->embed_layernorm(batch, tables(*gpu_, gpu_keep), out);
      EXPECT_LE(relative_error(fetch(*gpu_, out, want.size()), want), tolerance(dtype))
          << "types " << with_types << " position_offset " << position_offset;

      // x = LayerNorm(x + residual) on the embeddings just computed.
      const auto residual = random_values(want.size());
      std::vector<float> x_cpu = want;
      const ConstBuffer r_cpu = cpu_->upload(residual), r_gpu = gpu_->upload(residual);
      cpu_->add_layernorm(Ptr(x_cpu.data(), DType::f32), r_cpu.data(), ids.size(), hidden,
                          cpu_keep[3].data(), cpu_keep[4].data(), 1e-5f);
      gpu_->add_layernorm(out, r_gpu.data(), ids.size(), hidden, gpu_keep[3].data(),
                          gpu_keep[4].data(), 1e-5f);
      EXPECT_LE(relative_error(fetch(*gpu_, out, want.size()), x_cpu), tolerance(dtype));
    }
}

INSTANTIATE_TEST_SUITE_P(DTypes, CudaRowWidths,
                         ::testing::Combine(::testing::Values(DType::f32, DType::f16, DType::bf16),
                                            ::testing::Values(std::size_t{96}, std::size_t{70})));

struct AttentionCase {
  std::size_t heads, head_dim;
  std::vector<std::int64_t> lengths;
  bool key_lengths;
};

TEST_P(CudaOps, PackedAttentionMatchesCpu) {
  const std::vector<AttentionCase> cases{
      {2, 32, {1, 17, 64, 65}, false},
      {3, 64, {63, 128, 200, 2}, true},
      {2, 128, {300, 5}, false},
      {12, 64, {128, 128, 128}, false},
      {3, 12, {7, 33, 70}, true},
      {2, 80, {40, 1}, false},
      {1, 64, {1}, false},
  };
  for (const AttentionCase& c : cases) {
    std::vector<std::int64_t> offsets{0}, key_lengths;
    for (std::int64_t len : c.lengths) {
      offsets.push_back(offsets.back() + len);
      if (c.key_lengths) key_lengths.push_back(std::max<std::int64_t>(1, len - len / 3));
    }
    const auto tokens = static_cast<std::size_t>(offsets.back());
    const std::size_t hidden = c.heads * c.head_dim;
    const auto qkv = random_values(tokens * 3 * hidden);
    std::vector<float> want(tokens * hidden);
    const ConstBuffer q_cpu = cpu_->upload(qkv);
    cpu_->attention(q_cpu.data(), offsets, key_lengths, c.heads, c.head_dim,
                    Ptr(want.data(), DType::f32));
    const ConstBuffer q_gpu = gpu_->upload(qkv);
    const Ptr out = poisoned(*gpu_, want.size(), keep_);
    gpu_->attention(q_gpu.data(), offsets, key_lengths, c.heads, c.head_dim, out);
    EXPECT_LE(relative_error(fetch(*gpu_, out, want.size()), want), tolerance(GetParam()))
        << "heads " << c.heads << " head_dim " << c.head_dim << " key_lengths " << c.key_lengths;
  }
}

TEST_P(CudaOps, PoolingNormalisationAndAdd) {
  const std::size_t cols = 70;
  const std::vector<std::int64_t> offsets{0, 3, 3, 4, 20};
  const auto x = random_values(20 * cols);
  const ConstBuffer x_cpu = cpu_->upload(x), x_gpu = gpu_->upload(x);
  for (const Pooling mode :
       {Pooling::cls, Pooling::mean, Pooling::max, Pooling::mean_sqrt_len, Pooling::last_token}) {
    const std::size_t stride = cols + 5;  // pooled rows side by side, as multi-mode pooling
    std::vector<float> want(4 * stride, 0.0f);
    cpu_->pool(x_cpu.data(), cols, offsets, mode, Ptr(want.data(), DType::f32), stride);
    const Ptr out = poisoned(*gpu_, 4 * stride, keep_);
    gpu_->pool(x_gpu.data(), cols, offsets, mode, out, stride);
    std::vector<float> got = fetch(*gpu_, out, want.size());
    for (std::size_t r = 0; r < 4; ++r)  // the gap columns stay NaN on the GPU: not compared
      for (std::size_t c = cols; c < stride; ++c) got[r * stride + c] = want[r * stride + c];
    EXPECT_LE(relative_error(got, want), tolerance(GetParam())) << static_cast<int>(mode);
  }
  std::vector<float> normalised = x;
  cpu_->l2_normalize_rows(Ptr(normalised.data(), DType::f32), 20, cols);
  const ConstBuffer copy = gpu_->upload(x);
  const Ptr z = Ptr(const_cast<void*>(copy.data().get()), gpu_->dtype());
  gpu_->l2_normalize_rows(z, 20, cols);
  EXPECT_LE(relative_error(fetch(*gpu_, z, x.size()), normalised), tolerance(GetParam()));
  gpu_->add(z, x_gpu.data(), x.size());
  std::vector<float> sum(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) sum[i] = normalised[i] + x[i];
  EXPECT_LE(relative_error(fetch(*gpu_, z, x.size()), sum), tolerance(GetParam()));
}

// copy_rows gathers scattered rows of a pass's output into a packed buffer (every destination row
// poisoned first) exactly; maxsim_candidates then scores the packed rows as the CPU backend does
// on the same (dtype-rounded) values: widths the GPU MaxSim kernels take and one they do not (20,
// scored on the host), a query without documents, an empty document. Unit rows, as ColBERT's.
TEST_P(CudaOps, CopyRowsThenMaxSimCandidatesMatchCpu) {
  const std::vector<std::int64_t> query_offsets{0, 5, 37, 38};
  const std::vector<std::int64_t> document_offsets{0, 7, 7, 10, 22, 23, 53};
  const std::vector<std::int64_t> candidate_offsets{0, 2, 2, 6};  // query 1: no documents
  const std::size_t source_rows = 80, packed_rows = 53;
  for (const std::size_t dim : {20, 32, 64, 96, 128}) {
    auto unit_rows = [&](std::size_t rows) {
      std::vector<float> v = random_values(rows * dim);
      cpu_->l2_normalize_rows(Ptr(v.data(), DType::f32), rows, dim);
      return v;
    };
    const ConstBuffer queries = gpu_->upload(unit_rows(38));
    const ConstBuffer source = gpu_->upload(unit_rows(source_rows));
    // Rows 0, 3, 6, ... of the source, packed in reverse order.
    std::vector<std::int64_t> from(packed_rows), to(packed_rows);
    for (std::size_t i = 0; i < packed_rows; ++i) {
      from[i] = static_cast<std::int64_t>((3 * i) % source_rows);
      to[i] = static_cast<std::int64_t>(packed_rows - 1 - i);
    }
    const Ptr packed = poisoned(*gpu_, packed_rows * dim, keep_);
    gpu_->copy_rows(source.data(), from, packed, to, dim);

    const std::vector<float> host_queries = fetch(*gpu_, queries.data(), 38 * dim);
    const std::vector<float> host_source = fetch(*gpu_, source.data(), source_rows * dim);
    std::vector<float> want_packed(packed_rows * dim);
    cpu_->copy_rows(host_source.data(), from, Ptr(want_packed.data(), DType::f32), to, dim);
    EXPECT_EQ(fetch(*gpu_, packed, want_packed.size()), want_packed) << "dim " << dim;

    const std::vector<float> want =
        cpu_->maxsim_candidates(host_queries.data(), query_offsets, want_packed.data(),
                                document_offsets, candidate_offsets, dim);
    const std::vector<float> got = gpu_->maxsim_candidates(
        queries.data(), query_offsets, packed, document_offsets, candidate_offsets, dim);
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(got[1], 0.0f) << "empty document, dim " << dim;
    const double limit = GetParam() == DType::f32 ? 1e-5 : 1e-2;
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], limit * std::max(1.0f, std::abs(want[i])))
          << "document " << i << ", dim " << dim;
  }
}

TEST_P(CudaOps, OpTimingCountsEachOpOnce) {
  const std::size_t rows = 64, in = 32, out = 48;
  const ConstBuffer x = gpu_->upload(random_values(rows * in)),
                    w = gpu_->upload(random_values(out * in)), b = gpu_->upload(random_values(out));
  const Buffer y = gpu_->allocate(rows * out);
  EXPECT_TRUE(gpu_->take_op_times().empty());
  gpu_->set_op_timing(true);
  gpu_->linear(x.data(), rows, in, w.data(), b.data(), out, Activation::gelu_erf, y.data());
  gpu_->l2_normalize_rows(y.data(), rows, out);
  gpu_->l2_normalize_rows(y.data(), rows, out);
  const std::vector<OpTime> times = gpu_->take_op_times();
  gpu_->set_op_timing(false);
  std::size_t calls = 0;
  for (const OpTime& t : times) {
    EXPECT_GT(t.milliseconds, 0.0) << t.op;
    calls += t.calls;
    if (t.op == "l2_normalize_rows") {
      EXPECT_EQ(t.calls, 2u);
    }
  }
  // GEMM, the bias + GELU pass (f16: in the GEMM's epilogue), two normalisations.
  EXPECT_EQ(calls, GetParam() == DType::f16 ? 3u : 4u);
  gpu_->l2_normalize_rows(y.data(), rows, out);
  EXPECT_TRUE(gpu_->take_op_times().empty());
}

INSTANTIATE_TEST_SUITE_P(DTypes, CudaOps, ::testing::Values(DType::f32, DType::f16, DType::bf16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(CudaBackendSelection, UnusableOrWrongRequestsThrow) {
  EXPECT_THROW(make_backend(Device::cpu(), DType::f16), Error);
  EXPECT_THROW(make_backend(Device::cpu(), DType::i8), Error);
  EXPECT_THROW(make_backend(Device::cuda(1000), DType::f32), Error);
  EXPECT_EQ(make_backend(Device::cpu(), DType::f32)->name(), "cpu");
  if (!cuda_status().usable()) {
    EXPECT_THROW(make_backend(Device::cuda(0), DType::f32), Error);
    EXPECT_THROW(make_cuda_backend(0, DType::f16), Error);
  } else {
    EXPECT_EQ(make_backend(Device::cuda(0), DType::bf16)->name(), "cuda");
    EXPECT_THROW(make_cuda_backend(0, DType::bit), Error);
  }
}

}  // namespace
}  // namespace rank_rerank::backend
