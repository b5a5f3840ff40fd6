// MMR and greedy DPP against float64 references from the definitions: MMR recomputes every
// candidate's max similarity to the picks from the full matrix; the DPP reference evaluates
// log det L_{Y+j} by Cholesky for every candidate at every step (no incremental update).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "rank_rerank/diversity.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank {
namespace {

struct Data {
  std::size_t n, dim;
  std::vector<float> emb;
  std::vector<float> rel;
};

Data random_data(std::size_t n, std::size_t dim, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  Data d{n, dim, std::vector<float>(n * dim), std::vector<float>(n)};
  for (float& v : d.emb) v = normal(gen);
  for (float& v : d.rel) v = uniform(gen);
  return d;
}

std::vector<double> similarity_matrix(const Data& d, bool cosine) {
  std::vector<double> s(d.n * d.n);
  for (std::size_t i = 0; i < d.n; ++i)
    for (std::size_t j = 0; j < d.n; ++j) {
      double dot = 0.0, ni = 0.0, nj = 0.0;
      for (std::size_t t = 0; t < d.dim; ++t) {
        const double a = d.emb[i * d.dim + t], b = d.emb[j * d.dim + t];
        dot += a * b;
        ni += a * a;
        nj += b * b;
      }
      s[i * d.n + j] = cosine ? (ni == 0.0 || nj == 0.0 ? 0.0 : dot / std::sqrt(ni * nj)) : dot;
    }
  return s;
}

std::vector<std::int64_t> reference_mmr(const std::vector<double>& s,
                                        const std::vector<float>& relevance, std::size_t k,
                                        double lambda, bool normalize,
                                        std::vector<double>* gains = nullptr) {
  const std::size_t n = relevance.size();
  std::vector<double> rel(relevance.begin(), relevance.end());
  if (normalize) {
    double lo = 1e300, hi = -1e300;
    for (const double r : rel) lo = std::min(lo, r), hi = std::max(hi, r);
    for (double& r : rel) r = hi - lo > 1e-9 ? (r - lo) / (hi - lo) : 1.0;
  }
  std::vector<std::int64_t> picked;
  for (std::size_t step = 0; step < k; ++step) {
    std::int64_t best = -1;
    double best_score = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (std::find(picked.begin(), picked.end(), std::int64_t(i)) != picked.end()) continue;
      double max_sim = picked.empty() ? 0.0 : -std::numeric_limits<double>::infinity();
      for (const std::int64_t p : picked) max_sim = std::max(max_sim, s[i * n + std::size_t(p)]);
      const double score = lambda * rel[i] - (1.0 - lambda) * max_sim;
      if (best < 0 || score > best_score) best = std::int64_t(i), best_score = score;
    }
    picked.push_back(best);
    if (gains) gains->push_back(best_score);
  }
  return picked;
}

// log det of the principal submatrix of L on `items`; -inf when not positive definite.
double log_det(const std::vector<double>& l, std::size_t n, const std::vector<std::size_t>& items) {
  const std::size_t m = items.size();
  std::vector<double> a(m * m);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j) a[i * m + j] = l[items[i] * n + items[j]];
  double ld = 0.0;
  for (std::size_t j = 0; j < m; ++j) {
    double diag = a[j * m + j];
    for (std::size_t t = 0; t < j; ++t) diag -= a[j * m + t] * a[j * m + t];
    if (!(diag > 0.0)) return -std::numeric_limits<double>::infinity();
    const double root = std::sqrt(diag);
    a[j * m + j] = root;
    ld += 2.0 * std::log(root);
    for (std::size_t i = j + 1; i < m; ++i) {
      double v = a[i * m + j];
      for (std::size_t t = 0; t < j; ++t) v -= a[i * m + t] * a[j * m + t];
      a[i * m + j] = v / root;
    }
  }
  return ld;
}

std::vector<std::int64_t> reference_dpp(const std::vector<double>& s, const std::vector<float>& rel,
                                        std::size_t k, double alpha, std::vector<double>& gains) {
  const std::size_t n = rel.size();
  std::vector<double> l(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      l[i * n + j] = std::exp(alpha * rel[i]) * s[i * n + j] * std::exp(alpha * rel[j]);
  std::vector<std::size_t> picked;
  double current = 0.0;
  for (std::size_t step = 0; step < k; ++step) {
    std::size_t best = n;
    double best_ld = -std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < n; ++j) {
      if (std::find(picked.begin(), picked.end(), j) != picked.end()) continue;
      std::vector<std::size_t> with = picked;
      with.push_back(j);
      const double ld = log_det(l, n, with);
      if (ld > best_ld) best = j, best_ld = ld;
    }
    if (best == n) break;
    picked.push_back(best);
    gains.push_back(best_ld - current);
    current = best_ld;
  }
  return {picked.begin(), picked.end()};
}

