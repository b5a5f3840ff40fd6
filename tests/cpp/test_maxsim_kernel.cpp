// The MaxSim kernels against the float64 reference (maxsim_reference.hpp), for every dtype pair,
// random shapes, cosine on and off, and NaN / inf / zero-vector placements.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hwy/targets.h"
#include "maxsim_reference.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/quantize.hpp"
#include "scoring/kernels/kernel_entry.hpp"
#include "scoring/maxsim_kernel.hpp"
#include "scoring/maxsim_kernel_testing.hpp"

namespace rr = rank_rerank;
using rr::DType;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr double kUnit = 1.0 / (1 << 24);  // float32 unit roundoff

struct Case {
  DType query_dtype = DType::f32;
  DType doc_dtype = DType::f32;
  std::size_t dim = 0;
  std::size_t query_rows = 0;
  std::size_t doc_rows = 0;
  bool cosine = false;
  std::vector<float> query;  // float rows before quantization
  std::vector<float> doc;
};

std::string describe(const Case& c) {
  return std::string(rr::dtype_name(c.query_dtype)) + " query x " +
         std::string(rr::dtype_name(c.doc_dtype)) + " doc, dim " + std::to_string(c.dim) + ", " +
         std::to_string(c.query_rows) + " x " + std::to_string(c.doc_rows) +
         (c.cosine ? ", cosine" : ", dot");
}

Case random_case(std::mt19937& rng, DType query_dtype, DType doc_dtype, std::size_t dim,
                 std::size_t query_rows, std::size_t doc_rows, bool cosine) {
  Case c{query_dtype, doc_dtype, dim, query_rows, doc_rows, cosine, {}, {}};
  std::normal_distribution<float> normal(0.0f, 1.0f);
  c.query.resize(query_rows * dim);
  c.doc.resize(doc_rows * dim);
  for (float& x : c.query) x = normal(rng);
  for (float& x : c.doc) x = normal(rng);
  return c;
}

// Sets the bits past `dim` in every packed row: kernels must ignore them.
void dirty_bit_padding(rr::QuantizedTokens& bits) {
  if (bits.dtype != DType::bit || bits.dim % 8 == 0) return;
  const std::size_t stride = rr::row_bytes(DType::bit, bits.dim);
  for (std::size_t r = 0; r < bits.rows; ++r)
    bits.bytes[r * stride + stride - 1] |= static_cast<std::uint8_t>(0xffu >> (bits.dim % 8));
}

