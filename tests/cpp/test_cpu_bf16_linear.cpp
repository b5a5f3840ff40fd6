// The CPU backend's bf16 linear layers against float64, on every kernel this CPU runs (the
// others skip, saying why): the kernels alone on odd shapes and column ranges, and the backend's
// linear op (row and column splits over threads, bias, activation) with each kernel forced
// through RANK_RERANK_CPU_BF16_KERNEL.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "backend/cpu/bf16_linear.hpp"
#include "random_values.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/quantize.hpp"

namespace rank_rerank::backend {
namespace {

using cpu::Bf16Kernel;

using test_support::random_values;

float round_bf16(float x) { return bf16_to_float(float_to_bf16(x)); }

// Sets RANK_RERANK_CPU_BF16_KERNEL for the lifetime of the object.
class ForcedKernel {
 public:
  explicit ForcedKernel(Bf16Kernel kernel) {
    setenv("RANK_RERANK_CPU_BF16_KERNEL", std::string(cpu::bf16_kernel_name(kernel)).c_str(), 1);
  }
  explicit ForcedKernel(const char* name) { setenv("RANK_RERANK_CPU_BF16_KERNEL", name, 1); }
  ~ForcedKernel() { unsetenv("RANK_RERANK_CPU_BF16_KERNEL"); }
  ForcedKernel(const ForcedKernel&) = delete;
  ForcedKernel& operator=(const ForcedKernel&) = delete;
};

class Bf16Kernels : public ::testing::TestWithParam<Bf16Kernel> {
 protected:
  void SetUp() override {
    if (!cpu::bf16_kernel_available(GetParam()))
      GTEST_SKIP() << "this CPU (or its OS) does not run the " << cpu::bf16_kernel_name(GetParam())
                   << " kernel"
                   << (GetParam() == Bf16Kernel::amx ? " (needs AMX-BF16, e.g. Sapphire Rapids)"
                                                     : " (needs AVX512_BF16)");
  }
};

// Every output of rows x [c0, c1) against two float64 references: of the bf16-rounded operands
// (only the float32 accumulation differs: in * 2^-23 relative to sum |x w|), and of the exact
// operands (plus one bf16 rounding of each operand, 2^-8 relative each: 2^-7 to sum |x w|).
TEST_P(Bf16Kernels, KernelMatchesFloat64OnOddShapes) {
  if (GetParam() == Bf16Kernel::decoded_f32) GTEST_SKIP() << "no kernel of its own: sgemm";
  // The last shapes are deep enough for the rows to go in several chunks (512 KiB of bf16 each)
  // and for the AMX kernel's columns to go in several blocks (512 KiB of weights each), the last
  // block ending on an unpaired panel.
  const std::vector<std::array<std::size_t, 3>> shapes = [] {
    std::vector<std::array<std::size_t, 3>> v;
    for (const std::size_t rows : {1, 3, 17, 33, 70})
      for (const std::size_t in : {1, 37, 100, 389})
        for (const std::size_t out : {1, 16, 37, 100, 389}) v.push_back({rows, in, out});
    v.push_back({200, 3000, 37});
    v.push_back({40, 1000, 389});
    return v;
  }();
  for (const auto& [rows, in, out] : shapes) {
    SCOPED_TRACE(std::to_string(rows) + " x " + std::to_string(in) + " -> " + std::to_string(out));
    const std::vector<float> x = random_values(rows * in, 1.0f, unsigned(rows + in));
    const std::vector<float> w = random_values(out * in, 0.2f, unsigned(in * out));
    const std::vector<std::uint16_t> packed = cpu::pack_bf16_weight(w.data(), out, in);
    // The whole width, and a column range that starts on a later panel and ends inside one.
    std::vector<std::pair<std::size_t, std::size_t>> ranges{{0, out}};
    if (out > 40) ranges.emplace_back(16, out - 5);
    for (const auto& [c0, c1] : ranges) {
      const std::size_t ldy = c1 - c0 + 3;
      std::vector<float> y(rows * ldy, -99.0f);
      cpu::linear_bf16(GetParam(), x.data(), rows, in, packed.data(), c0, c1, y.data(), ldy,
                       nullptr, Activation::identity);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = c0; c < c1 + 3; ++c) {
          const float got = y[r * ldy + c - c0];
          if (c >= c1) {
            ASSERT_EQ(got, -99.0f) << "wrote past column " << c1;
            continue;
          }
          double rounded = 0, exact = 0, magnitude = 0;
          for (std::size_t k = 0; k < in; ++k) {
            const double xk = x[r * in + k], wk = w[c * in + k];
            rounded += double(round_bf16(x[r * in + k])) * round_bf16(w[c * in + k]);
            exact += xk * wk;
            magnitude += std::abs(xk * wk);
          }
          ASSERT_NEAR(got, rounded, double(in) * 0x1p-23 * magnitude + 1e-30)
              << "row " << r << " col " << c;
          ASSERT_NEAR(got, exact, (0x1p-7 + double(in) * 0x1p-23) * magnitude)
              << "row " << r << " col " << c;
        }
    }
  }
}

// The backend's op: 5 rows split by columns, 300 by rows, over 3 threads; bias and GELU after.
TEST_P(Bf16Kernels, BackendLinearMatchesFloat64ForRowAndColumnSplits) {
  const ForcedKernel forced(GetParam());
  const auto be = make_cpu_backend(3, DType::bf16);
  EXPECT_EQ(be->dtype(), DType::bf16);
  for (const std::size_t rows : {5, 300}) {
    const std::size_t in = 389, out = 100;
    const std::vector<float> x = random_values(rows * in, 1.0f, 31);
    const std::vector<float> w = random_values(out * in, 0.05f, 32);
    const std::vector<float> b = random_values(out, 1.0f, 33);
    const ConstBuffer weight = be->upload_linear_weight(std::vector<float>(w), out, in);
    EXPECT_EQ(weight.dtype(), GetParam() == Bf16Kernel::decoded_f32 ? DType::f32 : DType::bf16);
    std::vector<float> y(rows * out);
    be->linear(x.data(), rows, in, weight.data(), b.data(), out, Activation::gelu_erf, y.data());
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t o = 0; o < out; ++o) {
        double acc = b[o], magnitude = 0;
        for (std::size_t k = 0; k < in; ++k) {
          acc += double(x[r * in + k]) * w[o * in + k];
          magnitude += std::abs(double(x[r * in + k]) * w[o * in + k]);
        }
        const double x_erf = 0.5 * acc * (1.0 + std::erf(acc / std::sqrt(2.0)));
        // GELU's slope is below 1.13, and the float32 pass after the product adds ~1e-6.
        ASSERT_NEAR(y[r * out + o], x_erf, 1.13 * 0x1p-8 * magnitude + 1e-5)
            << rows << " rows, row " << r << " col " << o;
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Cpu, Bf16Kernels,
                         ::testing::Values(Bf16Kernel::amx, Bf16Kernel::avx512_bf16,
                                           Bf16Kernel::decoded_f32),
                         [](const auto& info) {
                           return std::string(cpu::bf16_kernel_name(info.param));
                         });

TEST(Bf16KernelChoice, EnvironmentNamesAKernelOrTheBestIsUsed) {
  EXPECT_TRUE(cpu::bf16_kernel_available(cpu::best_bf16_kernel()));
  EXPECT_EQ(cpu::bf16_kernel_from_environment(), cpu::best_bf16_kernel());
  {
    const ForcedKernel forced("decoded_f32");
    EXPECT_EQ(cpu::bf16_kernel_from_environment(), Bf16Kernel::decoded_f32);
  }
  {
    const ForcedKernel forced("sse2");
    try {
      (void)make_cpu_backend(1, DType::bf16);
      ADD_FAILURE() << "an unknown kernel name was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("amx, avx512_bf16 or decoded_f32"), std::string::npos);
    }
    // A float32 backend does not read the variable.
    EXPECT_NO_THROW((void)make_cpu_backend(1, DType::f32));
  }
  for (const Bf16Kernel kernel : {Bf16Kernel::amx, Bf16Kernel::avx512_bf16}) {
    if (cpu::bf16_kernel_available(kernel)) continue;
    const ForcedKernel forced(kernel);
    EXPECT_THROW((void)make_cpu_backend(1, DType::bf16), Error);
  }
  EXPECT_THROW((void)make_cpu_backend(1, DType::f16), Error);
}

}  // namespace
}  // namespace rank_rerank::backend
