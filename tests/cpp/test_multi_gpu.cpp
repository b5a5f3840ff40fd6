// Multi-GPU on the GPU host: the encoders and the sharded document set over a device list must
// give exactly (bit for bit) what one device gives. Runs with the same GPU listed twice
// (["cuda:0", "cuda:0"]: two replicas with their own streams and threads), so a one-GPU host tests
// it; every case skips with the reason when no CUDA device is usable.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "io_test_support.hpp"
#include "model/replicas.hpp"
#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/colbert_encoder.hpp"
#include "rank_rerank/cross_encoder.hpp"
#include "rank_rerank/multi_gpu_maxsim.hpp"
#include "rank_rerank/quantize.hpp"
#include "rank_rerank/reranker.hpp"
#include "rank_rerank/sentence_encoder.hpp"

namespace rank_rerank {
namespace {

using io_test::error_of;

#define SKIP_WITHOUT_CUDA()                                                           \
  do {                                                                                \
    const BackendStatus status = cuda_status();                                       \
    if (!status.usable()) GTEST_SKIP() << "no usable CUDA device: " << status.reason; \
  } while (0)

std::string fixture(const char* name) {
  return (io_test::source_dir() / "tests/fixtures/models" / name).string();
}

const std::vector<Device> kTwice{Device::cuda(0), Device::cuda(0)};

// Texts of 1 to 30 words: enough tokens (well over 2 x model::kMinTokensPerDevice) that a
// request is shared over two replicas.
std::vector<std::string> many_texts(std::size_t n, unsigned seed) {
  static const char* words[] = {"the",     "cat",    "sat",   "on",   "mat",   "paris",
                                "capital", "france", "river", "bank", "bread", "flour",
                                "water",   "dog",    "blue",  "!"};
  std::mt19937 rng(seed);
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < n; ++i) {
    std::string t;
    const std::size_t count = 1 + rng() % 30;
    for (std::size_t w = 0; w < count; ++w) t += std::string(w ? " " : "") + words[rng() % 16];
    texts.push_back(t);
  }
  return texts;
}

std::vector<std::string_view> views(const std::vector<std::string>& texts) {
  return {texts.begin(), texts.end()};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class MultiGpuEncoders : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override { SKIP_WITHOUT_CUDA(); }
};

TEST_P(MultiGpuEncoders, ColbertEqualsOneDeviceBitForBit) {
  ColbertEncoderOptions one;
  one.device = Device::cuda(0);
  one.dtype = GetParam();
  ColbertEncoderOptions two = one;
  two.device.reset();
  two.devices = kTwice;
  const ColbertEncoder single =
      ColbertEncoder::from_pretrained(fixture("colbert_tiny_pylate"), one);
  const ColbertEncoder multi = ColbertEncoder::from_pretrained(fixture("colbert_tiny_pylate"), two);
  EXPECT_EQ(multi.devices(), kTwice);
  const std::vector<std::string> docs = many_texts(900, 1);
  const PackedEmbeddings a = single.encode_documents(views(docs));
  const PackedEmbeddings b = multi.encode_documents(views(docs));
  ASSERT_GE(a.offsets.back(), static_cast<std::int64_t>(2 * model::kMinTokensPerDevice));
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_TRUE(same_bits(a.values, b.values));
  // Queries (expansion tokens, a small request: one device) and a repeat of the large request.
  const std::vector<std::string> queries = many_texts(20, 2);
  EXPECT_TRUE(same_bits(single.encode_queries(views(queries)).values,
                        multi.encode_queries(views(queries)).values));
  EXPECT_TRUE(same_bits(a.values, multi.encode_documents(views(docs)).values));
  // Memory per replica: the same parameters and workspace on each; they differ by what each
  // backend keeps from the passes it ran (offsets, attention work lists, the pool's high-water
  // mark, captured CUDA Graphs of repeated small shapes), which depends on its share.
  const std::vector<DeviceMemory> memory = multi.device_memory();
  ASSERT_EQ(memory.size(), 2u);
  const auto near = [](std::size_t a, std::size_t b) {
    return (a > b ? a - b : b - a) < (std::size_t{64} << 20);
  };
  EXPECT_GT(memory[0].bytes_in_use, 0u);
  EXPECT_TRUE(near(memory[0].bytes_in_use, memory[1].bytes_in_use));
  EXPECT_TRUE(near(single.device_memory()[0].bytes_in_use, memory[0].bytes_in_use));
  EXPECT_GE(memory[1].bytes_reserved, memory[1].bytes_in_use);
}

TEST_P(MultiGpuEncoders, CrossEncoderEqualsOneDeviceBitForBit) {
  CrossEncoderOptions one;
  one.device = Device::cuda(0);
  one.dtype = GetParam();
  CrossEncoderOptions two = one;
  two.device.reset();
  two.devices = kTwice;
  const CrossEncoder single = CrossEncoder::from_pretrained(fixture("cross_tiny_roberta"), one);
  const CrossEncoder multi = CrossEncoder::from_pretrained(fixture("cross_tiny_roberta"), two);
  const std::vector<std::string> q = many_texts(500, 3), d = many_texts(500, 4);
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (std::size_t i = 0; i < q.size(); ++i) pairs.emplace_back(q[i], d[i]);
  EXPECT_TRUE(same_bits(single.predict(pairs), multi.predict(pairs)));
}

TEST_P(MultiGpuEncoders, SentenceEncoderEqualsOneDeviceBitForBit) {
  SentenceEncoderOptions one;
  one.device = Device::cuda(0);
  one.dtype = GetParam();
  SentenceEncoderOptions two = one;
  two.device.reset();
  two.devices = {Device::cuda(0), Device::cuda(0), Device::cuda(0)};
  const SentenceEncoder single =
      SentenceEncoder::from_pretrained(fixture("sentence_tiny_xlmr"), one);
  const SentenceEncoder multi =
      SentenceEncoder::from_pretrained(fixture("sentence_tiny_xlmr"), two);
  const std::vector<std::string> texts = many_texts(1500, 5);
  EXPECT_TRUE(same_bits(single.encode(views(texts)).values, multi.encode(views(texts)).values));
  EXPECT_TRUE(same_bits(single.encode_tokens(views(texts)).values,
                        multi.encode_tokens(views(texts)).values));
  EXPECT_EQ(multi.device_memory().size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(DTypes, MultiGpuEncoders,
                         ::testing::Values(DType::f32, DType::f16, DType::bf16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(MultiGpu, AMissingDeviceInTheListIsAClearError) {
  SKIP_WITHOUT_CUDA();
  const int count = cuda_status().device_count;
  ColbertEncoderOptions options;
  options.devices = {Device::cuda(0), Device::cuda(count)};
  const std::string message = error_of(
      [&] { (void)ColbertEncoder::from_pretrained(fixture("colbert_tiny_pylate"), options); },
      ErrorKind::unsupported);
  EXPECT_NE(message.find("cuda:" + std::to_string(count) + " does not exist"), std::string::npos)
      << message;
}

TEST(MultiGpu, RerankerOverADeviceListEqualsOneDevice) {
  SKIP_WITHOUT_CUDA();
  RerankerOptions one;
  one.device = "cuda:0";
  RerankerOptions two;
  two.devices = "cuda:0,cuda:0";
  const Reranker single = Reranker::from_pretrained(fixture("colbert_tiny_pylate"), one);
  const Reranker multi = Reranker::from_pretrained(fixture("colbert_tiny_pylate"), two);
  EXPECT_EQ(multi.device(), "cuda:0,cuda:0");
  const std::vector<std::string> docs = many_texts(900, 6);
  const std::vector<std::string_view> d = views(docs);
  EXPECT_TRUE(
      same_bits(single.score("the cat on the mat", d), multi.score("the cat on the mat", d)));
  RerankerOptions both = two;
  both.device = "cuda:0";
  EXPECT_NE(error_of([&] {
              (void)Reranker::from_pretrained(fixture("colbert_tiny_pylate"), both);
            }).find("either device or devices"),
            std::string::npos);
}

// ---- sharded MaxSim ----

struct RandomDocs {
  std::vector<float> values;
  std::vector<std::int64_t> offsets{0};
  PackedTokens view(std::size_t dim) const {
    return {{DType::f32, values.data(), values.size() / dim, dim, nullptr}, offsets};
  }
};

RandomDocs random_docs(std::size_t n, std::size_t dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  RandomDocs d;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t len = i % 97 == 5 ? 0 : 1 + rng() % 60;  // a few empty documents
    for (std::size_t k = 0; k < len * dim; ++k) d.values.push_back(normal(rng));
    d.offsets.push_back(d.offsets.back() + static_cast<std::int64_t>(len));
  }
  return d;
}

void expect_same_rankings(const std::vector<std::vector<Ranked>>& a,
                          const std::vector<std::vector<Ranked>>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t q = 0; q < a.size(); ++q) {
    ASSERT_EQ(a[q].size(), b[q].size());
    for (std::size_t i = 0; i < a[q].size(); ++i) {
      EXPECT_EQ(a[q][i].index, b[q][i].index) << "query " << q << " rank " << i;
      EXPECT_EQ(std::memcmp(&a[q][i].score, &b[q][i].score, sizeof(float)), 0);
    }
  }
}

class ShardedMaxSim : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override { SKIP_WITHOUT_CUDA(); }
};

TEST_P(ShardedMaxSim, EqualsOneDocumentSetBitForBit) {
  const std::size_t dim = 128;
  const RandomDocs docs = random_docs(3000, dim, 11);
  std::mt19937 rng(12);
  std::normal_distribution<float> normal;
  std::vector<float> query_rows(32 * dim);
  for (float& v : query_rows) v = normal(rng);
  std::vector<std::uint16_t> half(docs.values.size());
  PackedTokens stored = docs.view(dim);
  if (GetParam() == DType::f16) {
    for (std::size_t i = 0; i < half.size(); ++i) half[i] = float_to_f16(docs.values[i]);
    stored.tokens.dtype = DType::f16;
    stored.tokens.data = half.data();
  }
  const std::vector<std::int64_t> q_offsets{0, 7, 19, 32};
  const PackedTokens q{{DType::f32, query_rows.data(), 32, dim, nullptr}, q_offsets};
  const gpu::GpuDocumentSet one(stored, Device::cuda(0));
  for (std::size_t copies : {2u, 3u}) {
    const std::vector<Device> devices(copies, Device::cuda(0));
    // By default a set under 2 x kMinShardBytes (this one: tens of MB) stays on one device.
    EXPECT_EQ(gpu::ShardedDocumentSet(stored, devices).shards(), 1u);
    const gpu::ShardedDocumentSet sharded(stored, devices, 0);
    ASSERT_EQ(sharded.shards(), copies);
    EXPECT_EQ(sharded.size(), one.size());
    const std::vector<std::size_t> bounds = sharded.shard_offsets();
    EXPECT_EQ(bounds.front(), 0u);
    EXPECT_EQ(bounds.back(), one.size());
    std::size_t bytes = 0;
    for (const DeviceMemory& m : sharded.device_memory()) bytes += m.bytes_in_use;
    EXPECT_GE(bytes, one.device_bytes());  // the offsets array is split with one entry more each
    for (Similarity sim : {Similarity::dot, Similarity::cosine}) {
      EXPECT_TRUE(same_bits(one.score_all(q, sim), sharded.score_all(q, sim)));
      EXPECT_TRUE(same_bits(one.score(q.item(1), sim), sharded.score(q.item(1), sim)));
      for (std::size_t k : {1u, 10u, 1000u, 3000u})
        expect_same_rankings(one.top_k(q, k, sim), sharded.top_k(q, k, sim));
    }
    EXPECT_FALSE(error_of([&] { (void)sharded.top_k(q, 3001); }).empty());
  }
}

INSTANTIATE_TEST_SUITE_P(DTypes, ShardedMaxSim, ::testing::Values(DType::f32, DType::f16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(ShardedMaxSimEdges, FewerDocumentsThanDevicesAndNone) {
  SKIP_WITHOUT_CUDA();
  const RandomDocs docs = random_docs(1, 32, 13);
  const RandomDocs query = random_docs(1, 32, 14);
  const std::vector<Device> three(3, Device::cuda(0));
  const gpu::ShardedDocumentSet one_doc(docs.view(32), three, 0);
  EXPECT_EQ(one_doc.shards(), 1u);
  EXPECT_TRUE(same_bits(one_doc.score(query.view(32).item(0)),
                        gpu::GpuDocumentSet(docs.view(32)).score(query.view(32).item(0))));
  const std::vector<std::int64_t> none_offsets{0};
  const PackedTokens none{{DType::f32, nullptr, 0, 32, nullptr}, none_offsets};
  const gpu::ShardedDocumentSet empty(none, three, 0);
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_TRUE(empty.score(query.view(32).item(0)).empty());
  const std::vector<Device> missing{Device::cuda(0), Device::cuda(cuda_status().device_count)};
  EXPECT_NE(
      error_of([&] { gpu::ShardedDocumentSet(docs.view(32), missing); }, ErrorKind::unsupported)
          .find("does not exist"),
      std::string::npos);
}

}  // namespace
}  // namespace rank_rerank
