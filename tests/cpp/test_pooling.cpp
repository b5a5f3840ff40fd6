// Token pooling and the Ward linkage behind it, against float64 references written from the
// definitions: Ward's criterion on cluster centroids, and a naive O(n^3) greedy agglomeration
// that merges the globally closest pair (Lance-Williams) instead of following NN chains.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/pooling.hpp"

namespace rank_rerank {
namespace {

using Clusters = std::vector<std::vector<std::size_t>>;

std::vector<float> random_unit_rows(std::size_t n, std::size_t dim, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(n * dim);
  for (std::size_t i = 0; i < n; ++i) {
    double sq = 0.0;
    for (std::size_t t = 0; t < dim; ++t) {
      x[i * dim + t] = normal(gen);
      sq += double(x[i * dim + t]) * x[i * dim + t];
    }
    for (std::size_t t = 0; t < dim; ++t) x[i * dim + t] = float(x[i * dim + t] / std::sqrt(sq));
  }
  return x;
}

// Greedy agglomeration on a full distance matrix: merge the closest pair, update distances with
// Ward's Lance-Williams formula, stop at `target` clusters. Returns the clusters' members.
Clusters naive_ward(std::vector<double> d, std::size_t n, std::size_t target) {
  Clusters members(n);
  for (std::size_t i = 0; i < n; ++i) members[i] = {i};
  std::vector<bool> alive(n, true);
  for (std::size_t live = n; live > target; --live) {
    std::size_t bi = 0, bj = 0;
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j)
        if (alive[i] && alive[j] && d[i * n + j] < best) {
          best = d[i * n + j];
          bi = i;
          bj = j;
        }
    const double ni = double(members[bi].size()), nj = double(members[bj].size());
    for (std::size_t k = 0; k < n; ++k) {
      if (!alive[k] || k == bi || k == bj) continue;
      const double nk = double(members[k].size());
      const double dik = d[bi * n + k], djk = d[bj * n + k];
      const double v = std::sqrt(
          ((nk + ni) * dik * dik + (nk + nj) * djk * djk - nk * best * best) / (ni + nj + nk));
      d[bi * n + k] = d[k * n + bi] = v;
    }
    members[bi].insert(members[bi].end(), members[bj].begin(), members[bj].end());
    members[bj].clear();
    alive[bj] = false;
  }
  Clusters out;
  for (std::size_t i = 0; i < n; ++i)
    if (alive[i]) out.push_back(members[i]);
  return out;
}

std::vector<double> cosine_distance_matrix(const float* x, std::size_t n, std::size_t dim) {
  std::vector<double> d(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (std::size_t t = 0; t < dim; ++t) s += double(x[i * dim + t]) * x[j * dim + t];
      d[i * n + j] = i == j ? 0.0 : 1.0 - s;
    }
  return d;
}

// Euclidean distances between rows of 1 - X X^T, formed explicitly (O(n^3)).
std::vector<double> similarity_row_matrix(const float* x, std::size_t n, std::size_t dim) {
  std::vector<double> rows(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (std::size_t t = 0; t < dim; ++t) s += double(x[i * dim + t]) * x[j * dim + t];
      rows[i * n + j] = 1.0 - s;
    }
  std::vector<double> d(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double sq = 0.0;
      for (std::size_t k = 0; k < n; ++k)
        sq += (rows[i * n + k] - rows[j * n + k]) * (rows[i * n + k] - rows[j * n + k]);
      d[i * n + j] = std::sqrt(sq);
    }
  return d;
}

std::vector<double> mean_of(const float* x, std::size_t dim,
                            const std::vector<std::size_t>& members) {
  std::vector<double> m(dim, 0.0);
  for (const std::size_t i : members)
    for (std::size_t t = 0; t < dim; ++t) m[t] += x[i * dim + t];
  for (double& v : m) v /= double(members.size());
  return m;
}

// Every pooled row is the mean of exactly one reference cluster (a bijection).
void expect_same_means(const float* pooled, std::size_t rows, const float* x, std::size_t dim,
                       const Clusters& clusters) {
  ASSERT_EQ(rows, clusters.size());
  std::vector<bool> matched(clusters.size(), false);
  for (std::size_t r = 0; r < rows; ++r) {
    bool found = false;
    for (std::size_t c = 0; c < clusters.size() && !found; ++c) {
      if (matched[c]) continue;
      const std::vector<double> m = mean_of(x, dim, clusters[c]);
      double err = 0.0;
      for (std::size_t t = 0; t < dim; ++t)
        err = std::max(err, std::abs(m[t] - pooled[r * dim + t]));
      if (err < 1e-5) matched[c] = found = true;
    }
    EXPECT_TRUE(found) << "pooled row " << r << " is no reference cluster's mean";
  }
}

TEST(WardLinkage, MatchesCentroidDefinitionOnEuclideanPoints) {
  // For Euclidean inputs Ward's merge height is sqrt(2 |A||B| / (|A|+|B|)) * |c_A - c_B|.
  const std::size_t n = 40, dim = 5;
  std::mt19937 gen(7);
  std::normal_distribution<double> normal;
  std::vector<double> p(n * dim);
  for (double& v : p) v = normal(gen);
  std::vector<double> condensed;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      double sq = 0.0;
      for (std::size_t t = 0; t < dim; ++t)
        sq += (p[i * dim + t] - p[j * dim + t]) * (p[i * dim + t] - p[j * dim + t]);
      condensed.push_back(std::sqrt(sq));
    }
  const std::vector<double> z = ward_linkage(condensed);
  ASSERT_EQ(z.size(), 4 * (n - 1));

