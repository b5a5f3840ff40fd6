// RoBERTa, XLM-RoBERTa, ELECTRA and DistilBERT against transformers / sentence-transformers /
// PyLate (scripts/make_arch_fixtures.py): the base encoder's last hidden state, cross-encoder
// scores and rankings, a PyLate ColBERT over RoBERTa, sentence-transformers bi-encoders.
#include <gtest/gtest.h>

#include <numeric>

#include "model/transformer.hpp"
#include "model_reference.hpp"
#include "rank_rerank/colbert_encoder.hpp"
#include "rank_rerank/cross_encoder.hpp"
#include "rank_rerank/sentence_encoder.hpp"

namespace rank_rerank {
namespace {

namespace fs = std::filesystem;
using model_test::fixtures;
using model_test::int64_values;

std::string error_text(double error) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2e", error);
  return text;
}

struct Family {
  const char* name;
  model::Architecture architecture;
  std::size_t labels;
  std::size_t embedding_size;
};

class Architectures : public ::testing::TestWithParam<Family> {};

TEST_P(Architectures, EncoderMatchesTransformersLastHiddenState) {
  const Family& f = GetParam();
  const fs::path dir = fixtures() / (std::string("cross_tiny_") + f.name);
  const auto config = model::TransformerConfig::from_json(JsonConfig::load(dir / "config.json"));
  EXPECT_EQ(config.architecture, f.architecture);
  EXPECT_EQ(config.hidden_size, 20u);
  EXPECT_EQ(config.embedding_size, f.embedding_size);
  EXPECT_EQ(config.max_sequence_length(), 34u);
  const Weights reference =
      Weights::open(fixtures() / (std::string("cross_tiny_") + f.name + "_reference.safetensors"));
  const auto ids64 = int64_values(reference.get("input_ids"));
  const auto types64 = int64_values(reference.get("token_type_ids"));
  const std::vector<std::int32_t> ids(ids64.begin(), ids64.end()),
      types(types64.begin(), types64.end());
  const auto offsets = int64_values(reference.get("offsets"));
  const std::vector<float> want = reference.get("last_hidden_state").to_f32();
  for (int threads : {1, 2}) {
    const auto encoder = model::TransformerEncoder::load(config, Weights::open(dir),
                                                         backend::make_cpu_backend(threads));
    EXPECT_EQ(encoder.prefix(), model::tensor_names(f.architecture).task_prefix);
    const backend::Buffer out = encoder.forward({ids, types, offsets});
    ASSERT_EQ(out.size(), want.size());
    std::vector<float> got(out.size());
    encoder.backend().download(out.data(), out.size(), got.data());
    const double error = model_test::max_row_relative_error(got, want, 20);
    RecordProperty(std::string("max_row_relative_error_") + f.name, error_text(error));
    EXPECT_LE(error, 1e-4) << f.name << " threads " << threads;
  }
}

std::vector<std::pair<std::string, std::string>> cross_pairs() {
  return nlohmann::json::parse(io_test::read_file(fixtures() / "cross_pairs.json"))
      .get<std::vector<std::pair<std::string, std::string>>>();
}

TEST_P(Architectures, CrossEncoderMatchesSentenceTransformers) {
  const Family& f = GetParam();
  const auto pairs = cross_pairs();
  const std::vector<std::pair<std::string_view, std::string_view>> views(pairs.begin(),
                                                                         pairs.end());
  const std::vector<float> want =
      Weights::open(fixtures() / (std::string("cross_tiny_") + f.name + "_reference.safetensors"))
          .get("scores")
          .to_f32();
  CrossEncoderOptions options;
  options.batch_size = 5;
  options.max_batch_tokens = 64;  // several passes of unequal sizes
  const CrossEncoder ce = CrossEncoder::from_pretrained(
      (fixtures() / (std::string("cross_tiny_") + f.name)).string(), options);
  EXPECT_EQ(ce.num_labels(), f.labels);
  EXPECT_EQ(ce.max_length(), 24u);
  const std::vector<float> got = ce.predict(views);
  const double error = model_test::max_relative_error(got, want);
  RecordProperty(std::string("cross_max_relative_error_") + f.name, error_text(error));
  EXPECT_LE(error, 1e-4) << f.name;
}

INSTANTIATE_TEST_SUITE_P(Families, Architectures,
                         ::testing::Values(Family{"roberta", model::Architecture::roberta, 1, 20},
                                           Family{"xlmr", model::Architecture::xlm_roberta, 3, 20},
                                           Family{"electra", model::Architecture::electra, 1, 12},
                                           Family{"distilbert", model::Architecture::distilbert, 2,
                                                  20}),
                         [](const auto& info) { return std::string(info.param.name); });

// CrossEncoder::rank orders as sentence-transformers' rank does: reference scores, sorted
// descending with ties in document order.
TEST(CrossEncoderRank, OrdersLikeSentenceTransformers) {
  const auto pairs = cross_pairs();
  CrossEncoderOptions options;
  options.num_threads = 1;
  for (const char* name : {"roberta", "electra"}) {
    const CrossEncoder ce = CrossEncoder::from_pretrained(
        (fixtures() / (std::string("cross_tiny_") + name)).string(), options);
    const std::vector<float> want =
        Weights::open(fixtures() / (std::string("cross_tiny_") + name + "_reference.safetensors"))
            .get("scores")
            .to_f32();
    // The pairs are 3 queries x 6 documents; rank each query's documents.
    const std::size_t docs = 6;
    for (std::size_t q = 0; q < pairs.size() / docs; ++q) {
      std::vector<std::string_view> documents;
      for (std::size_t d = 0; d < docs; ++d) documents.push_back(pairs[q * docs + d].second);
      std::vector<std::size_t> order(docs);
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return want[q * docs + a] > want[q * docs + b];
      });
      const auto ranked = ce.rank(pairs[q * docs].first, documents, std::nullopt, true);
      ASSERT_EQ(ranked.size(), docs);
      for (std::size_t r = 0; r < docs; ++r) {
        EXPECT_EQ(ranked[r].corpus_id, order[r]) << name << " query " << q << " rank " << r;
        EXPECT_NEAR(ranked[r].score, want[q * docs + order[r]], 1e-4);
        EXPECT_EQ(ranked[r].text, std::string(documents[order[r]]));
      }
      const auto top = ce.rank(pairs[q * docs].first, documents, 2);
      ASSERT_EQ(top.size(), 2u);
      EXPECT_EQ(top[0].corpus_id, order[0]);
      EXPECT_FALSE(top[0].text.has_value());
      EXPECT_EQ(ce.rank(pairs[q * docs].first, documents, 100).size(), docs);
      EXPECT_TRUE(ce.rank(pairs[q * docs].first, {}).empty());
    }
  }
}