// Checks one evaluation of the kernel against the reference.
void check_case(const Case& c) {
  SCOPED_TRACE(describe(c));
  rr::QuantizedTokens query =
      rr::quantize(rr::MatrixView{c.query.data(), c.query_rows, c.dim}, c.query_dtype);
  rr::QuantizedTokens doc =
      rr::quantize(rr::MatrixView{c.doc.data(), c.doc_rows, c.dim}, c.doc_dtype);
  dirty_bit_padding(query);
  dirty_bit_padding(doc);
  const auto ref = maxsim_reference::maxsim(query.view(), doc.view(), c.cosine);

  const rr::detail::PreparedQuery prepared(query.view(), c.doc_dtype, c.cosine);
  const rr::detail::KernelPath path = rr::detail::kernel_path(prepared);
  ASSERT_EQ(prepared.rows(), c.query_rows);
  ASSERT_EQ(prepared.dim(), c.dim);
  std::vector<float> row_max(c.query_rows, 123.0f), row_max_plain(c.query_rows, 123.0f);
  std::vector<std::int64_t> argmax(c.query_rows, 7);
  std::vector<float> token_best(c.doc_rows, 123.0f);
  rr::detail::max_similarity(prepared, doc.view(), row_max.data(), argmax.data(),
                             token_best.data());
  rr::detail::max_similarity(prepared, doc.view(), row_max_plain.data(), nullptr, nullptr);

  // Rounding error of a float32 dot product is at most about dim * u * sum |q_k d_k|; cosine
  // adds the two normalisations (a few ulps, plus the doc norm's own dim * u / 2). The native
  // bf16 kernel rounds the query to bf16 (relative error 2^-8 per component); the int8 kernels
  // round it to multiples of max|q| / 127 (absolute error max|q| / 254 per component, times
  // sum |d_k|).
  double rel = (2.0 * static_cast<double>(c.dim) + 16.0) * kUnit;
  using rr::detail::KernelPath;
  if (path == KernelPath::native_bf16 || path == KernelPath::amx_bf16) rel += 1.0 / 256;
  const std::size_t n = c.doc_rows;
  double doc_abs = 0;
  for (std::size_t j = 0; j < n; ++j) doc_abs = std::max(doc_abs, ref.doc_abs_sums[j]);
  auto int8_error = [&](std::size_t i) {
    return path == KernelPath::native_int8 || path == KernelPath::amx_int8 ||
                   path == KernelPath::highway_int8
               ? ref.query_max_abs[i] / 254 * doc_abs
               : 0.0;
  };
  for (std::size_t i = 0; i < c.query_rows; ++i) {
    SCOPED_TRACE("query row " + std::to_string(i));
    double worst = 0;
    for (std::size_t j = 0; j < n; ++j) worst = std::max(worst, ref.abs_sums[i * n + j]);
    const double tol = rel * worst + int8_error(i) + 1e-30;
    for (const float got : {row_max[i], row_max_plain[i]}) {
      if (std::isnan(ref.row_max[i])) {
        EXPECT_TRUE(std::isnan(got));
      } else if (std::isinf(ref.row_max[i])) {
        EXPECT_EQ(got, ref.row_max[i]);
      } else {
        EXPECT_NEAR(got, ref.row_max[i], tol);
      }
    }
    if (n == 0) {
      EXPECT_EQ(argmax[i], -1);
      continue;
    }
    ASSERT_GE(argmax[i], 0);
    ASSERT_LT(argmax[i], static_cast<std::int64_t>(n));
    const double at = ref.sims[i * n + static_cast<std::size_t>(argmax[i])];
    if (std::isnan(ref.row_max[i])) {
      EXPECT_EQ(argmax[i], ref.argmax[i]) << "argmax of a NaN row is the first NaN";
    } else if (std::isinf(ref.row_max[i])) {
      EXPECT_EQ(at, ref.row_max[i]);
    } else {
      EXPECT_GE(at, ref.row_max[i] - 2 * tol);
    }
  }
  for (std::size_t j = 0; j < n; ++j) {
    SCOPED_TRACE("doc row " + std::to_string(j));
    double tol = 1e-30;
    for (std::size_t i = 0; i < c.query_rows; ++i)
      tol = std::max(tol, rel * ref.abs_sums[i * n + j] + int8_error(i) + 1e-30);
    if (std::isnan(ref.token_best[j])) {
      EXPECT_TRUE(std::isnan(token_best[j]));
    } else if (std::isinf(ref.token_best[j])) {
      EXPECT_EQ(token_best[j], ref.token_best[j]);
    } else {
      EXPECT_NEAR(token_best[j], ref.token_best[j], tol);
    }
  }
}

const std::vector<std::pair<DType, DType>> kPairs = {
    {DType::f32, DType::f32}, {DType::f32, DType::f16}, {DType::f32, DType::bf16},
    {DType::f32, DType::i8},  {DType::f32, DType::bit}, {DType::bit, DType::bit}};

// One way of running the kernels: a Highway target with the native kernels off, or the
// native AVX-512 bf16 / int8 kernels (where the CPU has them) on the best target.
struct Variant {
  std::int64_t target = 0;  // 0: native kernels on, default targets
  std::string name;
};

std::ostream& operator<<(std::ostream& os, const Variant& v) { return os << v.name; }

std::vector<Variant> variants() {
  std::vector<Variant> out;
  for (const std::int64_t t : rr::detail::kernel_targets()) out.push_back({t, hwy::TargetName(t)});
  out.push_back({0, "native"});
  return out;
}

class MaxSimKernel : public testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    rr::detail::set_native_kernels_enabled(GetParam().target == 0);
    hwy::SetSupportedTargetsForTest(GetParam().target);
  }
  void TearDown() override {
    rr::detail::set_native_kernels_enabled(true);
    hwy::SetSupportedTargetsForTest(0);
    rr::detail::set_rows_per_kernel_call(0);
  }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Kernels, MaxSimKernel, testing::ValuesIn(variants()),
                         [](const testing::TestParamInfo<Variant>& info) {
                           return info.param.name;
                         });

