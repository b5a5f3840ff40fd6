// quantize / dequantize and the scalar half-precision conversions, against GCC's _Float16
// conversion (float16), a nearest-value search written from the definition (bfloat16), and
// hand-computed numpy.packbits / numpy.round results.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/quantize.hpp"

namespace rr = rank_rerank;
using rr::DType;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::uint32_t bits_of(float x) { return std::bit_cast<std::uint32_t>(x); }

// Nearest bfloat16 by comparing the two candidates around x in float64; ties go to the even one.
// Past the largest finite bfloat16 the upper candidate is infinity, which rounding places at 2^128.
std::uint16_t reference_bf16(float x) {
  if (std::isinf(x)) return static_cast<std::uint16_t>(bits_of(x) >> 16);
  const auto low = static_cast<std::uint16_t>(bits_of(x) >> 16);  // truncated magnitude
  const auto high = static_cast<std::uint16_t>(low + 1);          // next magnitude up
  const double ax = std::fabs(static_cast<double>(x));
  const double lo = std::fabs(static_cast<double>(rr::bf16_to_float(low)));
  const float hi_value = rr::bf16_to_float(high);
  const double hi = std::isinf(hi_value) ? 0x1p128 : std::fabs(static_cast<double>(hi_value));
  const double dlo = ax - lo, dhi = hi - ax;
  if (dhi < dlo || (dhi == dlo && (high & 1) == 0)) return high;
  return low;
}

}  // namespace

