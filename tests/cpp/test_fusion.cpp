// Matryoshka refinement, blending and normalisation against float64 evaluations of their
// definitions, plus the documented NaN / empty / constant-input behaviour.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/fusion.hpp"

namespace rank_rerank {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(MatryoshkaRefine, MatchesDefinition) {
  const std::size_t n = 50, dim = 32, head = 8;
  std::mt19937 gen(3);
  std::normal_distribution<float> normal;
  std::vector<float> docs(n * dim), query(dim), scores(n);
  for (float& v : docs) v = normal(gen);
  for (float& v : query) v = normal(gen);
  for (float& v : scores) v = normal(gen);
  MatryoshkaOptions o;
  o.head_dims = head;
  o.alpha = 0.3;
  const std::vector<Ranked> ranked = matryoshka_refine(query, {docs.data(), n, dim}, scores, o);
  ASSERT_EQ(ranked.size(), n);
  std::vector<double> expected(n);
  for (std::size_t i = 0; i < n; ++i) {
    double dot = 0, qq = 0, dd = 0;
    for (std::size_t t = head; t < dim; ++t) {
      dot += double(query[t]) * docs[i * dim + t];
      qq += double(query[t]) * query[t];
      dd += double(docs[i * dim + t]) * docs[i * dim + t];
    }
    expected[i] = 0.3 * scores[i] + 0.7 * dot / std::sqrt(qq * dd);
  }
  for (std::size_t k = 0; k < n; ++k) {
    EXPECT_NEAR(ranked[k].score, expected[std::size_t(ranked[k].index)], 1e-6);
    if (k > 0) {
      EXPECT_GE(ranked[k - 1].score, ranked[k].score);
    }
  }
  o.top_k = 5;
  const std::vector<Ranked> top = matryoshka_refine(query, {docs.data(), n, dim}, scores, o);
  ASSERT_EQ(top.size(), 5u);
  for (std::size_t k = 0; k < 5; ++k) EXPECT_EQ(top[k].index, ranked[k].index);
}

TEST(MatryoshkaRefine, SeedCrateExamples) {
  const std::vector<float> scores{0.9f, 0.1f};
  const std::vector<float> query{0, 0, 1, 0};
  const std::vector<float> docs{0, 0, 0, 1, 0, 0, 1, 0};
  MatryoshkaOptions o;
  o.head_dims = 2;
  o.alpha = 0.0;  // tail only: d2 matches the query's tail
  EXPECT_EQ(matryoshka_refine(query, {docs.data(), 2, 4}, scores, o)[0].index, 1);
  o.alpha = 1.0;  // first-stage scores only
  EXPECT_EQ(matryoshka_refine(query, {docs.data(), 2, 4}, scores, o)[0].index, 0);
}

TEST(MatryoshkaRefine, TiesByIndexNaNLastZeroTailIsZero) {
  const std::vector<float> query{1, 1, 0};
  const std::vector<float> docs{5, 5, 0, 1, 1, 1, 0, 0, 1, 0, 0, 1};  // 4 docs of dim 3
  const std::vector<float> scores{0.5f, kNaN, 0.5f, 0.5f};
  MatryoshkaOptions o;
  o.head_dims = 2;  // query tail is zero: every cosine is 0
  const std::vector<Ranked> r = matryoshka_refine(query, {docs.data(), 4, 3}, scores, o);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].index, 0);
  EXPECT_EQ(r[1].index, 2);
  EXPECT_EQ(r[2].index, 3);
  EXPECT_EQ(r[3].index, 1);
  EXPECT_FLOAT_EQ(r[0].score, 0.25f);
  EXPECT_TRUE(std::isnan(r[3].score));
}

TEST(MatryoshkaRefine, RejectsBadInput) {
  const std::vector<float> query{1, 2, 3};
  const std::vector<float> docs{1, 2, 3, 4, 5, 6};
  const std::vector<float> scores{1, 2};
  MatryoshkaOptions o;
  o.head_dims = 3;
  EXPECT_THROW(matryoshka_refine(query, {docs.data(), 2, 3}, scores, o), Error);
  o.head_dims = 1;
  EXPECT_THROW(matryoshka_refine(query, {docs.data(), 3, 2}, scores, o), Error);
  EXPECT_THROW(
      matryoshka_refine(query, {docs.data(), 2, 3}, std::span<const float>(scores).first(1), o),
      Error);
  o.alpha = -0.1;
  EXPECT_THROW(matryoshka_refine(query, {docs.data(), 2, 3}, scores, o), Error);
  o.alpha = 0.5;
  o.top_k = 3;
  EXPECT_THROW(matryoshka_refine(query, {docs.data(), 2, 3}, scores, o), Error);
  o.top_k = 0;
  EXPECT_TRUE(matryoshka_refine(query, {docs.data(), 2, 3}, scores, o).empty());
}