  Clusters members(2 * n - 1);
  for (std::size_t i = 0; i < n; ++i) members[i] = {i};
  std::vector<bool> alive(2 * n - 1, false);
  std::fill(alive.begin(), alive.begin() + n, true);
  for (std::size_t step = 0; step + 1 < n; ++step) {
    double best = std::numeric_limits<double>::infinity();
    std::size_t ba = 0, bb = 0;
    for (std::size_t a = 0; a < n + step; ++a)
      for (std::size_t b = a + 1; b < n + step; ++b) {
        if (!alive[a] || !alive[b]) continue;
        double sq = 0.0;
        for (std::size_t t = 0; t < dim; ++t) {
          double ca = 0.0, cb = 0.0;
          for (const std::size_t i : members[a]) ca += p[i * dim + t];
          for (const std::size_t i : members[b]) cb += p[i * dim + t];
          const double diff = ca / double(members[a].size()) - cb / double(members[b].size());
          sq += diff * diff;
        }
        const double na = double(members[a].size()), nb = double(members[b].size());
        const double h = std::sqrt(2.0 * na * nb / (na + nb) * sq);
        if (h < best) {
          best = h;
          ba = a;
          bb = b;
        }
      }
    EXPECT_EQ(z[4 * step], double(ba)) << "step " << step;
    EXPECT_EQ(z[4 * step + 1], double(bb)) << "step " << step;
    EXPECT_NEAR(z[4 * step + 2], best, 1e-9 * std::max(1.0, best)) << "step " << step;
    members[n + step] = members[ba];
    members[n + step].insert(members[n + step].end(), members[bb].begin(), members[bb].end());
    EXPECT_EQ(z[4 * step + 3], double(members[n + step].size()));
    alive[ba] = alive[bb] = false;
    alive[n + step] = true;
  }
}

TEST(WardLinkage, TwoObservations) {
  const std::vector<double> z = ward_linkage(std::vector<double>{0.25});
  EXPECT_EQ(z, (std::vector<double>{0, 1, 0.25, 2}));
}

