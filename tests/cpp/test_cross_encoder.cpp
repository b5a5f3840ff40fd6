// CrossEncoder against sentence-transformers' CrossEncoder.predict on tiny random
// BertForSequenceClassification models (scripts/make_model_fixtures.py).
#include <gtest/gtest.h>

#include <string>

#include "model_fixture_checks.hpp"
#include "rank_rerank/cross_encoder.hpp"

namespace rank_rerank {
namespace {

TEST(CrossEncoder, ScoresMatchSentenceTransformers) {
  for (const int labels : {1, 3}) {
    const CrossEncoder ce = CrossEncoder::from_pretrained(
        (model_test::fixtures() / ("cross_tiny_" + std::to_string(labels))).string());
    EXPECT_EQ(ce.num_labels(), static_cast<std::size_t>(labels));
    EXPECT_EQ(ce.max_length(), 24u);
  }
  model_test::expect_cross_fixtures_match([](CrossEncoderOptions&) {}, 1e-4);
}

}  // namespace
}  // namespace rank_rerank