TEST(BlendScores, LinearMixAndChecks) {
  const std::vector<float> a{1, 2, kNaN}, b{3, 6, 1};
  const std::vector<float> out = blend_scores(a, b, 0.25);
  EXPECT_FLOAT_EQ(out[0], 2.5f);
  EXPECT_FLOAT_EQ(out[1], 5.0f);
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_TRUE(blend_scores({}, {}, 0.5).empty());
  EXPECT_THROW(blend_scores(a, std::span<const float>(b).first(2), 0.5), Error);
  EXPECT_THROW(blend_scores(a, b, 1.5), Error);
  EXPECT_THROW(blend_scores(a, b, std::nan("")), Error);
}

TEST(NormalizeScores, MinMax) {
  const std::vector<float> s{2, 4, kNaN, 3, kInf, -kInf};
  const std::vector<float> out = normalize_scores(s, ScoreNormalization::min_max);
  EXPECT_FLOAT_EQ(out[0], 0.0f);
  EXPECT_FLOAT_EQ(out[1], 1.0f);
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_FLOAT_EQ(out[3], 0.5f);
  EXPECT_FLOAT_EQ(out[4], 1.0f);
  EXPECT_FLOAT_EQ(out[5], 0.0f);
  const std::vector<float> constant{7, 7, 7};
  EXPECT_EQ(normalize_scores(constant, ScoreNormalization::min_max),
            (std::vector<float>{0.5f, 0.5f, 0.5f}));
  EXPECT_TRUE(normalize_scores({}, ScoreNormalization::min_max).empty());
}

TEST(NormalizeScores, SoftmaxIsStableAndIgnoresNonFinite) {
  const std::vector<float> s{1000, 1001, kNaN, 999, kInf};
  const std::vector<float> out = normalize_scores(s, ScoreNormalization::softmax);
  const double z = std::exp(-1.0) + 1.0 + std::exp(-2.0);
  EXPECT_NEAR(out[0], std::exp(-1.0) / z, 1e-7);
  EXPECT_NEAR(out[1], 1.0 / z, 1e-7);
  EXPECT_EQ(out[2], 0.0f);
  EXPECT_NEAR(out[3], std::exp(-2.0) / z, 1e-7);
  EXPECT_EQ(out[4], 0.0f);
  const std::vector<float> t =
      normalize_scores(std::vector<float>{0, 1}, ScoreNormalization::softmax, 0.5);
  EXPECT_NEAR(t[1], 1.0 / (1.0 + std::exp(-2.0)), 1e-7);
  const std::vector<float> none{kNaN, kInf};
  EXPECT_EQ(normalize_scores(none, ScoreNormalization::softmax), (std::vector<float>{0, 0}));
}

TEST(NormalizeScores, SigmoidWithoutOverflow) {
  const std::vector<float> s{0, 2, -2, 1e30f, -1e30f, kNaN, kInf, -kInf};
  const std::vector<float> out = normalize_scores(s, ScoreNormalization::sigmoid);
  EXPECT_FLOAT_EQ(out[0], 0.5f);
  EXPECT_NEAR(out[1], 1.0 / (1.0 + std::exp(-2.0)), 1e-7);
  EXPECT_NEAR(out[2], 1.0 / (1.0 + std::exp(2.0)), 1e-7);
  EXPECT_EQ(out[3], 1.0f);
  EXPECT_EQ(out[4], 0.0f);
  EXPECT_TRUE(std::isnan(out[5]));
  EXPECT_EQ(out[6], 1.0f);
  EXPECT_EQ(out[7], 0.0f);
  EXPECT_NEAR(normalize_scores(std::vector<float>{1}, ScoreNormalization::sigmoid, 2.0)[0],
              1.0 / (1.0 + std::exp(-0.5)), 1e-7);
}

TEST(NormalizeScores, RejectsBadTemperature) {
  const std::vector<float> s{1, 2};
  EXPECT_THROW(normalize_scores(s, ScoreNormalization::softmax, 0.0), Error);
  EXPECT_THROW(normalize_scores(s, ScoreNormalization::sigmoid, -1.0), Error);
  EXPECT_THROW(normalize_scores(s, ScoreNormalization::min_max, kInf), Error);
}

}  // namespace
}  // namespace rank_rerank
