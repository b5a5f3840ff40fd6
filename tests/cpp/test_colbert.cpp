// ColbertEncoder against PyLate's embeddings (scripts/make_model_fixtures.py) for the PyLate
// layout (one Dense, and a Dense chain with biases, activations and residuals) and the Stanford
// layout, including Stanford's nested artifact.metadata form; score_candidates against the host
// path on the CPU.
#include <gtest/gtest.h>

#include <cmath>

#include "colbert_scoring_support.hpp"
#include "io_test_support.hpp"
#include "model_reference.hpp"
#include "rank_rerank/colbert_encoder.hpp"
#include "rank_rerank/weights.hpp"

namespace rank_rerank {
namespace {

namespace fs = std::filesystem;
using model_test::fixtures;
using model_test::int64_values;

void expect_matches(const fs::path& model, const std::string& reference_name) {
  const auto texts = nlohmann::json::parse(io_test::read_file(fixtures() / "colbert_texts.json"));
  const Weights reference = Weights::open(fixtures() / (reference_name + "_reference.safetensors"));
  ColbertEncoderOptions options;
  options.batch_size = 4;
  const ColbertEncoder encoder = ColbertEncoder::from_pretrained(model.string(), options);
  for (const bool is_query : {true, false}) {
    const std::string kind = is_query ? "query" : "document";
    const auto strings = texts[is_query ? "queries" : "documents"].get<std::vector<std::string>>();
    const std::vector<std::string_view> views(strings.begin(), strings.end());
    const PackedEmbeddings got =
        is_query ? encoder.encode_queries(views) : encoder.encode_documents(views);
    EXPECT_EQ(got.offsets, int64_values(reference.get(kind + "_offsets"))) << kind;
    const std::vector<float> want = reference.get(kind + "_embeddings").to_f32();
    ASSERT_EQ(got.values.size(), want.size()) << kind;
    double worst = 0;
    for (std::size_t i = 0; i < want.size(); ++i)
      worst = std::max(worst, std::abs(double(got.values[i]) - want[i]));
    // Unit vectors: an absolute error is an error relative to the vector's norm.
    EXPECT_LE(worst, 1e-4) << reference_name << " " << kind;
  }
}

TEST(Colbert, PylateLayoutsMatchPylate) {
  expect_matches(fixtures() / "colbert_tiny_pylate", "colbert_tiny_pylate");
  expect_matches(fixtures() / "colbert_tiny_chain", "colbert_tiny_chain");
}

TEST(Colbert, StanfordLayoutMatchesPylateWithFlatAndNestedMetadata) {
  expect_matches(fixtures() / "colbert_tiny_stanford", "colbert_tiny_stanford");
  io_test::ScratchDir scratch;
  const fs::path copy = scratch / "stanford";
  fs::copy(fixtures() / "colbert_tiny_stanford", copy, fs::copy_options::recursive);
  const auto flat = nlohmann::json::parse(io_test::read_file(copy / "artifact.metadata"));
  io_test::write_file(copy / "artifact.metadata", nlohmann::json{{"config", flat}}.dump());
  expect_matches(copy, "colbert_tiny_stanford");
}

// score_candidates keeps the vectors in the backend's memory and scores them there; on the CPU
// that is the same computation as the host path, so the scores are equal exactly. Widths 20 (the
// fixture) and 32 (a width the GPU kernels take).
TEST(Colbert, ScoreCandidatesEqualsEncodeThenMaxSimOnTheCpu) {
  const colbert_test::Candidates c = colbert_test::candidates();
  io_test::ScratchDir scratch;
  for (const fs::path& model :
       {fixtures() / "colbert_tiny_pylate", colbert_test::colbert_with_dimension(scratch, 32)}) {
    ColbertEncoderOptions options;
    options.batch_size = 4;  // several passes
    options.device = Device::cpu();
    const ColbertEncoder encoder = ColbertEncoder::from_pretrained(model.string(), options);
    EncodeStats stats;
    const std::vector<float> got =
        encoder.score_candidates(c.queries, c.documents, c.offsets, &stats);
    const std::vector<float> want = colbert_test::encode_then_maxsim(encoder, c);
    ASSERT_EQ(got.size(), c.documents.size());
    EXPECT_EQ(got, want) << model;
    EXPECT_EQ(stats.texts, c.queries.size() - 1 + c.documents.size());  // query 1 has no list
    EXPECT_GT(stats.batch_texts.size(), 2u);
    EXPECT_GE(stats.score_ms, 0.0);
  }
}

TEST(Colbert, ScoreCandidatesWithoutDocumentsOrWithBadOffsets) {
  ColbertEncoderOptions options;
  options.device = Device::cpu();
  const ColbertEncoder encoder =
      ColbertEncoder::from_pretrained((fixtures() / "colbert_tiny_pylate").string(), options);
  const std::vector<std::string_view> queries{"cat", "dog"}, documents{"a cat", "a dog"};
  EncodeStats stats;
  const std::vector<std::int64_t> no_documents{0, 0, 0};
  EXPECT_TRUE(encoder.score_candidates(queries, {}, no_documents, &stats).empty());
  EXPECT_EQ(stats.texts, 0u);  // nothing to score: nothing encoded
  for (const std::vector<std::int64_t>& offsets :
       {std::vector<std::int64_t>{0, 2}, {0, 1, 1}, {1, 1, 2}, {0, 2, 1}, {0, 1, 3}}) {
    const std::string e =
        io_test::error_of([&] { (void)encoder.score_candidates(queries, documents, offsets); });
    EXPECT_NE(e.find("candidate_offsets"), std::string::npos) << e;
  }
}

TEST(Colbert, NotAColbertCheckpointIsRejected) {
  const std::string e = io_test::error_of(
      [] { ColbertEncoder::from_pretrained((fixtures() / "bert_tiny_gelu").string()); },
      ErrorKind::unsupported);
  EXPECT_NE(e.find("HF_ColBERT"), std::string::npos) << e;
}

}  // namespace
}  // namespace rank_rerank