TEST(FclusterMaxclust, LabelsSubtreesBeforeLeafSiblings) {
  // Points 100, 0, 1, 2 on a line: {1, 2} merge first, then 0 joins them, and the far point
  // joins at the root as its left (leaf) child. scipy labels the root's internal child first.
  const std::vector<double> pts{100, 0, 1, 2};
  std::vector<double> condensed;
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = i + 1; j < 4; ++j) condensed.push_back(std::abs(pts[i] - pts[j]));
  const std::vector<double> z = ward_linkage(condensed);
  EXPECT_EQ(fcluster_maxclust(z, 2), (std::vector<std::int32_t>{2, 1, 1, 1}));
  EXPECT_EQ(fcluster_maxclust(z, 1), (std::vector<std::int32_t>{1, 1, 1, 1}));
  EXPECT_EQ(fcluster_maxclust(z, 4), (std::vector<std::int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(fcluster_maxclust(z, 9), (std::vector<std::int32_t>{1, 2, 3, 4}));
  // Three clusters {100}, {0}, {1, 2}: the deepest subtree is labelled first, then the leaf
  // beside it, then the far point at the root.
  EXPECT_EQ(fcluster_maxclust(z, 3), (std::vector<std::int32_t>{3, 2, 1, 1}));
}

TEST(FclusterMaxclust, RejectsMalformedLinkage) {
  EXPECT_THROW(fcluster_maxclust(std::vector<double>{}, 1), Error);
  EXPECT_THROW(fcluster_maxclust(std::vector<double>{0, 1, 1}, 1), Error);
  EXPECT_THROW(fcluster_maxclust(std::vector<double>{0, 1, 1, 2}, 0), Error);
  EXPECT_THROW(fcluster_maxclust(std::vector<double>{0, 2, 1, 2}, 1), Error);  // 2 not formed yet
  EXPECT_THROW(fcluster_maxclust(std::vector<double>{0, 1, 1, 2, 0, 3, 2, 3}, 1),
               Error);  // 0 twice
  EXPECT_THROW(fcluster_maxclust(std::vector<double>{0, 1, NAN, 2}, 1), Error);
  EXPECT_THROW(fcluster_maxclust(std::vector<double>{-1, 1, 1, 2}, 1), Error);
}

TEST(WardLinkage, RejectsBadCondensedInput) {
  EXPECT_THROW(ward_linkage(std::vector<double>{}), Error);
  EXPECT_THROW(ward_linkage(std::vector<double>{1, 2}), Error);  // not n(n-1)/2
  EXPECT_THROW(ward_linkage(std::vector<double>{1, NAN, 2}), Error);
  EXPECT_THROW(ward_linkage(std::vector<double>{1, INFINITY, 2}), Error);
}

struct Case {
  std::size_t tokens;
  std::size_t pool_factor;
  std::size_t protected_tokens;
};

class HierarchicalPooling : public ::testing::TestWithParam<Case> {};

TEST_P(HierarchicalPooling, CosineDistancesMatchNaiveWard) {
  const Case c = GetParam();
  const std::size_t dim = 16;
  const std::vector<float> x =
      random_unit_rows(c.tokens, dim, unsigned(c.tokens * 31 + c.pool_factor));
  PoolingOptions o;
  o.pool_factor = c.pool_factor;
  o.protected_tokens = c.protected_tokens;
  const PooledMatrix out = pool_tokens({x.data(), c.tokens, dim}, o);
  const std::size_t n = c.tokens - c.protected_tokens;
  const std::size_t target = std::max<std::size_t>(n / c.pool_factor, 1);
  ASSERT_EQ(out.cols, dim);
  for (std::size_t i = 0; i < c.protected_tokens * dim; ++i) ASSERT_EQ(out.values[i], x[i]);
  const float* rest = x.data() + c.protected_tokens * dim;
  const Clusters ref = naive_ward(cosine_distance_matrix(rest, n, dim), n, target);
  expect_same_means(out.values.data() + c.protected_tokens * dim, out.rows - c.protected_tokens,
                    rest, dim, ref);
}

TEST_P(HierarchicalPooling, SimilarityRowsMatchNaiveObservationWard) {
  const Case c = GetParam();
  const std::size_t dim = 12;
  const std::vector<float> x =
      random_unit_rows(c.tokens, dim, unsigned(c.tokens * 17 + c.pool_factor));
  PoolingOptions o;
  o.pool_factor = c.pool_factor;
  o.protected_tokens = c.protected_tokens;
  o.variant = WardVariant::similarity_rows;
  const PooledMatrix out = pool_tokens({x.data(), c.tokens, dim}, o);
  const std::size_t n = c.tokens - c.protected_tokens;
  const std::size_t target = std::max<std::size_t>(n / c.pool_factor, 1);
  const std::size_t pooled_rows = out.rows - c.protected_tokens;
  // Protected tokens come last in this variant.
  for (std::size_t i = 0; i < c.protected_tokens * dim; ++i)
    ASSERT_EQ(out.values[pooled_rows * dim + i], x[i]);
  const float* rest = x.data() + c.protected_tokens * dim;
  const Clusters ref = naive_ward(similarity_row_matrix(rest, n, dim), n, target);
  expect_same_means(out.values.data(), pooled_rows, rest, dim, ref);
}

// Token counts on both sides of the embedding dimension exercise both Gram paths.
INSTANTIATE_TEST_SUITE_P(Shapes, HierarchicalPooling,
                         ::testing::Values(Case{6, 2, 1}, Case{11, 3, 1}, Case{33, 2, 1},
                                           Case{40, 4, 0}, Case{65, 2, 2}, Case{9, 2, 3}));

TEST(TokenPooling, MeansAreNotRenormalised) {
  const std::vector<float> x = random_unit_rows(21, 8, 3);
  const PooledMatrix out = pool_tokens({x.data(), 21, 8}, {});
  EXPECT_EQ(out.rows, 1 + 10u);
  bool some_shorter = false;
  for (std::size_t r = 1; r < out.rows; ++r) {
    double sq = 0.0;
    for (std::size_t t = 0; t < 8; ++t) sq += double(out.values[r * 8 + t]) * out.values[r * 8 + t];
    some_shorter |= std::sqrt(sq) < 0.999;
  }
  EXPECT_TRUE(some_shorter);
}

TEST(TokenPooling, LeavesDocumentsThatWouldNotShrink) {
  const std::vector<float> x = random_unit_rows(4, 3, 5);
  PoolingOptions o;
  o.pool_factor = 1;
  EXPECT_EQ(pool_tokens({x.data(), 4, 3}, o).values, x);
  o.pool_factor = 2;
  o.protected_tokens = 4;
  EXPECT_EQ(pool_tokens({x.data(), 4, 3}, o).values, x);  // nothing left to pool
  o.protected_tokens = 3;
  EXPECT_EQ(pool_tokens({x.data(), 4, 3}, o).values, x);  // one token: one cluster
  o.protected_tokens = 0;
  const PooledMatrix empty = pool_tokens({x.data(), 0, 3}, o);
  EXPECT_EQ(empty.rows, 0u);
  EXPECT_EQ(empty.cols, 3u);
}

TEST(TokenPooling, SimilarityRowsKeepsShortDocumentsInItsOrder) {
  const std::vector<float> x = random_unit_rows(2, 3, 9);
  PoolingOptions o;
  o.variant = WardVariant::similarity_rows;
  const PooledMatrix out = pool_tokens({x.data(), 2, 3}, o);
  const std::vector<float> expected{x[3], x[4], x[5], x[0], x[1], x[2]};
  EXPECT_EQ(out.values, expected);
}

TEST(TokenPooling, SequentialAveragesWindows) {
  const std::vector<float> x{9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 10, 20};  // 6 tokens of dim 2
  PoolingOptions o;
  o.method = PoolingMethod::sequential;
  o.pool_factor = 2;
  o.protected_tokens = 1;
  // protected (9,9); windows {(1,2),(3,4)}, {(5,6),(7,8)}, {(10,20)}
  EXPECT_EQ(pool_tokens({x.data(), 6, 2}, o).values,
            (std::vector<float>{9, 9, 2, 3, 6, 7, 10, 20}));
  o.pool_factor = 4;
  o.protected_tokens = 0;
  EXPECT_EQ(pool_tokens({x.data(), 6, 2}, o).values,
            (std::vector<float>{(9 + 1 + 3 + 5) / 4.f, (9 + 2 + 4 + 6) / 4.f, 8.5f, 14}));
}

TEST(TokenPooling, AdaptiveSwitchesToSequentialAtFactorFour) {
  const std::vector<float> x = random_unit_rows(30, 6, 11);
  const MatrixView doc{x.data(), 30, 6};
  for (const std::size_t pf : {2u, 3u, 4u, 6u}) {
    PoolingOptions adaptive;
    adaptive.method = PoolingMethod::adaptive;
    adaptive.pool_factor = pf;
    PoolingOptions fixed = adaptive;
    fixed.method = pf >= 4 ? PoolingMethod::sequential : PoolingMethod::hierarchical;
    EXPECT_EQ(pool_tokens(doc, adaptive).values, pool_tokens(doc, fixed).values) << pf;
  }
}

TEST(TokenPooling, PackedBatchEqualsPerDocumentAtAnyThreadCount) {
  const std::size_t dim = 10;
  const std::vector<std::int64_t> offsets{0, 7, 7, 40, 41, 90, 130};
  const std::vector<float> x = random_unit_rows(130, dim, 21);
  for (const WardVariant v : {WardVariant::cosine_distances, WardVariant::similarity_rows}) {
    PoolingOptions o;
    o.protected_tokens = 0;
    o.variant = v;
    std::vector<float> expected;
    std::vector<std::int64_t> expected_offsets{0};
    for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
      const auto b = std::size_t(offsets[i]), e = std::size_t(offsets[i + 1]);
      const PooledMatrix one = pool_tokens({x.data() + b * dim, e - b, dim}, o);
      expected.insert(expected.end(), one.values.begin(), one.values.end());
      expected_offsets.push_back(expected_offsets.back() + std::int64_t(one.rows));
    }
    for (const std::size_t threads : {1u, 2u, 4u}) {
      o.num_threads = threads;
      const PooledPacked out =
          pool_tokens_packed({TokenMatrix::from({x.data(), 130, dim}), offsets}, o);
      EXPECT_EQ(out.values, expected) << threads;
      EXPECT_EQ(out.offsets, expected_offsets) << threads;
      EXPECT_EQ(out.rows(), std::size_t(expected_offsets.back()));
    }
  }
}

