// CPU backend row kernels on every SIMD target this CPU runs, against float64 scalar formulas,
// for row lengths around the vector widths (so both the full-vector loop and the staged tail
// are exercised); and the backend's linear / attention / pooling ops against float64 loops.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/backend.hpp"
#include "backend/cpu/block_pool.hpp"
#include "backend/cpu/cpu_kernels.hpp"
#include "random_values.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::backend {
namespace {

template <class Check>
void for_each_target(Check&& check) {
  for (const std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    check();
  }
  hwy::SetSupportedTargetsForTest(0);
}

using test_support::random_values;

double reference_activation(double x, Activation a) {
  switch (a) {
    case Activation::identity:
      return x;
    case Activation::gelu_erf:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Activation::gelu_tanh:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::relu:
      return std::max(x, 0.0);
    case Activation::tanh:
      return std::tanh(x);
    case Activation::sigmoid:
      return 1.0 / (1.0 + std::exp(-x));
  }
  return 0.0;
}

const std::vector<std::size_t> kWidths{1, 3, 7, 8, 15, 16, 17, 31, 36, 50, 64, 384};

TEST(CpuKernels, BiasActivationMatchesFloat64Formulas) {
  for_each_target([] {
    for (Activation act : {Activation::identity, Activation::gelu_erf, Activation::gelu_tanh,
                           Activation::relu, Activation::tanh, Activation::sigmoid}) {
      for (std::size_t cols : kWidths) {
        const std::size_t rows = 3, ld = cols + 5;
        std::vector<float> y = random_values(rows * ld, 3.0f, static_cast<unsigned>(cols));
        // Include extremes the approximations must survive.
        y[0] = -30.0f;
        if (cols > 1) y[1] = 30.0f;
        const std::vector<float> bias = random_values(cols, 1.0f, 7);
        const std::vector<float> before = y;
        cpu::bias_activation(y.data(), rows, cols, ld, bias.data(), act);
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t c = 0; c < ld; ++c) {
            const std::size_t i = r * ld + c;
            if (c >= cols) {
              ASSERT_EQ(y[i], before[i]) << "wrote past the row, col " << c;
              continue;
            }
            const double want = reference_activation(double(before[i]) + bias[c], act);
            ASSERT_NEAR(y[i], want, 2e-6 * std::max(1.0, std::abs(want)))
                << activation_name(act) << " cols " << cols << " x " << before[i] + bias[c];
          }
      }
    }
  });
}

TEST(CpuKernels, LayerNormMatchesFloat64) {
  for_each_target([] {
    for (std::size_t cols : kWidths) {
      const std::size_t rows = 4;
      std::vector<float> x = random_values(rows * cols, 2.0f, 11);
      for (float& v : x) v += 5.0f;  // an offset mean, as in real hidden states
      const std::vector<float> residual = random_values(rows * cols, 1.0f, 12);
      const std::vector<float> gamma = random_values(cols, 1.0f, 13);
      const std::vector<float> beta = random_values(cols, 1.0f, 14);
      for (bool with_residual : {false, true}) {
        std::vector<float> y = x;
        cpu::layernorm_rows(y.data(), with_residual ? residual.data() : nullptr, rows, cols,
                            gamma.data(), beta.data(), 1e-5f);
        for (std::size_t r = 0; r < rows; ++r) {
          std::vector<double> v(cols);
          double mean = 0, var = 0;
          for (std::size_t c = 0; c < cols; ++c) {
            v[c] = x[r * cols + c] + (with_residual ? residual[r * cols + c] : 0.0);
            mean += v[c];
          }
          mean /= double(cols);
          for (double e : v) var += (e - mean) * (e - mean);
          var /= double(cols);
          for (std::size_t c = 0; c < cols; ++c) {
            const double want = (v[c] - mean) / std::sqrt(var + 1e-5) * gamma[c] + beta[c];
            ASSERT_NEAR(y[r * cols + c], want, 1e-5 * std::max(1.0, std::abs(want)))
                << "cols " << cols << " residual " << with_residual;
          }
        }
      }
    }
  });
}