TEST(MaxSimKernelSetup, CompilesTheExpectedTargets) {
  const std::vector<std::int64_t> targets = rr::detail::kernel_targets();
  ASSERT_FALSE(targets.empty());
  EXPECT_TRUE(targets.back() & (HWY_SCALAR | HWY_EMU128))
      << "a portable fallback is always compiled";
#if HWY_ARCH_X86
  for (const std::int64_t t : targets)
    EXPECT_TRUE(t & (HWY_AVX3_DL | HWY_AVX3 | HWY_AVX2 | HWY_SCALAR | HWY_EMU128))
        << hwy::TargetName(t);
#endif
}

TEST_P(MaxSimKernel, NativePathsAreChosenWhereAvailable) {
  std::vector<float> q(4 * 16, 0.5f);
  const rr::TokenMatrix query = rr::TokenMatrix::from({q.data(), 4, 16});
  const bool native = GetParam().target == 0;
  const auto bf16 = rr::detail::kernel_path(rr::detail::PreparedQuery(query, DType::bf16, false));
  const auto i8 = rr::detail::kernel_path(rr::detail::PreparedQuery(query, DType::i8, false));
  EXPECT_EQ(bf16 == rr::detail::KernelPath::native_bf16,
            native && rr::detail::native_bf16_preferred());
  EXPECT_EQ(i8 == rr::detail::KernelPath::native_int8,
            native && rr::detail::native_int8_available());
  if (i8 != rr::detail::KernelPath::native_int8) {
    EXPECT_EQ(i8, rr::detail::KernelPath::highway_int8);
  }
  // Past the int32 range of the integer tiles, int8 documents are decoded to float32.
  std::vector<float> wide(65537, 0.5f);
  EXPECT_EQ(rr::detail::kernel_path(rr::detail::PreparedQuery(
                rr::TokenMatrix::from({wide.data(), 1, wide.size()}), DType::i8, false)),
            rr::detail::KernelPath::highway_float);
  if (native && !rr::detail::native_int8_available()) GTEST_SKIP() << "CPU without AVX-512 VNNI";
}

TEST_P(MaxSimKernel, RandomShapesEveryDtype) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> query_rows(1, 70), doc_rows(0, 300);
  for (const auto& [qd, dd] : kPairs) {
    for (const std::size_t dim : {1, 3, 17, 96, 127, 128, 130}) {
      for (const bool cosine : {false, true}) {
        check_case(random_case(rng, qd, dd, dim, query_rows(rng), doc_rows(rng), cosine));
      }
    }
  }
}

TEST_P(MaxSimKernel, EmptyDocumentGivesMinusInfinity) {
  std::mt19937 rng(1);
  for (const auto& [qd, dd] : kPairs) check_case(random_case(rng, qd, dd, 33, 5, 0, false));
}

TEST_P(MaxSimKernel, DuplicateRowsGiveTheFirstArgmax) {
  std::mt19937 rng(2);
  for (const auto& [qd, dd] : kPairs) {
    for (const bool cosine : {false, true}) {
      Case c = random_case(rng, qd, dd, 40, 9, 50, cosine);
      // Every document row is one of three rows, so each maximum is reached many times.
      for (std::size_t j = 3; j < c.doc_rows; ++j)
        std::copy_n(c.doc.begin() + static_cast<std::ptrdiff_t>((j % 3) * c.dim), c.dim,
                    c.doc.begin() + static_cast<std::ptrdiff_t>(j * c.dim));
      const rr::QuantizedTokens query =
          rr::quantize(rr::MatrixView{c.query.data(), c.query_rows, c.dim}, qd);
      const rr::QuantizedTokens doc =
          rr::quantize(rr::MatrixView{c.doc.data(), c.doc_rows, c.dim}, dd);
      const rr::detail::PreparedQuery prepared(query.view(), dd, cosine);
      std::vector<float> row_max(c.query_rows);
      std::vector<std::int64_t> argmax(c.query_rows);
      rr::detail::max_similarity(prepared, doc.view(), row_max.data(), argmax.data(), nullptr);
      for (std::size_t i = 0; i < c.query_rows; ++i) EXPECT_LT(argmax[i], 3) << describe(c);
      check_case(c);
    }
  }
}

TEST_P(MaxSimKernel, NaNIsStickyAndInfinityPropagates) {
  std::mt19937 rng(3);
  for (const DType dd : {DType::f32, DType::f16, DType::bf16}) {
    for (const bool cosine : {false, true}) {
      for (const std::size_t dim : {3, 17, 128}) {
        Case c = random_case(rng, DType::f32, dd, dim, 20, 70, cosine);
        c.doc[5 * dim + 1] = kNaN;         // one doc token: every query row sees NaN
        c.doc[40 * dim + dim - 1] = kNaN;  // a later one: argmax stays at 5
        c.query[7 * dim] = kNaN;           // one query row: NaN against every token
        c.doc[20 * dim] = kInf;            // +inf against positive / negative q
        c.doc[30 * dim + dim / 2] = -kInf;
        c.query[11 * dim + dim - 1] = kInf;  // an infinite query component
        check_case(c);
      }
    }
  }
}

