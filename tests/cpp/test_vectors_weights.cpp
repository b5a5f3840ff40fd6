// Vector primitives against float64 loops, and token weights against hand-computed formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/vectors.hpp"
#include "rank_rerank/token_weights.hpp"

namespace rr = rank_rerank;

namespace {

double ref_dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}

double abs_dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += std::abs(double(a[i]) * b[i]);
  return s;
}

std::vector<float> random_vector(std::mt19937& rng, std::size_t n) {
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

bool throws_invalid(const std::function<void()>& f) {
  try {
    f();
  } catch (const rr::Error& e) {
    return e.kind() == rr::ErrorKind::invalid_argument;
  }
  return false;
}

}  // namespace

TEST(Vectors, MatchFloat64ForEveryLengthAroundTheLaneCounts) {
  std::mt19937 rng(12);
  for (std::size_t n = 0; n < 300; n += (n < 70 ? 1 : 37)) {
    const auto a = random_vector(rng, n), b = random_vector(rng, n);
    const double tol = 1e-6 * (abs_dot(a, b) + 1.0);
    EXPECT_NEAR(rr::dot(a, b), ref_dot(a, b), tol) << n;
    const double na = std::sqrt(ref_dot(a, a)), nb = std::sqrt(ref_dot(b, b));
    EXPECT_NEAR(rr::norm(a), na, 1e-6 * (na + 1)) << n;
    const double cos = (na == 0 || nb == 0) ? 0.0 : ref_dot(a, b) / (na * nb);
    EXPECT_NEAR(rr::cosine(a, b), cos, 1e-5) << n;
    auto u = a;
    rr::l2_normalize(u);
    for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(u[i], a[i] / na, 1e-6) << n;
  }
}

TEST(Vectors, ZeroVectorsAndMismatchedLengths) {
  std::vector<float> zero(9, 0.0f), ones(9, 1.0f), short_one(8, 1.0f);
  EXPECT_EQ(rr::cosine(zero, ones), 0.0f);
  EXPECT_EQ(rr::norm(zero), 0.0f);
  auto z = zero;
  rr::l2_normalize(z);
  EXPECT_EQ(z, zero);
  EXPECT_TRUE(throws_invalid([&] { rr::dot(ones, short_one); }));
  EXPECT_TRUE(throws_invalid([&] { rr::cosine(ones, short_one); }));
  std::vector<float> nan_v(9, std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(std::isnan(rr::cosine(nan_v, ones)));
}

TEST(Vectors, RowVariantsMatchSingleVectorFunctions) {
  std::mt19937 rng(13);
  const std::size_t rows = 7, cols = 19;
  const auto a = random_vector(rng, rows * cols), b = random_vector(rng, rows * cols);
  const rr::MatrixView ma{a.data(), rows, cols}, mb{b.data(), rows, cols};
  const auto d = rr::dot_rows(ma, mb), c = rr::cosine_rows(ma, mb), n = rr::norm_rows(ma);
  auto u = a;
  rr::l2_normalize_rows(rr::MutableMatrixView{u.data(), rows, cols});
  for (std::size_t i = 0; i < rows; ++i) {
    const std::span<const float> ra(a.data() + i * cols, cols), rb(b.data() + i * cols, cols);
    EXPECT_EQ(d[i], rr::dot(ra, rb));
    EXPECT_EQ(c[i], rr::cosine(ra, rb));
    EXPECT_EQ(n[i], rr::norm(ra));
    EXPECT_NEAR(rr::norm(std::span<const float>(u.data() + i * cols, cols)), 1.0f, 1e-6);
  }
  const rr::MatrixView wrong{b.data(), rows - 1, cols};
  EXPECT_TRUE(throws_invalid([&] { rr::dot_rows(ma, wrong); }));
  EXPECT_TRUE(throws_invalid([&] { rr::cosine_rows(ma, wrong); }));
}

TEST(Weights, Bm25IdfFormula) {
  // ln(1 + (N - df + 0.5) / (df + 0.5)) by hand for N = 10.
  EXPECT_NEAR(rr::bm25_idf(0, 10), std::log(1.0 + 10.5 / 0.5), 1e-6);
  EXPECT_NEAR(rr::bm25_idf(3, 10), std::log(1.0 + 7.5 / 3.5), 1e-6);
  EXPECT_NEAR(rr::bm25_idf(10, 10), std::log(1.0 + 0.5 / 10.5), 1e-6);
  EXPECT_GT(rr::bm25_idf(10, 10), 0.0f);
  const std::vector<std::int64_t> dfs{0, 3, 10};
  const auto idf = rr::bm25_idf(dfs, 10);
  EXPECT_EQ(idf[1], rr::bm25_idf(3, 10));
  EXPECT_TRUE(throws_invalid([] { rr::bm25_idf(11, 10); }));
  EXPECT_TRUE(throws_invalid([] { rr::bm25_idf(-1, 10); }));
  EXPECT_TRUE(throws_invalid([] { rr::bm25_idf(0, -1); }));
}

TEST(Weights, IdfWeightsLookUpTokenIds) {
  const std::vector<std::int64_t> df_table{5, 0, 1, 10};
  const std::vector<std::int64_t> ids{3, 0, 2, 99};
  const auto w = rr::idf_weights(ids, df_table, 10);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0], rr::bm25_idf(10, 10));
  EXPECT_EQ(w[1], rr::bm25_idf(5, 10));
  EXPECT_EQ(w[2], rr::bm25_idf(1, 10));
  EXPECT_EQ(w[3], rr::bm25_idf(0, 10));  // never seen
  const std::vector<std::int64_t> negative{-1};
  EXPECT_TRUE(throws_invalid([&] { rr::idf_weights(negative, df_table, 10); }));
  const std::vector<std::int64_t> too_big_df{11};
  const std::vector<std::int64_t> zero{0};
  EXPECT_TRUE(throws_invalid([&] { rr::idf_weights(zero, too_big_df, 10); }));
}