TEST(ColbertRoberta, MatchesPylate) {
  const auto texts = nlohmann::json::parse(io_test::read_file(fixtures() / "colbert_texts.json"));
  const Weights reference =
      Weights::open(fixtures() / "colbert_tiny_roberta_reference.safetensors");
  ColbertEncoderOptions options;
  options.batch_size = 3;
  options.max_batch_tokens = 40;
  const ColBERT encoder =
      ColBERT::from_pretrained((fixtures() / "colbert_tiny_roberta").string(), options);
  EXPECT_EQ(encoder.dimension(), 16u);
  for (const bool is_query : {true, false}) {
    const std::string kind = is_query ? "query" : "document";
    const auto strings = texts[is_query ? "queries" : "documents"].get<std::vector<std::string>>();
    const std::vector<std::string_view> views(strings.begin(), strings.end());
    const PackedEmbeddings got =
        is_query ? encoder.encode_queries(views) : encoder.encode_documents(views);
    EXPECT_EQ(got.offsets, int64_values(reference.get(kind + "_offsets"))) << kind;
    const std::vector<float> want = reference.get(kind + "_embeddings").to_f32();
    const double error = model_test::max_row_relative_error(got.values, want, 16);
    RecordProperty("colbert_roberta_" + kind, error_text(error));
    EXPECT_LE(error, 1e-4) << kind;
  }
}

class SentenceFamilies : public ::testing::TestWithParam<const char*> {};

TEST_P(SentenceFamilies, MatchesSentenceTransformers) {
  const std::string name = GetParam();
  const auto all = nlohmann::json::parse(io_test::read_file(fixtures() / "minilm_texts.json"))
                       .get<std::vector<std::string>>();
  const std::vector<std::string_view> texts(all.begin(), all.begin() + 18);
  const Weights reference =
      Weights::open(fixtures() / ("sentence_tiny_" + name + "_reference.safetensors"));
  SentenceEncoderOptions options;
  options.max_batch_tokens = 50;
  const SentenceEncoder encoder =
      SentenceEncoder::from_pretrained((fixtures() / ("sentence_tiny_" + name)).string(), options);
  EXPECT_EQ(encoder.max_seq_length(), 24u);
  EXPECT_EQ(encoder.normalizes(), name == "xlmr");
  const Embeddings got = encoder.encode(texts);
  const std::vector<float> want = reference.get("sentence_embeddings").to_f32();
  const double error = model_test::max_row_relative_error(got.values, want, got.dim);
  RecordProperty("sentence_" + name, error_text(error));
  EXPECT_LE(error, 1e-4) << name;
  // Token counts per text, as sentence-transformers tokenized them.
  EXPECT_EQ(encoder.encode_tokens(texts).offsets, int64_values(reference.get("token_offsets")));
}

INSTANTIATE_TEST_SUITE_P(Families, SentenceFamilies, ::testing::Values("xlmr", "distilbert"));

}  // namespace
}  // namespace rank_rerank