TEST(CpuKernels, SoftmaxAndNormalizeMatchFloat64) {
  for_each_target([] {
    for (std::size_t cols : kWidths) {
      const std::size_t rows = 3, ld = cols + 2;
      std::vector<float> s = random_values(rows * ld, 4.0f, 21);
      const std::vector<float> before = s;
      cpu::softmax_rows(s.data(), rows, cols, ld);
      for (std::size_t r = 0; r < rows; ++r) {
        double top = -INFINITY, sum = 0;
        for (std::size_t c = 0; c < cols; ++c) top = std::max(top, double(before[r * ld + c]));
        for (std::size_t c = 0; c < cols; ++c) sum += std::exp(before[r * ld + c] - top);
        for (std::size_t c = 0; c < cols; ++c)
          ASSERT_NEAR(s[r * ld + c], std::exp(before[r * ld + c] - top) / sum, 1e-6);
        for (std::size_t c = cols; c < ld; ++c) ASSERT_EQ(s[r * ld + c], before[r * ld + c]);
      }
      std::vector<float> x = random_values(rows * cols, 3.0f, 22);
      const std::vector<float> raw = x;
      cpu::l2_normalize_rows(x.data(), rows, cols);
      for (std::size_t r = 0; r < rows; ++r) {
        double norm = 0;
        for (std::size_t c = 0; c < cols; ++c)
          norm += double(raw[r * cols + c]) * raw[r * cols + c];
        norm = std::sqrt(norm);
        for (std::size_t c = 0; c < cols; ++c)
          ASSERT_NEAR(x[r * cols + c], raw[r * cols + c] / norm, 1e-6);
      }
    }
  });
  std::vector<float> zeros(5, 0.0f);
  cpu::l2_normalize_rows(zeros.data(), 1, 5);
  for (float v : zeros) EXPECT_EQ(v, 0.0f);
}

class CpuBackendOps : public ::testing::TestWithParam<int> {};

TEST_P(CpuBackendOps, LinearMatchesFloat64ForRowAndColumnSplits) {
  const auto be = make_cpu_backend(GetParam());
  // 3 rows split by columns, 300 rows split by rows.
  for (std::size_t rows : {std::size_t{3}, std::size_t{300}}) {
    const std::size_t in = 37, out = 45;
    const std::vector<float> x = random_values(rows * in, 1.0f, 31);
    const std::vector<float> w = random_values(out * in, 0.3f, 32);
    const std::vector<float> b = random_values(out, 1.0f, 33);
    std::vector<float> y(rows * out);
    be->linear(x.data(), rows, in, w.data(), b.data(), out, Activation::gelu_erf, y.data());
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t o = 0; o < out; ++o) {
        double acc = b[o];
        for (std::size_t k = 0; k < in; ++k) acc += double(x[r * in + k]) * w[o * in + k];
        ASSERT_NEAR(y[r * out + o], reference_activation(acc, Activation::gelu_erf), 2e-5)
            << rows << " rows";
      }
  }
}

