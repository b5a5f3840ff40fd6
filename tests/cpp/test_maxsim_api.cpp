// The public MaxSim API (maxsim.hpp) against float64 references written from its definition:
// per-token maxima from maxsim_reference.hpp, then padding, weights and empty documents
// applied here as the header documents them. Randomised shapes, every layout, several thread
// counts, and NaN placements.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "maxsim_reference.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/maxsim.hpp"
#include "rank_rerank/quantize.hpp"

namespace rr = rank_rerank;
using rr::DType;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Row-major float rows of unit length (as ColBERT produces), so every similarity is in [-1, 1].
std::vector<float> unit_rows(std::mt19937& rng, std::size_t rows, std::size_t dim) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(rows * dim);
  for (std::size_t i = 0; i < rows; ++i) {
    double s = 0;
    for (std::size_t k = 0; k < dim; ++k) {
      v[i * dim + k] = normal(rng);
      s += double(v[i * dim + k]) * v[i * dim + k];
    }
    for (std::size_t k = 0; k < dim; ++k) v[i * dim + k] /= static_cast<float>(std::sqrt(s));
  }
  return v;
}

rr::TokenMatrix f32(const std::vector<float>& v, std::size_t rows, std::size_t dim) {
  return rr::TokenMatrix{DType::f32, v.data(), rows, dim};
}

// Kernels may round the query to the documents' precision; this bounds one similarity's error.
double similarity_tolerance(DType doc) {
  switch (doc) {
    case DType::f32:
      return 1e-5;
    case DType::bit:
      return 1e-4;
    default:
      return 2e-2;
  }
}

// Definition of the score from per-token maxima: sum_i w_i * best_i, floored at 0 per token
// when asked; an empty document scores 0.
double reference_score(const rr::TokenMatrix& query, const rr::TokenMatrix& doc, bool cosine,
                       const std::vector<float>& weights, bool zero_floor) {
  if (doc.rows == 0) return 0.0;
  const auto r = maxsim_reference::maxsim(query, doc, cosine);
  double sum = 0;
  for (std::size_t i = 0; i < query.rows; ++i) {
    double best = r.row_max[i];
    if (zero_floor && best < 0) best = 0;
    sum += (weights.empty() ? 1.0 : weights[i]) * best;
  }
  return sum;
}

std::vector<float> random_weights(std::mt19937& rng, std::size_t n) {
  std::uniform_real_distribution<float> u(0.0f, 3.0f);
  std::vector<float> w(n);
  for (float& x : w) x = u(rng);
  return w;
}

// Packs documents of the given lengths (random unit rows) with offsets.
struct Packed {
  std::vector<float> values;
  std::vector<std::int64_t> offsets{0};
  std::size_t dim = 0;
  rr::PackedTokens view() const {
    return {
        rr::TokenMatrix{DType::f32, values.data(), static_cast<std::size_t>(offsets.back()), dim},
        offsets};
  }
};
Packed random_packed(std::mt19937& rng, const std::vector<std::size_t>& lengths, std::size_t dim) {
  Packed p;
  p.dim = dim;
  for (const std::size_t n : lengths) {
    const auto rows = unit_rows(rng, n, dim);
    p.values.insert(p.values.end(), rows.begin(), rows.end());
    p.offsets.push_back(p.offsets.back() + static_cast<std::int64_t>(n));
  }
  return p;
}

std::vector<std::size_t> random_lengths(std::mt19937& rng, std::size_t n, std::size_t max_len,
                                        bool allow_empty) {
  std::uniform_int_distribution<std::size_t> len(allow_empty ? 0 : 1, max_len);
  std::vector<std::size_t> out(n);
  for (auto& x : out) x = len(rng);
  return out;
}

rr::ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const rr::Error& e) {
    EXPECT_FALSE(std::string(e.what()).empty());
    return e.kind();
  }
  ADD_FAILURE() << "expected rank_rerank::Error";
  return rr::ErrorKind::runtime;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const rr::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(MaxSimApi, SingleDocumentMatchesDefinition) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t dim = 1 + rng() % 70, nq = 1 + rng() % 33, nd = rng() % 50;
    const auto q = unit_rows(rng, nq, dim), d = unit_rows(rng, nd, dim);
    const bool cosine = trial % 2 == 1;
    const auto w = trial % 3 == 0 ? random_weights(rng, nq) : std::vector<float>{};
    rr::MaxSimOptions opt;
    opt.similarity = cosine ? rr::Similarity::cosine : rr::Similarity::dot;
    opt.query_weights = w;
    const float got = rr::maxsim(f32(q, nq, dim), f32(d, nd, dim), opt);
    const double want = reference_score(f32(q, nq, dim), f32(d, nd, dim), cosine, w, false);
    EXPECT_NEAR(got, want, 3.0 * nq * 1e-5) << "trial " << trial;
  }
}