TEST(Quantize, Float16EdgeValues) {
  EXPECT_EQ(rr::float_to_f16(0.0f), 0x0000);
  EXPECT_EQ(rr::float_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(rr::float_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(rr::float_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(rr::float_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(rr::float_to_f16(65519.0f), 0x7bff);
  EXPECT_EQ(rr::float_to_f16(65520.0f), 0x7c00) << "tie between 65504 (odd) and 2^16 (even)";
  EXPECT_EQ(rr::float_to_f16(1e10f), 0x7c00);
  EXPECT_EQ(rr::float_to_f16(kInf), 0x7c00);
  EXPECT_EQ(rr::float_to_f16(-kInf), 0xfc00);
  const std::uint16_t nan = rr::float_to_f16(kNaN);
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
  EXPECT_EQ(rr::float_to_f16(1.0f + 0x1p-11f), 0x3c00) << "tie rounds to even";
  EXPECT_EQ(rr::float_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02) << "tie rounds to even";
  EXPECT_EQ(rr::float_to_f16(0x1p-14f), 0x0400) << "smallest normal";
  EXPECT_EQ(rr::float_to_f16(0x1p-14f - 0x1p-25f), 0x0400) << "tie at the subnormal boundary";
  EXPECT_EQ(rr::float_to_f16(0x1p-24f), 0x0001) << "smallest subnormal";
  EXPECT_EQ(rr::float_to_f16(0x1p-25f), 0x0000) << "tie between 0 and 2^-24";
  EXPECT_EQ(rr::float_to_f16(0x1.000002p-25f), 0x0001);
  EXPECT_EQ(rr::float_to_f16(3 * 0x1p-25f), 0x0002) << "tie between 1 and 2 ulps";
  EXPECT_EQ(rr::float_to_f16(-1e-40f), 0x8000) << "float subnormals underflow to signed zero";
  EXPECT_EQ(rr::f16_to_float(0x0001), 0x1p-24f);
  EXPECT_EQ(rr::f16_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(rr::f16_to_float(0xfc00), -kInf);
  EXPECT_TRUE(std::isnan(rr::f16_to_float(0x7e00)));
}

TEST(Quantize, Float16RoundTripsEveryHalf) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = rr::f16_to_float(static_cast<std::uint16_t>(h));
    const std::uint16_t back = rr::float_to_f16(f);
    if (std::isnan(f)) {
      EXPECT_EQ(back & 0x7c00, 0x7c00);
      EXPECT_NE(back & 0x3ff, 0);
    } else {
      EXPECT_EQ(back, h) << "half " << h;
    }
  }
}

#if defined(__FLT16_MAX__)
TEST(Quantize, Float16MatchesCompilerConversion) {
  // GCC's _Float16 conversion (libgcc / F16C) rounds to nearest even: an independent reference.
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::uint32_t> mantissa(0, 0x7fffff);
  std::uniform_int_distribution<std::uint32_t> exponent(90, 150);  // subnormal .. overflow
  for (int n = 0; n < 200000; ++n) {
    const std::uint32_t bits = (n & 1u) << 31 | exponent(rng) << 23 | mantissa(rng);
    const float x = std::bit_cast<float>(bits);
    const auto expected = std::bit_cast<std::uint16_t>(static_cast<_Float16>(x));
    ASSERT_EQ(rr::float_to_f16(x), expected) << "x = " << x;
    ASSERT_EQ(rr::f16_to_float(expected), static_cast<float>(static_cast<_Float16>(x)));
  }
}
#endif

TEST(Quantize, BFloat16EdgeValues) {
  EXPECT_EQ(rr::float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(rr::float_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(rr::float_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80) << "tie to even";
  EXPECT_EQ(rr::float_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82) << "tie to even";
  EXPECT_EQ(rr::float_to_bf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);
  EXPECT_EQ(rr::float_to_bf16(std::numeric_limits<float>::max()), 0x7f80) << "rounds up to inf";
  EXPECT_EQ(rr::float_to_bf16(kInf), 0x7f80);
  EXPECT_EQ(rr::float_to_bf16(-kInf), 0xff80);
  EXPECT_EQ(rr::float_to_bf16(std::bit_cast<float>(0x00018000u)), 0x0002) << "subnormal tie";
  // A NaN whose payload sits only in the low 16 bits must stay a NaN.
  const std::uint16_t nan = rr::float_to_bf16(std::bit_cast<float>(0x7f800001u));
  EXPECT_TRUE(std::isnan(rr::bf16_to_float(nan)));
  EXPECT_TRUE(std::isnan(rr::bf16_to_float(rr::float_to_bf16(kNaN))));
  EXPECT_EQ(rr::bf16_to_float(0x4049), 3.140625f);
}

TEST(Quantize, BFloat16MatchesNearestValueSearch) {
  std::mt19937 rng(8);
  std::uniform_int_distribution<std::uint32_t> any(0, 0xffffffffu);
  for (int n = 0; n < 200000; ++n) {
    const float x = std::bit_cast<float>(any(rng));
    if (std::isnan(x)) continue;
    ASSERT_EQ(rr::float_to_bf16(x), reference_bf16(x)) << "bits " << bits_of(x);
  }
}

TEST(Quantize, Int8ScaleAndRounding) {
  // Scale = max|x| / 127 = 1 here, so x / scale is exact and ties show numpy.round semantics.
  const std::vector<float> x = {127.0f, 0.5f, 1.5f, -2.5f, -127.0f, 3.49f, 0.0f,
                                0.0f,   0.0f, 0.0f, 0.0f,  0.0f,    0.0f,  0.0f};
  const rr::QuantizedTokens q = rr::quantize(rr::MatrixView{x.data(), 2, 7}, DType::i8);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.scales[1], 0.0f) << "a zero row has scale 0";
  const std::vector<std::int8_t> expected = {127, 0, 2, -2, -127, 3, 0, 0, 0, 0, 0, 0, 0, 0};
  for (std::size_t k = 0; k < expected.size(); ++k)
    EXPECT_EQ(static_cast<std::int8_t>(q.bytes[k]), expected[k]) << k;
  const rr::TokenMatrix v = q.view();
  EXPECT_EQ(v.scales, q.scales.data());
  EXPECT_EQ(v.dtype, DType::i8);
}

TEST(Quantize, Int8ErrorIsAtMostHalfAStep) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> x(50 * 33);
  for (float& v : x) v = normal(rng);
  const rr::QuantizedTokens q = rr::quantize(rr::MatrixView{x.data(), 50, 33}, DType::i8);
  const std::vector<float> back = rr::dequantize(q.view());
  for (std::size_t r = 0; r < 50; ++r) {
    float max_abs = 0;
    for (std::size_t k = 0; k < 33; ++k) max_abs = std::fmax(max_abs, std::fabs(x[r * 33 + k]));
    EXPECT_FLOAT_EQ(q.scales[r], max_abs / 127.0f);
    for (std::size_t k = 0; k < 33; ++k) {
      EXPECT_LE(std::fabs(back[r * 33 + k] - x[r * 33 + k]), q.scales[r] * 0.5001f);
      EXPECT_LE(std::abs(static_cast<std::int8_t>(q.bytes[r * 33 + k])), 127);
    }
  }
}

TEST(Quantize, BitsFollowNumpyPackbits) {
  // numpy.packbits(x > 0): MSB first, the last byte padded with zero bits.
  const std::vector<float> x = {1, -1, 0, 2, kNaN, 3, -0.0f, 5, 1e-30f};
  const rr::QuantizedTokens q = rr::quantize(rr::MatrixView{x.data(), 1, 9}, DType::bit);
  ASSERT_EQ(q.bytes.size(), 2u);
  EXPECT_EQ(q.bytes[0], 0x95);
  EXPECT_EQ(q.bytes[1], 0x80);
  EXPECT_TRUE(q.scales.empty());
  const std::vector<float> back = rr::dequantize(q.view());
  const std::vector<float> expected = {1, -1, -1, 1, -1, 1, -1, 1, 1};
  EXPECT_EQ(back, expected);
}

TEST(Quantize, HalvesRoundTripThroughDequantize) {
  const std::vector<float> x = {1.0f, -0.333f, 65504.0f, 1e-7f, kInf, -3.0f};
  for (const DType dtype : {DType::f16, DType::bf16, DType::f32}) {
    const rr::QuantizedTokens q = rr::quantize(rr::MatrixView{x.data(), 2, 3}, dtype);
    ASSERT_EQ(q.bytes.size(), 2 * rr::row_bytes(dtype, 3));
    const std::vector<float> back = rr::dequantize(q.view());
    for (std::size_t k = 0; k < x.size(); ++k) {
      const float expected = dtype == DType::f16    ? rr::f16_to_float(rr::float_to_f16(x[k]))
                             : dtype == DType::bf16 ? rr::bf16_to_float(rr::float_to_bf16(x[k]))
                                                    : x[k];
      EXPECT_EQ(back[k], expected);
    }
  }
}

TEST(Quantize, NoRowsIsFine) {
  const rr::QuantizedTokens q = rr::quantize(rr::MatrixView{nullptr, 0, 5}, DType::i8);
  EXPECT_EQ(q.rows, 0u);
  EXPECT_TRUE(q.bytes.empty());
  EXPECT_TRUE(rr::dequantize(q.view()).empty());
}

TEST(Quantize, BadInputsThrow) {
  const std::vector<float> x = {1, 2, kNaN, 4};
  auto kind = [](auto&& fn) {
    try {
      fn();
    } catch (const rr::Error& e) {
      return e.kind();
    }
    return rr::ErrorKind::runtime;
  };
  EXPECT_EQ(kind([&] {
              rr::quantize(rr::MatrixView{x.data(), 2, 0}, DType::f16);
            }),
            rr::ErrorKind::invalid_argument);
  EXPECT_EQ(kind([&] {
              rr::quantize(rr::MatrixView{nullptr, 2, 2}, DType::f16);
            }),
            rr::ErrorKind::invalid_argument);
  EXPECT_EQ(kind([&] {
              rr::quantize(rr::MatrixView{x.data(), 2, 2}, DType::i8);
            }),
            rr::ErrorKind::invalid_argument)
      << "int8 cannot hold NaN";
  const rr::QuantizedTokens q = rr::quantize(rr::MatrixView{x.data(), 2, 2}, DType::f16);
  std::vector<float> out(6);
  EXPECT_EQ(kind([&] {
              rr::dequantize(q.view(), rr::MutableMatrixView{out.data(), 3, 2});
            }),
            rr::ErrorKind::invalid_argument);
  EXPECT_EQ(kind([&] {
              rr::dequantize(q.view(), rr::MutableMatrixView{nullptr, 2, 2});
            }),
            rr::ErrorKind::invalid_argument);
  rr::TokenMatrix no_scales{DType::i8, q.bytes.data(), 2, 2, nullptr};
  EXPECT_EQ(kind([&] { rr::dequantize(no_scales); }), rr::ErrorKind::invalid_argument);
}