TEST_P(CpuBackendOps, AttentionMatchesFloat64PerSequence) {
  for (bool prefix_keys : {false, true}) {
    SCOPED_TRACE(prefix_keys ? "key prefixes" : "all keys");
    const auto be = make_cpu_backend(GetParam());
    const std::size_t heads = 3, d = 5, hidden = heads * d;
    const std::vector<std::int64_t> offsets{0, 1, 1, 8, 20};  // includes an empty sequence
    const std::size_t n = 20;
    const std::vector<float> qkv = random_values(n * 3 * hidden, 1.0f, 41);
    std::vector<float> out(n * hidden, -7.0f);
    const std::vector<std::int64_t> key_lengths =
        prefix_keys ? std::vector<std::int64_t>{1, 0, 4, 12} : std::vector<std::int64_t>{};
    be->attention(qkv.data(), offsets, key_lengths, heads, d, out.data());
    const auto keys_end = [&](std::size_t s) {
      return prefix_keys ? offsets[s] + key_lengths[s] : offsets[s + 1];
    };
    for (std::size_t s = 0; s + 1 < offsets.size(); ++s)
      for (auto i = offsets[s]; i < offsets[s + 1]; ++i)
        for (std::size_t h = 0; h < heads; ++h) {
          std::vector<double> p;
          double top = -INFINITY, sum = 0;
          for (auto j = offsets[s]; j < keys_end(s); ++j) {
            double dot = 0;
            for (std::size_t c = 0; c < d; ++c)
              dot += double(qkv[i * 3 * hidden + h * d + c]) *
                     qkv[j * 3 * hidden + hidden + h * d + c];
            p.push_back(dot / std::sqrt(double(d)));
            top = std::max(top, p.back());
          }
          for (double& e : p) sum += (e = std::exp(e - top));
          for (std::size_t c = 0; c < d; ++c) {
            double want = 0;
            for (auto j = offsets[s]; j < keys_end(s); ++j)
              want += p[j - offsets[s]] / sum * qkv[j * 3 * hidden + 2 * hidden + h * d + c];
            ASSERT_NEAR(out[i * hidden + h * d + c], want, 1e-5);
          }
        }
  }
}

TEST_P(CpuBackendOps, PoolingModesMatchDefinitions) {
  const auto be = make_cpu_backend(GetParam());
  const std::vector<std::int64_t> offsets{0, 3, 4, 4, 9};
  const std::size_t cols = 6;
  const std::vector<float> x = random_values(9 * cols, 1.0f, 51);
  for (Pooling mode :
       {Pooling::cls, Pooling::mean, Pooling::max, Pooling::mean_sqrt_len, Pooling::last_token}) {
    std::vector<float> out(4 * (cols + 1), 99.0f);
    be->pool(x.data(), cols, offsets, mode, out.data(), cols + 1);
    for (std::size_t s = 0; s < 4; ++s) {
      const auto b = static_cast<std::size_t>(offsets[s]),
                 e = static_cast<std::size_t>(offsets[s + 1]);
      for (std::size_t c = 0; c < cols; ++c) {
        double want = 0;
        if (b == e) {
          want = 0;
        } else if (mode == Pooling::cls) {
          want = x[b * cols + c];
        } else if (mode == Pooling::last_token) {
          want = x[(e - 1) * cols + c];
        } else if (mode == Pooling::max) {
          want = -INFINITY;
          for (auto t = b; t < e; ++t) want = std::max(want, double(x[t * cols + c]));
        } else {
          for (auto t = b; t < e; ++t) want += x[t * cols + c];
          want /= mode == Pooling::mean ? double(e - b) : std::sqrt(double(e - b));
        }
        ASSERT_NEAR(out[s * (cols + 1) + c], want, 1e-6);
      }
      ASSERT_EQ(out[s * (cols + 1) + cols], 99.0f) << "wrote past the pooled row";
    }
  }
}

