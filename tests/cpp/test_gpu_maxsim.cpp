// GPU MaxSim against the CPU MaxSim (itself tested against float64 definitions) and a float64
// reference, on random ragged data. Argument checks run everywhere; the GPU comparisons skip
// with the reason when no CUDA device can be used.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/gpu_maxsim.hpp"
#include "rank_rerank/maxsim.hpp"
#include "rank_rerank/quantize.hpp"
#include "rank_rerank/topk.hpp"

namespace rank_rerank {
namespace {

#define SKIP_WITHOUT_GPU()                                                            \
  do {                                                                                \
    const BackendStatus status = cuda_status();                                       \
    if (!status.usable()) GTEST_SKIP() << "no usable CUDA device: " << status.reason; \
  } while (0)

struct Corpus {
  std::vector<float> values;  // float32 rows
  std::vector<std::int64_t> offsets;
  std::size_t dim = 0;
  std::size_t rows() const { return values.size() / dim; }
};

// Documents of random lengths in [0, max_len] (some empty), values ~ N(0, 1).
Corpus random_corpus(std::mt19937& rng, std::size_t n_docs, std::size_t max_len, std::size_t dim) {
  std::uniform_int_distribution<std::size_t> len(0, max_len);
  std::normal_distribution<float> value(0.0f, 1.0f);
  Corpus c;
  c.dim = dim;
  c.offsets.push_back(0);
  for (std::size_t d = 0; d < n_docs; ++d) {
    const std::size_t n = d % 7 == 3 ? 0 : len(rng);
    for (std::size_t i = 0; i < n * dim; ++i) c.values.push_back(value(rng));
    c.offsets.push_back(c.offsets.back() + static_cast<std::int64_t>(n));
  }
  return c;
}

std::vector<float> random_rows(std::mt19937& rng, std::size_t rows, std::size_t dim) {
  std::normal_distribution<float> value(0.0f, 1.0f);
  std::vector<float> v(rows * dim);
  for (float& x : v) x = value(rng);
  return v;
}

// Relative error measured against the scale of the terms (sum over query tokens of the best
// |similarity|), so scores near 0 from cancellation do not blow it up.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rel,
                  double scale, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(want[i])) {
      if (std::isnan(want[i]))
        EXPECT_TRUE(std::isnan(got[i])) << what << " index " << i;
      else
        EXPECT_EQ(got[i], want[i]) << what << " index " << i;
      continue;
    }
    EXPECT_NEAR(got[i], want[i], rel * (scale + std::fabs(want[i]))) << what << " index " << i;
  }
}

TEST(GpuMaxSimChecks, SupportedDimensionsAreTheKernelWidths) {
  for (std::size_t dim : {32, 64, 96, 128}) EXPECT_TRUE(rank_rerank::gpu::supports_dim(dim)) << dim;
  for (std::size_t dim : {0, 1, 16, 20, 31, 48, 100, 127, 129, 256})
    EXPECT_FALSE(rank_rerank::gpu::supports_dim(dim)) << dim;
}

TEST(GpuMaxSimChecks, BadArgumentsAreRejectedBeforeTheDevice) {
  std::vector<float> q(4 * 32, 0.5f), d(6 * 64, 0.5f);
  std::vector<std::int64_t> off{0, 6};
  const TokenMatrix query{DType::f32, q.data(), 4, 32};
  const PackedTokens docs{{DType::f32, d.data(), 6, 64}, off};
  try {
    gpu::maxsim_packed(query, docs);
    FAIL() << "dimension mismatch accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos);
  }
  const std::vector<std::int64_t> off48{0, 8};
  const PackedTokens docs48{{DType::f32, d.data(), 8, 48}, off48};
  const TokenMatrix query48{DType::f32, q.data(), 2, 48};
  try {
    gpu::maxsim_packed(query48, docs48);
    FAIL() << "dimension 48 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unsupported);
  }
  const TokenMatrix empty_query{DType::f32, q.data(), 0, 64};
  const PackedTokens docs64{{DType::f32, d.data(), 6, 64}, off};
  EXPECT_THROW(gpu::maxsim_packed(empty_query, docs64), Error);
  const std::vector<float> weights(3, 1.0f);
  const TokenMatrix query64{DType::f32, q.data(), 2, 64};
  EXPECT_THROW(gpu::maxsim_packed(query64, docs64, {}, weights), Error);
  std::vector<std::int64_t> bad_off{0, 7};
  EXPECT_THROW(gpu::maxsim_packed(query64, PackedTokens{{DType::f32, d.data(), 6, 64}, bad_off}),
               Error);
  gpu::GpuOptions on_cpu;
  on_cpu.device = Device::cpu();
  try {
    gpu::maxsim_packed(query64, docs64, on_cpu);
    FAIL() << "cpu device accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_argument);
  }
  EXPECT_THROW(gpu::top_k_device(nullptr, 1, 3, 4, nullptr, nullptr), Error);
}

