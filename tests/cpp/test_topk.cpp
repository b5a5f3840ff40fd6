// top_k / rank_all against a full sort written from the documented order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/topk.hpp"

namespace rr = rank_rerank;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// The documented order, by brute force: numbers by score descending then index, NaNs last by
// index.
std::vector<std::int64_t> reference_order(const std::vector<float>& s) {
  std::vector<std::int64_t> numbers, nans;
  for (std::size_t i = 0; i < s.size(); ++i)
    (std::isnan(s[i]) ? nans : numbers).push_back(static_cast<std::int64_t>(i));
  std::stable_sort(numbers.begin(), numbers.end(),
                   [&](std::int64_t a, std::int64_t b) { return s[a] > s[b]; });
  numbers.insert(numbers.end(), nans.begin(), nans.end());
  return numbers;
}

}  // namespace

TEST(TopK, MatchesFullSortWithTiesAndNaN) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = rng() % 60;
    std::vector<float> s(n);
    // Few distinct values so ties are common; some NaN and infinities.
    for (float& x : s) {
      const auto r = rng() % 10;
      x = r == 0 ? kNaN : r == 1 ? kInf : r == 2 ? -kInf : static_cast<float>(rng() % 5) - 2.0f;
    }
    const auto want = reference_order(s);
    const std::size_t k = n == 0 ? 0 : rng() % (n + 1);
    const auto got = rr::top_k(s, k);
    ASSERT_EQ(got.size(), k);
    for (std::size_t i = 0; i < k; ++i) {
      EXPECT_EQ(got[i].index, want[i]) << "trial " << trial << " rank " << i;
      const float expected = s[static_cast<std::size_t>(want[i])];
      if (std::isnan(expected))
        EXPECT_TRUE(std::isnan(got[i].score));
      else
        EXPECT_EQ(got[i].score, expected);
    }
    const auto all = rr::rank_all(s);
    ASSERT_EQ(all.size(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(all[i].index, want[i]);
  }
}

TEST(TopK, EdgeCases) {
  const std::vector<float> s{0.5f, 2.0f, -1.0f};
  EXPECT_TRUE(rr::top_k(s, 0).empty());
  EXPECT_TRUE(rr::top_k(std::vector<float>{}, 0).empty());
  EXPECT_EQ(rr::top_k(s, 3).front().index, 1);
  try {
    rr::top_k(s, 4);
    FAIL() << "k > n must throw";
  } catch (const rr::Error& e) {
    EXPECT_EQ(e.kind(), rr::ErrorKind::invalid_argument);
  }
  EXPECT_TRUE(rr::rank_all(std::vector<float>{}).empty());
}
