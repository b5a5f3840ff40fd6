// CrossEncoder against sentence-transformers' CrossEncoder.predict on tiny random
// BertForSequenceClassification models (scripts/make_model_fixtures.py).
#include <gtest/gtest.h>

#include <cmath>

#include "io_test_support.hpp"
#include "rank_rerank/cross_encoder.hpp"
#include "rank_rerank/weights.hpp"

namespace rank_rerank {
namespace {

namespace fs = std::filesystem;

TEST(CrossEncoder, ScoresMatchSentenceTransformers) {
  const fs::path dir = io_test::source_dir() / "tests/fixtures/models";
  const auto pairs = nlohmann::json::parse(io_test::read_file(dir / "cross_pairs.json"))
                         .get<std::vector<std::pair<std::string, std::string>>>();
  const std::vector<std::pair<std::string_view, std::string_view>> views(pairs.begin(),
                                                                         pairs.end());
  for (const int labels : {1, 3}) {
    CrossEncoderOptions options;
    options.batch_size = 5;
    const CrossEncoder ce = CrossEncoder::from_pretrained(
        (dir / ("cross_tiny_" + std::to_string(labels))).string(), options);
    EXPECT_EQ(ce.num_labels(), static_cast<std::size_t>(labels));
    EXPECT_EQ(ce.max_length(), 24u);
    const std::vector<float> want =
        Weights::open(dir / ("cross_tiny_" + std::to_string(labels) + "_reference.safetensors"))
            .get("scores")
            .to_f32();
    const std::vector<float> got = ce.predict(views);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-4 * std::max(1.0f, std::abs(want[i]))) << labels << " " << i;
  }
}

}  // namespace
}  // namespace rank_rerank