TEST(Mmr, MatchesDefinitionOnEmbeddingsAndMatrices) {
  for (const unsigned seed : {1u, 2u, 3u}) {
    const Data d = random_data(60, 12, seed);
    for (const double lambda : {0.0, 0.3, 0.5, 0.9, 1.0})
      for (const bool cosine : {true, false})
        for (const bool normalize : {true, false}) {
          MmrOptions o;
          o.k = 15;
          o.lambda = lambda;
          o.similarity = cosine ? Similarity::cosine : Similarity::dot;
          o.normalize_relevance = normalize;
          const std::vector<double> s = similarity_matrix(d, cosine);
          std::vector<double> gains;
          const auto expected = reference_mmr(s, d.rel, o.k, lambda, normalize, &gains);
          const Selection got = mmr({d.emb.data(), d.n, d.dim}, d.rel, o);
          EXPECT_EQ(got.indices, expected) << seed << " " << lambda << " " << cosine;
          ASSERT_EQ(got.gains.size(), gains.size());
          for (std::size_t i = 0; i < gains.size(); ++i) EXPECT_NEAR(got.gains[i], gains[i], 1e-9);
          const std::vector<float> sf(s.begin(), s.end());
          EXPECT_EQ(mmr_from_similarity({sf.data(), d.n, d.n}, d.rel, o).indices, expected);
        }
  }
}

TEST(Mmr, SeedCrateExample) {
  // doc1 first (most relevant), then doc3 (diverse) ahead of the near-duplicate doc2.
  const std::vector<float> rel{0.95f, 0.90f, 0.85f};
  const std::vector<float> sim{1.0f, 0.9f, 0.2f, 0.9f, 1.0f, 0.3f, 0.2f, 0.3f, 1.0f};
  MmrOptions o;
  o.k = 2;
  EXPECT_EQ(mmr_from_similarity({sim.data(), 3, 3}, rel, o).indices,
            (std::vector<std::int64_t>{0, 2}));
  o.lambda = 1.0;
  EXPECT_EQ(mmr_from_similarity({sim.data(), 3, 3}, rel, o).indices,
            (std::vector<std::int64_t>{0, 1}));
}

TEST(Mmr, TiesGoToLowerIndexAndConstantRelevanceIsOne) {
  const std::vector<float> emb{1, 0, 1, 0, 0, 1, 0, 1};
  const std::vector<float> rel{0.5f, 0.5f, 0.5f, 0.5f};
  MmrOptions o;
  o.k = 4;
  const Selection s = mmr({emb.data(), 4, 2}, rel, o);
  EXPECT_EQ(s.indices, (std::vector<std::int64_t>{0, 2, 1, 3}));
  EXPECT_DOUBLE_EQ(s.gains[0], 0.5);  // 0.5 * 1 - 0.5 * 0
  MmrOptions none = o;
  none.k = 0;
  EXPECT_TRUE(mmr({emb.data(), 4, 2}, rel, none).indices.empty());
}

TEST(Mmr, ZeroVectorsHaveZeroCosine) {
  const std::vector<float> emb{0, 0, 1, 0, 1, 0};
  const std::vector<float> rel{0.0f, 1.0f, 0.9f};
  MmrOptions o;
  o.k = 3;
  o.lambda = 0.5;
  // After picking 1, candidate 2 (identical direction) scores 0.5*0.9 - 0.5 = -0.05 and the
  // zero vector 0 scores 0: it comes second.
  EXPECT_EQ(mmr({emb.data(), 3, 2}, rel, o).indices, (std::vector<std::int64_t>{1, 0, 2}));
}

TEST(Dpp, MatchesBruteForceLogDetGreedy) {
  for (const unsigned seed : {4u, 5u, 6u}) {
    const Data d = random_data(12, 16, seed);
    for (const double alpha : {0.0, 1.0, 3.0})
      for (const bool cosine : {true, false}) {
        DppOptions o;
        o.k = 9;
        o.alpha = alpha;
        o.similarity = cosine ? Similarity::cosine : Similarity::dot;
        const std::vector<double> s = similarity_matrix(d, cosine);
        std::vector<double> gains;
        const auto expected = reference_dpp(s, d.rel, o.k, alpha, gains);
        const Selection got = dpp({d.emb.data(), d.n, d.dim}, d.rel, o);
        EXPECT_EQ(got.indices, expected) << seed << " " << alpha << " " << cosine;
        ASSERT_EQ(got.gains.size(), gains.size());
        for (std::size_t i = 0; i < gains.size(); ++i) EXPECT_NEAR(got.gains[i], gains[i], 1e-8);
        const std::vector<float> sf(s.begin(), s.end());
        EXPECT_EQ(dpp_from_similarity({sf.data(), d.n, d.n}, d.rel, o).indices, expected);
      }
  }
}