TEST(GpuMaxSimChecks, WithoutAUsableDeviceEveryEntryPointSaysWhy) {
  const BackendStatus status = cuda_status();
  if (status.usable()) GTEST_SKIP() << "a CUDA device is usable here";
  std::vector<float> q(2 * 64, 0.5f), d(3 * 64, 0.5f);
  std::vector<std::int64_t> off{0, 3};
  const TokenMatrix query{DType::f32, q.data(), 2, 64};
  const PackedTokens docs{{DType::f32, d.data(), 3, 64}, off};
  for (int entry = 0; entry < 3; ++entry) {
    try {
      if (entry == 0) gpu::maxsim_packed(query, docs);
      if (entry == 1) gpu::GpuDocumentSet set(docs);
      if (entry == 2)
        gpu::maxsim_all_pairs(PackedTokens{query, std::vector<std::int64_t>{0, 2}}, docs);
      FAIL() << "entry " << entry << " did not throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::unsupported);
      EXPECT_NE(std::string(e.what()).find(status.reason.substr(0, 20)), std::string::npos)
          << e.what();
    }
  }
}

struct DTypeCase {
  DType dtype;
  double rel;  // tolerance relative to the terms' scale
};

class GpuMaxSimVsCpu : public ::testing::TestWithParam<std::tuple<DTypeCase, std::size_t, bool>> {};

