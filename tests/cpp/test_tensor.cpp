#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/tensor.hpp"

namespace rr = rank_rerank;

namespace {
std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const rr::Error& e) {
    EXPECT_EQ(e.kind(), rr::ErrorKind::invalid_argument);
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Tensor, RowBytesPerDtype) {
  EXPECT_EQ(rr::row_bytes(rr::DType::f32, 128), 512u);
  EXPECT_EQ(rr::row_bytes(rr::DType::f16, 128), 256u);
  EXPECT_EQ(rr::row_bytes(rr::DType::bf16, 3), 6u);
  EXPECT_EQ(rr::row_bytes(rr::DType::i8, 7), 7u);
  EXPECT_EQ(rr::row_bytes(rr::DType::bit, 128), 16u);
  EXPECT_EQ(rr::row_bytes(rr::DType::bit, 9), 2u);
}

TEST(Tensor, SliceMovesDataAndScales) {
  std::vector<std::int8_t> values(4 * 3);
  std::vector<float> scales = {1, 2, 3, 4};
  rr::TokenMatrix m{rr::DType::i8, values.data(), 4, 3, scales.data()};
  const rr::TokenMatrix s = m.slice(1, 3);
  EXPECT_EQ(s.rows, 2u);
  EXPECT_EQ(s.data, values.data() + 3);
  EXPECT_EQ(s.scales, scales.data() + 1);
}

TEST(Tensor, PackedOffsetsAreValidated) {
  std::vector<float> data(5 * 2, 1.0f);
  const rr::TokenMatrix tokens{rr::DType::f32, data.data(), 5, 2};
  const std::vector<std::int64_t> good = {0, 2, 2, 5};
  EXPECT_NO_THROW(rr::validate(rr::PackedTokens{tokens, good}, "docs"));

  const std::vector<std::int64_t> decreasing = {0, 3, 2, 5};
  EXPECT_NE(error_of([&] {
              rr::validate(rr::PackedTokens{tokens, decreasing}, "docs");
            }).find("must not decrease"),
            std::string::npos);
  const std::vector<std::int64_t> past_end = {0, 2, 6};
  EXPECT_NE(error_of([&] {
              rr::validate(rr::PackedTokens{tokens, past_end}, "docs");
            }).find("5 rows"),
            std::string::npos);
  const std::vector<std::int64_t> not_zero = {1, 5};
  EXPECT_NE(error_of([&] {
              rr::validate(rr::PackedTokens{tokens, not_zero}, "docs");
            }).find("offsets[0]"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              rr::validate(rr::PackedTokens{tokens, {}}, "docs");
            }).find("empty"),
            std::string::npos);
}

TEST(Tensor, PaddedNeedsExactlyOneOfLengthsOrMask) {
  std::vector<float> data(2 * 3 * 4, 0.5f);
  const rr::TokenMatrix tokens{rr::DType::f32, data.data(), 6, 4};
  const std::vector<std::int64_t> lengths = {3, 1};
  const std::vector<std::uint8_t> mask(6, 1);
  EXPECT_NO_THROW(rr::validate(rr::PaddedTokens{tokens, 2, 3, lengths, {}}, "docs"));
  EXPECT_NO_THROW(rr::validate(rr::PaddedTokens{tokens, 2, 3, {}, mask}, "docs"));
  EXPECT_FALSE(error_of([&] {
                 rr::validate(rr::PaddedTokens{tokens, 2, 3, lengths, mask}, "d");
               }).empty());
  const std::vector<std::int64_t> too_long = {4, 1};
  EXPECT_NE(error_of([&] {
              rr::validate(rr::PaddedTokens{tokens, 2, 3, too_long, {}}, "d");
            }).find("lengths[0] = 4"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              rr::validate(rr::PaddedTokens{tokens, 3, 3, lengths, {}}, "d");
            }).find("n_docs * max_len"),
            std::string::npos);
}

TEST(Tensor, Int8NeedsScalesAndOthersMustNotHaveThem) {
  std::vector<std::int8_t> values(6);
  std::vector<float> scales(2, 1.0f);
  EXPECT_FALSE(error_of([&] {
                 rr::validate(rr::TokenMatrix{rr::DType::i8, values.data(), 2, 3}, "docs");
               }).empty());
  EXPECT_FALSE(
      error_of([&] {
        rr::validate(rr::TokenMatrix{rr::DType::f16, values.data(), 1, 3, scales.data()}, "docs");
      }).empty());
  EXPECT_NE(error_of([&] {
              rr::validate(rr::TokenMatrix{rr::DType::f32, nullptr, 0, 0}, "q");
            }).find("dimension"),
            std::string::npos);
}