TEST(Dpp, StopsWhenTheRestLiesInTheSpanOfTheSelection) {
  // Ten candidates in a 3-dimensional space: a fourth pick would make det L zero.
  const Data d = random_data(10, 3, 8);
  DppOptions o;
  o.k = 6;
  EXPECT_EQ(dpp({d.emb.data(), d.n, d.dim}, d.rel, o).indices.size(), 3u);
  const std::vector<float> zero(2 * 4, 0.0f);
  const std::vector<float> rel{1, 2};
  o.k = 2;
  EXPECT_TRUE(dpp({zero.data(), 2, 4}, rel, o).indices.empty());
}

TEST(Dpp, OptionallyStopsAtNonPositiveGain) {
  const Data d = random_data(8, 8, 9);
  std::vector<float> low(d.rel.size(), -5.0f);
  DppOptions o;
  o.k = 4;
  EXPECT_EQ(dpp({d.emb.data(), d.n, d.dim}, low, o).indices.size(), 4u);
  o.stop_at_nonpositive_gain = true;
  EXPECT_TRUE(dpp({d.emb.data(), d.n, d.dim}, low, o).indices.empty());
  // Cosine kernel, relevance 1, alpha 1: gains 2 + log(residual) stay positive for a while.
  const std::vector<float> one(d.rel.size(), 1.0f);
  const Selection s = dpp({d.emb.data(), d.n, d.dim}, one, o);
  ASSERT_FALSE(s.indices.empty());
  for (const double g : s.gains) EXPECT_GT(g, 0.0);
  EXPECT_DOUBLE_EQ(s.gains[0], 2.0);
}

TEST(Dpp, LargeQualitiesDoNotOverflow) {
  const Data d = random_data(20, 8, 10);
  std::vector<float> rel = d.rel;
  for (float& r : rel) r *= 1000.0f;  // exp(alpha * r) would overflow
  DppOptions o;
  o.k = 5;
  const Selection s = dpp({d.emb.data(), d.n, d.dim}, rel, o);
  ASSERT_EQ(s.indices.size(), 5u);
  for (const double g : s.gains) EXPECT_TRUE(std::isfinite(g));
}

TEST(Diversity, RejectsBadInput) {
  const Data d = random_data(5, 3, 11);
  const MatrixView e{d.emb.data(), 5, 3};
  MmrOptions m;
  m.k = 6;
  EXPECT_THROW(mmr(e, d.rel, m), Error);  // k > n
  m.k = 2;
  EXPECT_THROW(mmr(e, std::span<const float>(d.rel).first(4), m), Error);
  m.lambda = 1.5;
  EXPECT_THROW(mmr(e, d.rel, m), Error);
  m.lambda = NAN;
  EXPECT_THROW(mmr(e, d.rel, m), Error);
  m.lambda = 0.5;
  EXPECT_THROW(mmr({d.emb.data(), 5, 0}, d.rel, m), Error);
  std::vector<float> bad = d.rel;
  bad[2] = NAN;
  EXPECT_THROW(mmr(e, bad, m), Error);
  std::vector<float> bad_emb = d.emb;
  bad_emb[4] = INFINITY;
  EXPECT_THROW(mmr({bad_emb.data(), 5, 3}, d.rel, m), Error);
  EXPECT_THROW(mmr_from_similarity({d.emb.data(), 5, 3}, d.rel, m), Error);  // not square
  std::vector<float> s(25, 0.0f);
  s[7] = NAN;
  EXPECT_THROW(mmr_from_similarity({s.data(), 5, 5}, d.rel, m), Error);

  DppOptions p;
  p.k = 6;
  EXPECT_THROW(dpp(e, d.rel, p), Error);
  p.k = 2;
  p.alpha = -1.0;
  EXPECT_THROW(dpp(e, d.rel, p), Error);
  p.alpha = 1.0;
  p.epsilon = -1.0;
  EXPECT_THROW(dpp(e, d.rel, p), Error);
  p.epsilon = 1e-10;
  EXPECT_THROW(dpp(e, bad, p), Error);
  EXPECT_THROW(dpp_from_similarity({s.data(), 5, 5}, d.rel, p), Error);
  EXPECT_THROW(dpp_from_similarity({d.emb.data(), 3, 5}, d.rel, p), Error);
  DppOptions seven;
  seven.k = 7;
  try {
    dpp(e, d.rel, seven);
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(err.what()).find("k = 7"), std::string::npos) << err.what();
  }
  const std::vector<float> empty;
  DppOptions zero;
  zero.k = 0;
  EXPECT_TRUE(dpp({nullptr, 0, 3}, empty, zero).indices.empty());
}

}  // namespace
}  // namespace rank_rerank