TEST_P(GpuMaxSimVsCpu, RaggedDocumentsManyQueries) {
  SKIP_WITHOUT_GPU();
  const auto [dc, dim, cosine] = GetParam();
  std::mt19937 rng(static_cast<unsigned>(dim * 31 + static_cast<int>(dc.dtype) * 7 + cosine));
  const Corpus corpus = random_corpus(rng, 301, 70, dim);
  const QuantizedTokens stored = quantize({corpus.values.data(), corpus.rows(), dim}, dc.dtype);
  const PackedTokens docs{stored.view(), corpus.offsets};
  // Ragged queries: 1, 32, 33 and 70 tokens (several 32-token groups).
  const std::vector<std::int64_t> q_off{0, 1, 33, 66, 136};
  const std::vector<float> qv = random_rows(rng, 136, dim);
  const PackedTokens queries{{DType::f32, qv.data(), 136, dim}, q_off};
  std::vector<float> weights(136);
  std::uniform_real_distribution<float> w(0.5f, 1.5f);
  for (float& x : weights) x = w(rng);
  MaxSimOptions cpu;
  cpu.similarity = cosine ? Similarity::cosine : Similarity::dot;
  cpu.query_weights = weights;
  // The CPU scores float32 decodings of the stored documents with float32 queries.
  const std::vector<float> want = maxsim_all_pairs(queries, docs, cpu);
  gpu::GpuOptions options;
  options.similarity = cpu.similarity;
  const std::vector<float> got = gpu::maxsim_all_pairs(queries, docs, options, weights);
  const double scale = cosine ? 70.0 : 70.0 * std::sqrt(static_cast<double>(dim)) * 3.0;
  expect_close(got, want, dc.rel, scale,
               std::string(dtype_name(dc.dtype)) + " dim " + std::to_string(dim));
  // The document set gives the same scores, and top-k ranks them as the CPU top_k does.
  const gpu::GpuDocumentSet set(docs);
  EXPECT_GE(set.device_bytes(), stored.bytes.size());
  const std::vector<float> again = set.score_all(queries, cpu.similarity, weights);
  EXPECT_EQ(again, got);
  const auto ranked = set.top_k(queries, 10, cpu.similarity, weights);
  for (std::size_t q = 0; q < 4; ++q) {
    const auto want_top = top_k(std::span<const float>(got).subspan(q * 301, 301), 10);
    for (std::size_t i = 0; i < 10; ++i) {
      EXPECT_EQ(ranked[q][i].index, want_top[i].index) << "query " << q << " rank " << i;
      EXPECT_EQ(ranked[q][i].score, want_top[i].score);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Storage, GpuMaxSimVsCpu,
    ::testing::Combine(::testing::Values(DTypeCase{DType::f32, 1e-5}, DTypeCase{DType::f16, 4e-3},
                                         DTypeCase{DType::bf16, 1e-2}, DTypeCase{DType::i8, 4e-3},
                                         DTypeCase{DType::bit, 4e-3}),
                       ::testing::Values(32, 64, 96, 128), ::testing::Bool()),
    [](const auto& info) {
      return std::string(rank_rerank::dtype_name(std::get<0>(info.param).dtype)) + "_dim" +
             std::to_string(std::get<1>(info.param)) +
             (std::get<2>(info.param) ? "_cosine" : "_dot");
    });

TEST(GpuMaxSim, BitQueriesAgainstBitDocumentsAreExact) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(5);
  for (const std::size_t dim : {32, 64, 96, 128}) {
    const Corpus corpus = random_corpus(rng, 97, 40, dim);
    const QuantizedTokens stored = quantize({corpus.values.data(), corpus.rows(), dim}, DType::bit);
    const std::vector<float> qv = random_rows(rng, 45, dim);
    const QuantizedTokens qbits = quantize({qv.data(), 45, dim}, DType::bit);
    const std::vector<std::int64_t> q_off{0, 5, 45};
    const PackedTokens queries{qbits.view(), q_off};
    const PackedTokens docs{stored.view(), corpus.offsets};
    for (const bool cosine : {false, true}) {
      MaxSimOptions cpu;
      cpu.similarity = cosine ? Similarity::cosine : Similarity::dot;
      gpu::GpuOptions options;
      options.similarity = cpu.similarity;
      // Exact per query group; a query of several 32-token groups adds group sums in float32.
      expect_close(gpu::maxsim_all_pairs(queries, docs, options),
                   maxsim_all_pairs(queries, docs, cpu), 1e-6, 0.0,
                   "bits dim " + std::to_string(dim) + (cosine ? " cosine" : " dot"));
    }
  }
}

TEST(GpuMaxSim, NaNAndZeroVectorsFollowTheCpu) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(9);
  const std::size_t dim = 64;
  Corpus corpus = random_corpus(rng, 40, 20, dim);
  // A NaN in document 1, a zero row in document 2, an infinity in document 4.
  corpus.values[static_cast<std::size_t>(corpus.offsets[1]) * dim + 3] = std::nanf("");
  for (std::size_t k = 0; k < dim; ++k)
    corpus.values[static_cast<std::size_t>(corpus.offsets[2]) * dim + k] = 0.0f;
  corpus.values[static_cast<std::size_t>(corpus.offsets[4]) * dim + 7] =
      std::numeric_limits<float>::infinity();
  std::vector<float> qv = random_rows(rng, 8, dim);
  for (std::size_t k = 0; k < dim; ++k) qv[2 * dim + k] = 0.0f;  // a zero query token
  const TokenMatrix query{DType::f32, qv.data(), 8, dim};
  for (const DType dtype : {DType::f32, DType::f16, DType::bf16}) {
    const QuantizedTokens stored = quantize({corpus.values.data(), corpus.rows(), dim}, dtype);
    const PackedTokens docs{stored.view(), corpus.offsets};
    for (const bool cosine : {false, true}) {
      MaxSimOptions cpu;
      cpu.similarity = cosine ? Similarity::cosine : Similarity::dot;
      gpu::GpuOptions options;
      options.similarity = cpu.similarity;
      const std::vector<float> want = maxsim_packed(query, docs, cpu);
      const std::vector<float> got = gpu::maxsim_packed(query, docs, options);
      expect_close(got, want, 1e-2, 8.0 * 3 * 8, std::string(dtype_name(dtype)));
      EXPECT_TRUE(std::isnan(got[1]));
    }
  }
  std::vector<float> nan_query = qv;
  nan_query[5] = std::nanf("");
  const PackedTokens docs{{DType::f32, corpus.values.data(), corpus.rows(), dim}, corpus.offsets};
  const std::vector<float> got =
      gpu::maxsim_packed(TokenMatrix{DType::f32, nan_query.data(), 8, dim}, docs);
  for (std::size_t d = 0; d < got.size(); ++d) {
    if (corpus.offsets[d + 1] > corpus.offsets[d])
      EXPECT_TRUE(std::isnan(got[d]));
    else
      EXPECT_EQ(got[d], 0.0f);
  }
}