TEST(Weights, Bm25WeightsFormula) {
  const std::vector<float> tf{1.0f, 3.0f, 0.0f};
  const std::vector<std::int64_t> df{2, 5, 1};
  const double dl = 12, avgdl = 8, k1 = 1.2, b = 0.75;
  const auto w = rr::bm25_weights(tf, df, 20, dl, avgdl);
  for (std::size_t i = 0; i < 3; ++i) {
    const double idf = std::log(1.0 + (20 - df[i] + 0.5) / (df[i] + 0.5));
    const double want = idf * tf[i] * (k1 + 1) / (tf[i] + k1 * (1 - b + b * dl / avgdl));
    EXPECT_NEAR(w[i], want, 1e-5) << i;
  }
  const auto w2 = rr::bm25_weights(tf, df, 20, dl, avgdl, {2.0f, 0.0f});
  const double idf1 = std::log(1.0 + (20 - 5 + 0.5) / 5.5);
  EXPECT_NEAR(w2[1], idf1 * 3.0 * 3.0 / (3.0 + 2.0), 1e-5);
  const std::vector<float> negative_tf{-1.0f, 1.0f, 1.0f};
  EXPECT_TRUE(throws_invalid([&] { rr::bm25_weights(negative_tf, df, 20, dl, avgdl); }));
  EXPECT_TRUE(throws_invalid([&] { rr::bm25_weights(tf, df, 20, dl, 0.0); }));
  EXPECT_TRUE(throws_invalid([&] { rr::bm25_weights(tf, df, 20, -1.0, avgdl); }));
  EXPECT_TRUE(throws_invalid([&] { rr::bm25_weights(tf, df, 20, dl, avgdl, {1.2f, 1.5f}); }));
  EXPECT_TRUE(throws_invalid([&] { rr::bm25_weights(tf, df, 20, dl, avgdl, {-1.0f, 0.5f}); }));
  const std::vector<std::int64_t> short_df{1};
  EXPECT_TRUE(throws_invalid([&] { rr::bm25_weights(tf, short_df, 20, dl, avgdl); }));
}

TEST(Weights, AttentionWeightsSumToOne) {
  const std::vector<float> s{0.1f, 0.3f, 0.6f};
  const auto w = rr::attention_weights(s);
  EXPECT_NEAR(w[0] + w[1] + w[2], 1.0f, 1e-6);
  EXPECT_NEAR(w[2], 0.6f, 1e-6);
  const auto uniform = rr::attention_weights(std::vector<float>{0.0f, 0.0f, 0.0f, 0.0f});
  for (const float x : uniform) EXPECT_EQ(x, 0.25f);
  EXPECT_TRUE(rr::attention_weights(std::vector<float>{}).empty());
}