TEST_P(MaxSimKernel, NonFiniteQueryAgainstInt8TakesTheFloatPath) {
  // int8 cannot hold NaN or infinity: such a query is scored in float32, NaN sticky as ever.
  std::mt19937 rng(10);
  for (const bool cosine : {false, true}) {
    for (const std::size_t dim : {3, 33, 128}) {
      Case c = random_case(rng, DType::f32, DType::i8, dim, 20, 70, cosine);
      c.query[7 * dim] = kNaN;
      c.query[11 * dim + dim - 1] = kInf;
      check_case(c);
      const rr::TokenMatrix query = rr::TokenMatrix::from({c.query.data(), 20, dim});
      EXPECT_EQ(rr::detail::kernel_path(rr::detail::PreparedQuery(query, DType::i8, cosine)),
                rr::detail::KernelPath::highway_float);
    }
  }
}

// A query of integers whose largest magnitude per row is 127 has query scale 1, so the int8
// kernels must give float(q . d) * doc_scale. The integer tiles (VNNI natively, vpmaddwd on the
// x86 Highway targets: maxsim_int16-inl.h) give it bit for bit, also where vpmaddubsw would
// saturate (adjacent components at +-127 against bytes at -128 and 127), at odd dims and at the
// largest dim they take (65536, where |q . d| reaches 2^30); other targets decode to float32.
TEST_P(MaxSimKernel, Int8DotProductsAreExactOnIntegerTiles) {
  const std::int64_t target = GetParam().target;
  const bool integer = target == 0 ? rr::detail::native_int8_available()
                                   : (target & (HWY_AVX2 | HWY_AVX3 | HWY_AVX3_DL)) != 0;
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> q_value(-127, 127), d_value(-128, 127);
  std::uniform_real_distribution<float> scale_value(-2.0f, 2.0f);
  for (const std::size_t dim : {1, 2, 3, 31, 33, 64, 127, 130, 65536}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const std::size_t m = dim > 1000 ? 3 : 21, n = dim > 1000 ? 4 : 45;
    std::vector<float> q(m * dim);
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t k = 0; k < dim; ++k) {
        // Rows 0 and 1: every component at +127 / alternating sign pairs; then random.
        const float v = i == 0   ? 127.0f
                        : i == 1 ? ((k / 2) % 2 ? -127.0f : 127.0f)
                                 : static_cast<float>(q_value(rng));
        q[i * dim + k] = v;
      }
      q[i * dim] = i % 2 ? -127.0f : 127.0f;  // max |q| = 127 in every row
    }
    rr::QuantizedTokens doc;
    doc.dtype = DType::i8;
    doc.rows = n;
    doc.dim = dim;
    doc.bytes.resize(n * dim);
    doc.scales.resize(n);
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t k = 0; k < dim; ++k) {
        // Rows 0, 1, 2: every byte -128, every byte 127, pairs alternating; then random.
        const int v = j == 0   ? -128
                      : j == 1 ? 127
                      : j == 2 ? ((k / 2) % 2 ? 127 : -128)
                               : d_value(rng);
        doc.bytes[j * dim + k] = static_cast<std::uint8_t>(static_cast<std::int8_t>(v));
      }
      doc.scales[j] = j < 3 ? 1.0f : scale_value(rng);
    }
    std::vector<float> expected_max(m, -kInf), expected_best(n, -kInf);
    std::vector<std::int64_t> expected_arg(m, -1);
    std::vector<double> tolerance(m, 0.0);
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        std::int64_t dot = 0, abs_sum = 0;
        for (std::size_t k = 0; k < dim; ++k) {
          const auto product = static_cast<std::int64_t>(q[i * dim + k]) *
                               static_cast<std::int8_t>(doc.bytes[j * dim + k]);
          dot += product;
          abs_sum += product < 0 ? -product : product;
        }
        const float sim = static_cast<float>(dot) * doc.scales[j];  // query scale 1
        if (sim > expected_max[i]) {
          expected_max[i] = sim;
          expected_arg[i] = static_cast<std::int64_t>(j);
        }
        expected_best[j] = std::max(expected_best[j], sim);
        // Float32 accumulation on the other targets (see check_case).
        tolerance[i] =
            std::max(tolerance[i], (2.0 * static_cast<double>(dim) + 16.0) * kUnit *
                                       static_cast<double>(abs_sum) * std::fabs(doc.scales[j]));
      }
    }
    const rr::TokenMatrix query = rr::TokenMatrix::from({q.data(), m, dim});
    const rr::detail::PreparedQuery prepared(query, DType::i8, false);
    std::vector<float> row_max(m), row_max_plain(m), token_best(n);
    std::vector<std::int64_t> argmax(m);
    rr::detail::max_similarity(prepared, doc.view(), row_max.data(), argmax.data(),
                               token_best.data());
    rr::detail::max_similarity(prepared, doc.view(), row_max_plain.data(), nullptr, nullptr);
    for (std::size_t i = 0; i < m; ++i) {
      SCOPED_TRACE("query row " + std::to_string(i));
      if (integer) {
        EXPECT_EQ(row_max[i], expected_max[i]);
        EXPECT_EQ(row_max_plain[i], expected_max[i]);
        EXPECT_EQ(argmax[i], expected_arg[i]);
      } else {
        EXPECT_NEAR(row_max[i], expected_max[i], tolerance[i]);
        EXPECT_NEAR(row_max_plain[i], expected_max[i], tolerance[i]);
      }
    }
    if (integer) {
      EXPECT_EQ(token_best, expected_best);
    }
  }
}