TEST(TokenPooling, RejectsBadInput) {
  std::vector<float> x = random_unit_rows(5, 4, 1);
  const MatrixView doc{x.data(), 5, 4};
  PoolingOptions o;
  o.pool_factor = 0;
  EXPECT_THROW(pool_tokens(doc, o), Error);
  o.pool_factor = 2;
  o.protected_tokens = 6;
  EXPECT_THROW(pool_tokens(doc, o), Error);
  o.protected_tokens = 1;
  EXPECT_THROW(pool_tokens({x.data(), 5, 0}, o), Error);
  x[7] = NAN;
  EXPECT_THROW(pool_tokens(doc, o), Error);
  x[7] = INFINITY;
  EXPECT_THROW(pool_tokens(doc, o), Error);
  try {
    pool_tokens(doc, o);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("token 1"), std::string::npos) << e.what();
  }
}

TEST(TokenPooling, PackedRejectsBadInput) {
  const std::vector<float> x = random_unit_rows(6, 4, 2);
  const std::vector<std::int64_t> offsets{0, 5, 6};
  const TokenMatrix tokens = TokenMatrix::from({x.data(), 6, 4});
  PoolingOptions o;
  o.protected_tokens = 2;  // document 1 has one token
  try {
    pool_tokens_packed({tokens, offsets}, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("document 1"), std::string::npos) << e.what();
  }
  o.protected_tokens = 1;
  const std::vector<std::int64_t> bad_end{0, 5, 7};
  EXPECT_THROW(pool_tokens_packed({tokens, bad_end}, o), Error);
  const std::vector<std::int64_t> none;
  EXPECT_THROW(pool_tokens_packed({tokens, none}, o), Error);
  TokenMatrix half = tokens;
  half.dtype = DType::f16;
  try {
    pool_tokens_packed({half, offsets}, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unsupported);
  }
  o.pool_factor = 0;
  EXPECT_THROW(pool_tokens_packed({tokens, offsets}, o), Error);
}

}  // namespace
}  // namespace rank_rerank