TEST_P(CpuBackendOps, OpTimingCountsEachOpOnceWhileOn) {
  const auto be = make_cpu_backend(GetParam());
  const std::size_t rows = 64, in = 32, out = 48;
  const std::vector<float> x = random_values(rows * in, 1.0f, 41);
  const std::vector<float> w = random_values(out * in, 0.3f, 42);
  const std::vector<float> b = random_values(out, 1.0f, 43);
  std::vector<float> y(rows * out);
  be->l2_normalize_rows(y.data(), rows, out);
  EXPECT_TRUE(be->take_op_times().empty());
  be->set_op_timing(true);
  be->linear(x.data(), rows, in, w.data(), b.data(), out, Activation::gelu_erf, y.data());
  be->l2_normalize_rows(y.data(), rows, out);
  be->l2_normalize_rows(y.data(), rows, out);
  const std::vector<OpTime> times = be->take_op_times();
  be->set_op_timing(false);
  ASSERT_EQ(times.size(), 2u);
  for (const OpTime& t : times) {
    EXPECT_GE(t.milliseconds, 0.0) << t.op;
    if (t.op == "l2_normalize_rows") {
      EXPECT_EQ(t.calls, 2u);
    } else {
      EXPECT_EQ(t.op, "linear 32x48 gelu f32");
      EXPECT_EQ(t.calls, 1u);
    }
  }
  EXPECT_GE(times[0].milliseconds, times[1].milliseconds) << "largest first";
  be->l2_normalize_rows(y.data(), rows, out);
  EXPECT_TRUE(be->take_op_times().empty());
}

INSTANTIATE_TEST_SUITE_P(Threads, CpuBackendOps, ::testing::Values(1, 2));

TEST(BlockPool, LargeBlocksComeBackAndSmallOnesAreNotKept) {
  const auto pool = cpu::BlockPool::make();
  const std::size_t big = cpu::BlockPool::kMinBytes / sizeof(float) * 3;
  void* first = nullptr;
  {
    const std::shared_ptr<void> block = pool->take(big);
    first = block.get();
    static_cast<float*>(block.get())[big - 1] = 1.0f;  // the whole size is usable
    EXPECT_EQ(pool->held_blocks(), 0u);
  }
  EXPECT_EQ(pool->held_blocks(), 1u);
  EXPECT_EQ(pool->held_bytes(), big * sizeof(float));
  {
    // A slightly smaller request reuses the block; a much smaller or a larger one does not.
    const std::shared_ptr<void> again = pool->take(big - big / 8);
    EXPECT_EQ(again.get(), first);
    const std::shared_ptr<void> larger = pool->take(big + 1);
    EXPECT_NE(larger.get(), first);
  }
  EXPECT_EQ(pool->held_blocks(), 2u);
  { const std::shared_ptr<void> half = pool->take(big / 2); }
  EXPECT_EQ(pool->held_blocks(), 3u) << "a half-size request got a new block";
  { const std::shared_ptr<void> small = pool->take(16); }
  EXPECT_EQ(pool->held_blocks(), 3u) << "small blocks are not kept";
}

TEST(BlockPool, HoldsAtMostItsLimitAndBlocksOutliveThePool) {
  auto pool = cpu::BlockPool::make();
  const std::size_t floats = cpu::BlockPool::kMinBytes / sizeof(float);
  std::vector<std::shared_ptr<void>> blocks;
  for (std::size_t i = 0; i < cpu::BlockPool::kMaxBlocks + 5; ++i)
    blocks.push_back(pool->take(floats));
  blocks.clear();
  EXPECT_EQ(pool->held_blocks(), cpu::BlockPool::kMaxBlocks);
  EXPECT_LE(pool->held_bytes(), cpu::BlockPool::kMaxBytes);
  std::shared_ptr<void> survivor = pool->take(floats);
  pool.reset();
  static_cast<float*>(survivor.get())[0] = 2.0f;
  survivor.reset();  // freed, not returned to the destroyed pool
}

TEST(Activations, HfNamesResolveAndUnknownNamesAreRejected) {
  EXPECT_EQ(activation_from_hf_name("gelu", "cfg"), Activation::gelu_erf);
  EXPECT_EQ(activation_from_hf_name("gelu_new", "cfg"), Activation::gelu_tanh);
  EXPECT_EQ(activation_from_hf_name("relu", "cfg"), Activation::relu);
  try {
    activation_from_hf_name("swishy", "config.json: hidden_act");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("swishy"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("gelu_new"), std::string::npos);
  }
}

}  // namespace
}  // namespace rank_rerank::backend