TEST_P(MaxSimKernel, ZeroVectors) {
  std::mt19937 rng(4);
  for (const auto& [qd, dd] : kPairs) {
    for (const bool cosine : {false, true}) {
      Case c = random_case(rng, qd, dd, 19, 12, 40, cosine);
      std::fill_n(c.query.begin() + 2 * 19, 19, 0.0f);
      std::fill_n(c.doc.begin() + 7 * 19, 19, 0.0f);
      std::fill_n(c.doc.begin(), 19, 0.0f);
      check_case(c);
    }
  }
}

TEST_P(MaxSimKernel, ZeroQueryRowWithCosineIgnoresInfiniteDocs) {
  // The cosine of a zero vector is 0 by definition, even against a non-finite document token.
  std::vector<float> q = {0, 0, 1, 0};
  std::vector<float> d = {kInf, 1, 1, kNaN};
  const rr::detail::PreparedQuery prepared(rr::TokenMatrix::from({q.data(), 2, 2}), DType::f32,
                                           true);
  float row_max[2];
  std::int64_t argmax[2];
  rr::detail::max_similarity(prepared, rr::TokenMatrix::from({d.data(), 2, 2}), row_max, argmax,
                             nullptr);
  EXPECT_EQ(row_max[0], 0.0f);
  EXPECT_EQ(argmax[0], 0);
  EXPECT_TRUE(std::isnan(row_max[1]));
  EXPECT_EQ(argmax[1], 0);
}

TEST(MaxSimKernelSetup, UnsupportedPairsThrow) {
  std::vector<float> q(8, 1.0f);
  const rr::QuantizedTokens bits = rr::quantize(rr::MatrixView{q.data(), 1, 8}, DType::bit);
  const rr::QuantizedTokens halves = rr::quantize(rr::MatrixView{q.data(), 1, 8}, DType::f16);
  for (const DType dd : {DType::f32, DType::f16, DType::bf16, DType::i8}) {
    EXPECT_THROW(rr::detail::PreparedQuery(bits.view(), dd, false), rr::Error);
  }
  try {
    rr::detail::PreparedQuery(halves.view(), DType::f32, false);
    FAIL() << "f16 queries have no kernel";
  } catch (const rr::Error& e) {
    EXPECT_EQ(e.kind(), rr::ErrorKind::unsupported);
    EXPECT_NE(std::string(e.what()).find("float16"), std::string::npos);
  }
}

TEST_P(MaxSimKernel, LongDocumentsAreSplitAndMerged) {
  std::mt19937 rng(5);
  rr::detail::set_rows_per_kernel_call(7);
  for (const auto& [qd, dd] : kPairs) {
    for (const bool cosine : {false, true}) {
      Case c = random_case(rng, qd, dd, 24, 21, 60, cosine);
      if (dd != DType::i8 && dd != DType::bit) {
        c.doc[30 * 24 + 3] = kNaN;  // a NaN in a later chunk
        c.doc[31 * 24 + 3] = kNaN;
      }
      check_case(c);
    }
  }
}