TEST(MaxSimApi, CosineIgnoresVectorLengths) {
  std::mt19937 rng(2);
  const std::size_t dim = 16, nq = 5, nd = 9;
  auto q = unit_rows(rng, nq, dim), d = unit_rows(rng, nd, dim);
  rr::MaxSimOptions cosine;
  cosine.similarity = rr::Similarity::cosine;
  const float unit = rr::maxsim(f32(q, nq, dim), f32(d, nd, dim));
  for (std::size_t i = 0; i < d.size(); ++i) d[i] *= 1.0f + static_cast<float>(i / dim);
  for (float& x : q) x *= 7.0f;
  EXPECT_NEAR(rr::maxsim(f32(q, nq, dim), f32(d, nd, dim), cosine), unit, 1e-5);
}

TEST(MaxSimApi, EmptyDocumentScoresZeroAndEmptyQueryIsAnError) {
  std::vector<float> q(8, 0.5f);
  const rr::TokenMatrix query{DType::f32, q.data(), 2, 4};
  const rr::TokenMatrix empty{DType::f32, nullptr, 0, 4};
  EXPECT_EQ(rr::maxsim(query, empty), 0.0f);
  EXPECT_EQ(kind_of([&] { rr::maxsim(empty, query); }), rr::ErrorKind::invalid_argument);
  EXPECT_NE(message_of([&] { rr::maxsim(empty, query); }).find("query"), std::string::npos);
}

TEST(MaxSimApi, NaNAnywhereMakesTheScoreNaN) {
  std::mt19937 rng(3);
  const std::size_t dim = 12, nq = 4, nd = 7;
  for (std::size_t where = 0; where < 3; ++where) {
    auto q = unit_rows(rng, nq, dim), d = unit_rows(rng, nd, dim);
    std::vector<float> w(nq, 1.0f);
    if (where == 0) q[dim + 3] = kNaN;
    if (where == 1) d[5 * dim + 1] = kNaN;
    if (where == 2) w[2] = kNaN;
    rr::MaxSimOptions opt;
    opt.query_weights = w;
    EXPECT_TRUE(std::isnan(rr::maxsim(f32(q, nq, dim), f32(d, nd, dim), opt))) << where;
  }
}

TEST(MaxSimApi, PackedMatchesDefinitionForEveryThreadCount) {
  std::mt19937 rng(4);
  const std::size_t dim = 24, nq = 9;
  const auto q = unit_rows(rng, nq, dim);
  const Packed docs = random_packed(rng, random_lengths(rng, 157, 90, true), dim);
  const auto w = random_weights(rng, nq);
  std::vector<float> first;
  for (const std::size_t threads : {1, 2, 3, 8}) {
    rr::MaxSimOptions opt;
    opt.num_threads = threads;
    opt.query_weights = w;
    const auto got = rr::maxsim_packed(f32(q, nq, dim), docs.view(), opt);
    ASSERT_EQ(got.size(), 157u);
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double want = reference_score(f32(q, nq, dim), docs.view().item(i), false, w, false);
      ASSERT_NEAR(got[i], want, 3.0 * nq * 1e-5) << "doc " << i << ", threads " << threads;
    }
    // Each document is scored the same way whichever thread takes it.
    if (first.empty()) first = got;
    EXPECT_EQ(got, first);
  }
}