// One query of at most 32 rows makes the warps claim document chunks from a shared counter;
// 33+ rows keep fixed shares. Uneven lengths (mostly short, a few long, some empty) make the
// claims interleave; every document must still be scored exactly once.
TEST(GpuMaxSim, OneQueryOverUnevenDocumentsMatchesTheCpu) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(17);
  std::uniform_int_distribution<std::size_t> short_len(0, 24);
  std::normal_distribution<float> value(0.0f, 1.0f);
  for (const std::size_t dim : {96, 128}) {
    Corpus corpus;
    corpus.dim = dim;
    corpus.offsets.push_back(0);
    for (std::size_t d = 0; d < 3000; ++d) {
      const std::size_t n = d % 97 == 5 ? 300 : short_len(rng);
      for (std::size_t i = 0; i < n * dim; ++i) corpus.values.push_back(value(rng));
      corpus.offsets.push_back(corpus.offsets.back() + static_cast<std::int64_t>(n));
    }
    for (const DTypeCase dc :
         {DTypeCase{DType::f32, 1e-5}, DTypeCase{DType::f16, 4e-3}, DTypeCase{DType::bf16, 1e-2},
          DTypeCase{DType::i8, 4e-3}, DTypeCase{DType::bit, 4e-3}}) {
      const QuantizedTokens stored = quantize({corpus.values.data(), corpus.rows(), dim}, dc.dtype);
      const PackedTokens docs{stored.view(), corpus.offsets};
      for (const std::size_t q_rows : {7, 32, 45}) {
        const std::vector<float> qv = random_rows(rng, q_rows, dim);
        const TokenMatrix query{DType::f32, qv.data(), q_rows, dim};
        const std::vector<float> want = maxsim_packed(query, docs);
        const std::vector<float> got = gpu::maxsim_packed(query, docs);
        const double scale =
            static_cast<double>(q_rows) * std::sqrt(static_cast<double>(dim)) * 3.0;
        expect_close(got, want, dc.rel, scale,
                     std::string(dtype_name(dc.dtype)) + " dim " + std::to_string(dim) + " rows " +
                         std::to_string(q_rows));
      }
    }
  }
}

TEST(GpuMaxSim, HalfPrecisionQueriesAndDeviceTopK) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(11);
  const std::size_t dim = 128;
  const Corpus corpus = random_corpus(rng, 500, 64, dim);
  const QuantizedTokens stored = quantize({corpus.values.data(), corpus.rows(), dim}, DType::f16);
  const PackedTokens docs{stored.view(), corpus.offsets};
  const std::vector<float> qv = random_rows(rng, 32, dim);
  const QuantizedTokens q16 = quantize({qv.data(), 32, dim}, DType::f16);
  const std::vector<float> q_decoded = dequantize(q16.view());
  const std::vector<float> want =
      maxsim_packed(TokenMatrix{DType::f32, q_decoded.data(), 32, dim}, docs);
  const std::vector<float> got = gpu::maxsim_packed(q16.view(), docs);
  expect_close(got, want, 1e-5, 0.0, "f16 query");
  const gpu::GpuDocumentSet set(docs);
  EXPECT_EQ(set.size(), 500u);
  EXPECT_EQ(set.dim(), dim);
  EXPECT_THROW(set.top_k(PackedTokens{q16.view(), std::vector<std::int64_t>{0, 32}}, 501), Error);
}

}  // namespace
}  // namespace rank_rerank