TEST_P(MaxSimKernel, AllZeroQueryUnderCosine) {
  std::mt19937 rng(6);
  for (const DType dd : {DType::f32, DType::bf16, DType::i8}) {
    Case c = random_case(rng, DType::f32, dd, 20, 5, 30, true);
    std::fill(c.query.begin(), c.query.end(), 0.0f);
    if (dd != DType::i8) c.doc[3 * 20] = kInf;
    check_case(c);
  }
}

TEST_P(MaxSimKernel, NonFiniteInt8ScalesGiveNaN) {
  std::mt19937 rng(7);
  Case c = random_case(rng, DType::f32, DType::i8, 12, 3, 20, false);
  const rr::QuantizedTokens query = rr::quantize(rr::MatrixView{c.query.data(), 3, 12}, DType::f32);
  rr::QuantizedTokens doc = rr::quantize(rr::MatrixView{c.doc.data(), 20, 12}, DType::i8);
  doc.scales[9] = kNaN;
  const rr::detail::PreparedQuery prepared(query.view(), DType::i8, false);
  float row_max[3];
  std::int64_t argmax[3];
  std::vector<float> token_best(20);
  rr::detail::max_similarity(prepared, doc.view(), row_max, argmax, token_best.data());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(std::isnan(row_max[i]));
    EXPECT_EQ(argmax[i], 9);
  }
  EXPECT_TRUE(std::isnan(token_best[9]));
  EXPECT_FALSE(std::isnan(token_best[8]));
}

TEST_P(MaxSimKernel, OnePreparedQuerySharedByThreads) {
  // Kernels only read the prepared query: concurrent calls give the single-threaded results.
  std::mt19937 rng(8);
  for (const auto& [qd, dd] : kPairs) {
    Case c = random_case(rng, qd, dd, 64, 33, 400, false);
    const rr::QuantizedTokens query =
        rr::quantize(rr::MatrixView{c.query.data(), c.query_rows, c.dim}, qd);
    const rr::QuantizedTokens doc =
        rr::quantize(rr::MatrixView{c.doc.data(), c.doc_rows, c.dim}, dd);
    const rr::detail::PreparedQuery prepared(query.view(), dd, false);
    auto run = [&](std::size_t part) {
      std::vector<float> out(c.query_rows * 4);
      for (std::size_t i = 0; i < 4; ++i) {
        const rr::TokenMatrix slice =
            doc.view().slice((part * 4 + i) * 50, (part * 4 + i + 1) * 50);
        rr::detail::max_similarity(prepared, slice, out.data() + i * c.query_rows, nullptr,
                                   nullptr);
      }
      return out;
    };
    const std::vector<float> serial0 = run(0), serial1 = run(1);
    std::vector<float> parallel0, parallel1;
    std::thread worker([&] { parallel1 = run(1); });
    parallel0 = run(0);
    worker.join();
    EXPECT_EQ(parallel0, serial0) << describe(c);
    EXPECT_EQ(parallel1, serial1) << describe(c);
  }
}

TEST(MaxSimKernelAmx, TilePathsAreChosenForDotProductsOnWholeTileRows) {
  if (!rr::detail::amx_bf16_available()) GTEST_SKIP() << "CPU without AMX (or the OS refuses it)";
  std::vector<float> q(40 * 128, 0.25f);
  const rr::TokenMatrix query = rr::TokenMatrix::from({q.data(), 40, 128});
  using rr::detail::KernelPath;
  EXPECT_EQ(rr::detail::kernel_path(rr::detail::PreparedQuery(query, DType::bf16, false)),
            KernelPath::amx_bf16);
  EXPECT_NE(rr::detail::kernel_path(rr::detail::PreparedQuery(query, DType::bf16, true)),
            KernelPath::amx_bf16);
  if (rr::detail::amx_int8_available() && rr::detail::native_int8_available()) {
    EXPECT_EQ(rr::detail::kernel_path(rr::detail::PreparedQuery(query, DType::i8, false)),
              KernelPath::amx_int8);
  }
  const rr::TokenMatrix odd = rr::TokenMatrix::from({q.data(), 40, 96});
  EXPECT_NE(rr::detail::kernel_path(rr::detail::PreparedQuery(odd, DType::i8, false)),
            KernelPath::amx_int8);
}