TEST(MaxSimApi, PackedCompressedDocuments) {
  std::mt19937 rng(5);
  const std::size_t dim = 40, nq = 6;
  const auto q = unit_rows(rng, nq, dim);
  const Packed docs = random_packed(rng, random_lengths(rng, 30, 20, true), dim);
  const rr::MatrixView all{docs.values.data(), static_cast<std::size_t>(docs.offsets.back()), dim};
  for (const DType dt : {DType::f16, DType::bf16, DType::i8, DType::bit}) {
    const rr::QuantizedTokens qd = rr::quantize(all, dt);
    const rr::PackedTokens packed{qd.view(), docs.offsets};
    for (const bool cosine : {false, true}) {
      rr::MaxSimOptions opt;
      opt.similarity = cosine ? rr::Similarity::cosine : rr::Similarity::dot;
      opt.num_threads = 2;
      const auto got = rr::maxsim_packed(f32(q, nq, dim), packed, opt);
      for (std::size_t i = 0; i < got.size(); ++i) {
        const double want = reference_score(f32(q, nq, dim), packed.item(i), cosine, {}, false);
        // Bit documents decode to +-1: similarities reach sqrt(dim) in dot mode.
        const double scale = (dt == DType::bit && !cosine) ? std::sqrt(double(dim)) : 1.0;
        ASSERT_NEAR(got[i], want, nq * scale * similarity_tolerance(dt))
            << rr::dtype_name(dt) << " doc " << i << (cosine ? " cosine" : " dot");
      }
    }
  }
}

TEST(MaxSimApi, BitQueryAgainstBitDocuments) {
  std::mt19937 rng(6);
  const std::size_t dim = 77, nq = 5;
  const auto qf = unit_rows(rng, nq, dim);
  const Packed docs = random_packed(rng, random_lengths(rng, 12, 15, true), dim);
  const rr::QuantizedTokens qb = rr::quantize(rr::MatrixView{qf.data(), nq, dim}, DType::bit);
  const rr::QuantizedTokens db = rr::quantize(
      rr::MatrixView{docs.values.data(), static_cast<std::size_t>(docs.offsets.back()), dim},
      DType::bit);
  const rr::PackedTokens packed{db.view(), docs.offsets};
  const auto got = rr::maxsim_packed(qb.view(), packed);
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i], reference_score(qb.view(), packed.item(i), false, {}, false)) << i;
}

namespace {

// Pads packed documents to max_len rows, filling padding with `fill` (which must never matter
// unless zero_floor is asked for).
std::vector<float> pad(const Packed& p, std::size_t max_len, float fill) {
  const std::size_t n = p.offsets.size() - 1;
  std::vector<float> out(n * max_len * p.dim, fill);
  for (std::size_t i = 0; i < n; ++i) {
    const auto begin = static_cast<std::size_t>(p.offsets[i]) * p.dim;
    const auto end = static_cast<std::size_t>(p.offsets[i + 1]) * p.dim;
    std::copy(p.values.begin() + begin, p.values.begin() + end, out.begin() + i * max_len * p.dim);
  }
  return out;
}

}  // namespace

TEST(MaxSimApi, PaddedWithLengthsIgnoresOrFloorsPadding) {
  std::mt19937 rng(7);
  const std::size_t dim = 20, nq = 7, max_len = 33, n = 41;
  const auto q = unit_rows(rng, nq, dim);
  auto lengths_sz = random_lengths(rng, n, max_len, true);
  lengths_sz[0] = max_len;  // one document without padding: zero_floor must not touch it
  const Packed docs = random_packed(rng, lengths_sz, dim);
  std::vector<std::int64_t> lengths(lengths_sz.begin(), lengths_sz.end());
  // Padding holds values that would win every max (and NaN) if it were read.
  for (const float fill : {100.0f, kNaN}) {
    const auto padded = pad(docs, max_len, fill);
    rr::PaddedTokens view{
        rr::TokenMatrix{DType::f32, padded.data(), n * max_len, dim}, n, max_len, lengths, {}};
    for (const auto policy : {rr::PaddingPolicy::ignore, rr::PaddingPolicy::zero_floor}) {
      rr::MaxSimOptions opt;
      opt.padding = policy;
      opt.num_threads = 2;
      const auto got = rr::maxsim_padded(f32(q, nq, dim), view, opt);
      for (std::size_t i = 0; i < n; ++i) {
        const bool floor = policy == rr::PaddingPolicy::zero_floor && lengths_sz[i] < max_len;
        const double want = reference_score(f32(q, nq, dim), docs.view().item(i), false, {}, floor);
        ASSERT_NEAR(got[i], want, nq * 1e-5) << "doc " << i << " fill " << fill;
      }
    }
  }
}

TEST(MaxSimApi, PaddedWithMaskScoresTheValidRowsOnly) {
  std::mt19937 rng(8);
  const std::size_t dim = 10, nq = 4, max_len = 25, n = 30;
  const auto q = unit_rows(rng, nq, dim);
  auto padded = unit_rows(rng, n * max_len, dim);
  std::vector<std::uint8_t> mask(n * max_len);
  for (std::size_t i = 0; i < n; ++i) {
    // Runs of valid and masked rows of random length; doc 0 fully valid, doc 1 fully masked.
    std::bernoulli_distribution keep(i == 0 ? 1.0 : i == 1 ? 0.0 : 0.5);
    for (std::size_t j = 0; j < max_len; ++j) mask[i * max_len + j] = keep(rng) ? 1 : 0;
  }
  for (std::size_t r = 0; r < n * max_len; ++r) {
    if (mask[r] == 0) padded[r * dim] = kNaN;  // masked rows are never read
  }
  const rr::PaddedTokens view{
      rr::TokenMatrix{DType::f32, padded.data(), n * max_len, dim}, n, max_len, {}, mask};
  for (const auto policy : {rr::PaddingPolicy::ignore, rr::PaddingPolicy::zero_floor}) {
    rr::MaxSimOptions opt;
    opt.padding = policy;
    const auto got = rr::maxsim_padded(f32(q, nq, dim), view, opt);
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<float> valid;
      bool any_padding = false;
      for (std::size_t j = 0; j < max_len; ++j) {
        if (mask[i * max_len + j] == 0) {
          any_padding = true;
          continue;
        }
        const float* row = padded.data() + (i * max_len + j) * dim;
        valid.insert(valid.end(), row, row + dim);
      }
      const bool floor = policy == rr::PaddingPolicy::zero_floor && any_padding;
      const double want =
          reference_score(f32(q, nq, dim), f32(valid, valid.size() / dim, dim), false, {}, floor);
      ASSERT_NEAR(got[i], want, nq * 1e-5) << "doc " << i;
    }
  }
}

TEST(MaxSimApi, MaskedNaNInAnEarlierRunStaysNaN) {
  // Valid rows 0 and 2 (row 1 masked): the NaN in row 0 must survive the merge with run 2.
  const std::size_t dim = 2;
  std::vector<float> q{1.0f, 0.0f};
  std::vector<float> doc{kNaN, 0.0f, 5.0f, 5.0f, 9.0f, 9.0f};
  std::vector<std::uint8_t> mask{1, 0, 1};
  const rr::PaddedTokens view{rr::TokenMatrix{DType::f32, doc.data(), 3, dim}, 1, 3, {}, mask};
  EXPECT_TRUE(std::isnan(rr::maxsim_padded(f32(q, 1, dim), view)[0]));
  doc[0] = 1.0f;
  EXPECT_EQ(rr::maxsim_padded(f32(q, 1, dim), view)[0], 9.0f);
}

TEST(MaxSimApi, AllPairsAndCandidatesMatchDefinition) {
  std::mt19937 rng(9);
  const std::size_t dim = 16;
  const Packed queries = random_packed(rng, random_lengths(rng, 7, 12, false), dim);
  const Packed docs = random_packed(rng, random_lengths(rng, 23, 30, true), dim);
  const auto w = random_weights(rng, static_cast<std::size_t>(queries.offsets.back()));
  for (const std::size_t threads : {1, 2, 5}) {
    rr::MaxSimOptions opt;
    opt.num_threads = threads;
    opt.query_weights = w;
    opt.similarity = threads == 2 ? rr::Similarity::cosine : rr::Similarity::dot;
    const bool cosine = threads == 2;
    const auto all = rr::maxsim_all_pairs(queries.view(), docs.view(), opt);
    ASSERT_EQ(all.size(), 7u * 23u);
    const auto weights_of = [&](std::size_t qi) {
      return std::vector<float>(w.begin() + queries.offsets[qi],
                                w.begin() + queries.offsets[qi + 1]);
    };
    for (std::size_t qi = 0; qi < 7; ++qi) {
      for (std::size_t d = 0; d < 23; ++d) {
        const double want = reference_score(queries.view().item(qi), docs.view().item(d), cosine,
                                            weights_of(qi), false);
        ASSERT_NEAR(all[qi * 23 + d], want, 40 * 1e-5) << qi << "," << d;
      }
    }
    // Candidate lists: random, with repeats and an empty list; results aligned with ids.
    std::vector<std::int64_t> offsets{0}, ids;
    for (std::size_t qi = 0; qi < 7; ++qi) {
      const std::size_t k = qi == 3 ? 0 : rng() % 10;
      for (std::size_t c = 0; c < k; ++c) ids.push_back(static_cast<std::int64_t>(rng() % 23));
      offsets.push_back(static_cast<std::int64_t>(ids.size()));
    }
    const auto cand = rr::maxsim_candidates(queries.view(), docs.view(), offsets, ids, opt);
    ASSERT_EQ(cand.size(), ids.size());
    for (std::size_t qi = 0; qi < 7; ++qi) {
      for (auto c = offsets[qi]; c < offsets[qi + 1]; ++c)
        EXPECT_EQ(cand[c], all[qi * 23 + ids[c]]) << "query " << qi << " candidate " << c;
    }
  }
}

TEST(MaxSimApi, AlignmentsAndHighlightsMatchDefinition) {
  std::mt19937 rng(10);
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t dim = 1 + rng() % 30, nq = 1 + rng() % 10, nd = rng() % 25;
    const auto q = unit_rows(rng, nq, dim), d = unit_rows(rng, nd, dim);
    rr::MaxSimOptions opt;
    const bool cosine = trial % 2 == 0;
    opt.similarity = cosine ? rr::Similarity::cosine : rr::Similarity::dot;
    const auto ref = maxsim_reference::maxsim(f32(q, nq, dim), f32(d, nd, dim), cosine);
    const auto al = rr::maxsim_alignments(f32(q, nq, dim), f32(d, nd, dim), opt);
    ASSERT_EQ(al.size(), nq);
    for (std::size_t i = 0; i < nq; ++i) {
      if (nd == 0) {
        EXPECT_EQ(al[i].doc_token, -1);
        EXPECT_EQ(al[i].similarity, 0.0f);
        continue;
      }
      EXPECT_NEAR(al[i].similarity, ref.row_max[i], 1e-5);
      // The chosen token reaches the maximum (ties within rounding may pick either).
      EXPECT_NEAR(ref.sims[i * nd + static_cast<std::size_t>(al[i].doc_token)], ref.row_max[i],
                  1e-5);
    }
    const float threshold = 0.2f;
    const auto hl = rr::highlight_matches(f32(q, nq, dim), f32(d, nd, dim), threshold, opt);
    std::vector<std::int64_t> want;
    for (std::size_t j = 0; j < nd; ++j) {
      // Skip tokens within rounding of the threshold: either answer is right for them.
      if (std::abs(ref.token_best[j] - threshold) < 1e-5) continue;
      if (ref.token_best[j] >= threshold) want.push_back(static_cast<std::int64_t>(j));
    }
    std::vector<std::int64_t> got_clear;
    for (const auto j : hl) {
      if (std::abs(ref.token_best[static_cast<std::size_t>(j)] - threshold) >= 1e-5)
        got_clear.push_back(j);
    }
    EXPECT_EQ(got_clear, want) << "trial " << trial;
  }
}

TEST(MaxSimApi, BadInputsThrowClearErrors) {
  std::vector<float> q(12, 0.1f), d(20, 0.2f);
  const rr::TokenMatrix query{DType::f32, q.data(), 3, 4};
  const rr::TokenMatrix doc{DType::f32, d.data(), 4, 5};
  const auto invalid = rr::ErrorKind::invalid_argument;
  // Dimension mismatch names both shapes.
  const std::string dims = message_of([&] { rr::maxsim(query, doc); });
  EXPECT_NE(dims.find("[3, 4]"), std::string::npos) << dims;
  EXPECT_NE(dims.find("[4, 5]"), std::string::npos) << dims;
  // Weights of the wrong size.
  const rr::TokenMatrix doc4{DType::f32, d.data(), 5, 4};
  std::vector<float> w(2, 1.0f);
  rr::MaxSimOptions wopt;
  wopt.query_weights = w;
  EXPECT_EQ(kind_of([&] { rr::maxsim(query, doc4, wopt); }), invalid);
  // Offsets that decrease or do not end at the row count; out of the wrong size.
  std::vector<std::int64_t> bad_offsets{0, 3, 2, 5};
  EXPECT_EQ(kind_of([&] { rr::maxsim_packed(query, {doc4, bad_offsets}); }), invalid);
  std::vector<std::int64_t> short_offsets{0, 3};
  EXPECT_EQ(kind_of([&] { rr::maxsim_packed(query, {doc4, short_offsets}); }), invalid);
  std::vector<std::int64_t> offsets{0, 2, 5};
  std::vector<float> out(3);
  EXPECT_EQ(kind_of([&] { rr::maxsim_packed(query, {doc4, offsets}, out); }), invalid);
  // Padded: lengths out of range, mask of the wrong size, both or neither given.
  std::vector<std::int64_t> lengths{2, 9};
  std::vector<std::uint8_t> mask(3, 1);
  const rr::TokenMatrix padded{DType::f32, d.data(), 4, 4};
  EXPECT_EQ(kind_of([&] { rr::maxsim_padded(query, {padded, 2, 2, lengths, {}}); }), invalid);
  EXPECT_EQ(kind_of([&] { rr::maxsim_padded(query, {padded, 2, 2, {}, mask}); }), invalid);
  EXPECT_EQ(kind_of([&] { rr::maxsim_padded(query, {padded, 2, 2, {}, {}}); }), invalid);
  // Candidates: offsets not monotonic, ids out of range; a query without tokens.
  std::vector<std::int64_t> q_offsets{0, 1, 3}, d_offsets{0, 2, 5};
  const rr::PackedTokens queries{query, q_offsets}, docs{doc4, d_offsets};
  std::vector<std::int64_t> c_offsets{0, 2, 1}, c_ids{0, 1};
  EXPECT_EQ(kind_of([&] { rr::maxsim_candidates(queries, docs, c_offsets, c_ids); }), invalid);
  std::vector<std::int64_t> ok_offsets{0, 1, 2}, bad_ids{0, 2};
  const std::string ids_msg =
      message_of([&] { rr::maxsim_candidates(queries, docs, ok_offsets, bad_ids); });
  EXPECT_NE(ids_msg.find("candidate_ids"), std::string::npos) << ids_msg;
  std::vector<std::int64_t> empty_query_offsets{0, 0, 3};
  EXPECT_EQ(kind_of([&] { rr::maxsim_all_pairs({query, empty_query_offsets}, docs); }), invalid);
  // A float16 query has no kernel: unsupported, not a crash.
  const rr::TokenMatrix half_query{DType::f16, q.data(), 3, 4};
  EXPECT_EQ(kind_of([&] { rr::maxsim(half_query, doc4); }), rr::ErrorKind::unsupported);
  // int8 documents without scales; NaN highlight threshold.
  const rr::TokenMatrix i8_doc{DType::i8, d.data(), 2, 4};
  EXPECT_EQ(kind_of([&] { rr::maxsim(query, i8_doc); }), invalid);
  EXPECT_EQ(kind_of([&] { rr::highlight_matches(query, doc4, kNaN); }), invalid);
}

TEST(MaxSimApi, BatchOfSeparateDocumentsMatchesPacked) {
  std::mt19937 rng(14);
  const std::size_t dim = 16, nq = 5;
  const auto q = unit_rows(rng, nq, dim);
  auto lengths = random_lengths(rng, 40, 30, true);
  lengths[0] = 0;  // an empty first document must not decide the dtype
  const Packed docs = random_packed(rng, lengths, dim);
  const rr::MatrixView all{docs.values.data(), static_cast<std::size_t>(docs.offsets.back()), dim};
  const rr::QuantizedTokens bf = rr::quantize(all, DType::bf16);
  const rr::PackedTokens packed{bf.view(), docs.offsets};
  std::vector<rr::TokenMatrix> separate;
  for (std::size_t i = 0; i < packed.size(); ++i) separate.push_back(packed.item(i));
  separate[0] = rr::TokenMatrix{DType::f32, nullptr, 0, dim};
  rr::MaxSimOptions opt;
  opt.num_threads = 2;
  EXPECT_EQ(rr::maxsim_batch(f32(q, nq, dim), separate, opt),
            rr::maxsim_packed(f32(q, nq, dim), packed, opt));
  EXPECT_TRUE(rr::maxsim_batch(f32(q, nq, dim), std::span<const rr::TokenMatrix>{}).empty());
  // Mixed storage is rejected, naming the document.
  separate[2] = rr::TokenMatrix{DType::f32, docs.values.data(), 1, dim};
  EXPECT_NE(message_of([&] { rr::maxsim_batch(f32(q, nq, dim), separate); }).find("docs[2]"),
            std::string::npos);
}
