// Typed access to config.json-style files.
#include <gtest/gtest.h>

#include "io_test_support.hpp"
#include "rank_rerank/json_config.hpp"

namespace rr = rank_rerank;
using io_test::error_of;

namespace {

const char* kBertConfig = R"({
  "architectures": ["BertModel"], "hidden_size": 384, "layer_norm_eps": 1e-12,
  "hidden_dropout_prob": 0, "tie_word_embeddings": true, "model_type": "bert",
  "pad_token_id": null, "big": 18446744073709551615, "negative": -3,
  "sentence_transformers": {"activation_fn": "torch.nn.modules.linear.Identity", "version": 2},
  "ids": [1, 2, 3], "scales": [0.5, 1], "mixed": [1, "a"]
})";

rr::JsonConfig bert() { return rr::JsonConfig::parse(kBertConfig, "config.json"); }

}  // namespace

TEST(JsonConfig, TypedValues) {
  const rr::JsonConfig c = bert();
  EXPECT_EQ(c.get<std::int64_t>("hidden_size"), 384);
  EXPECT_EQ(c.get<std::int64_t>("negative"), -3);
  EXPECT_DOUBLE_EQ(c.get<double>("layer_norm_eps"), 1e-12);
  EXPECT_DOUBLE_EQ(c.get<double>("hidden_size"), 384.0);  // integers widen to double
  EXPECT_DOUBLE_EQ(c.get<double>("hidden_dropout_prob"), 0.0);
  EXPECT_TRUE(c.get<bool>("tie_word_embeddings"));
  EXPECT_EQ(c.get<std::string>("model_type"), "bert");
  EXPECT_EQ(c.get<std::vector<std::string>>("architectures"),
            std::vector<std::string>{"BertModel"});
  EXPECT_EQ(c.get<std::vector<std::int64_t>>("ids"), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(c.get<std::vector<double>>("scales"), (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(c.object("sentence_transformers").get<std::int64_t>("version"), 2);
  EXPECT_EQ(c.object("sentence_transformers").where(), "config.json: sentence_transformers");
}

TEST(JsonConfig, MissingAndNullKeys) {
  const rr::JsonConfig c = bert();
  EXPECT_FALSE(c.contains("pad_token_id"));  // null counts as missing
  EXPECT_FALSE(c.contains("vocab_size"));
  EXPECT_TRUE(c.contains("hidden_size"));
  EXPECT_EQ(c.get_or<std::int64_t>("pad_token_id", 0), 0);
  EXPECT_EQ(c.get_or<std::int64_t>("hidden_size", 0), 384);
  EXPECT_FALSE(c.find<std::string>("vocab_size").has_value());
  EXPECT_EQ(c.find<std::string>("model_type").value(), "bert");
  EXPECT_EQ(error_of([&] { c.get<std::int64_t>("vocab_size"); }),
            "config.json: required key 'vocab_size' is missing (an integer expected)");
  EXPECT_NE(error_of([&] { c.object("pooling"); }).find("required key 'pooling' is missing"),
            std::string::npos);
  const std::vector<std::string> keys = c.keys();
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(keys.size(), 13u);
}

TEST(JsonConfig, MistypedKeysNameWhatWasFound) {
  const rr::JsonConfig c = bert();
  EXPECT_EQ(error_of([&] { c.get<std::int64_t>("model_type"); }),
            "config.json: 'model_type' is a string (\"bert\"), an integer expected");
  EXPECT_EQ(error_of([&] { c.get<std::int64_t>("layer_norm_eps"); }),
            "config.json: 'layer_norm_eps' is a number (1e-12), an integer expected");
  EXPECT_NE(error_of([&] {
              c.get<std::int64_t>("big");
            }).find("'big' = 18446744073709551615 does not fit a signed 64-bit integer"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.get<bool>("hidden_size"); }).find("a boolean expected"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.get_or<std::string>("hidden_size", "x"); }).find("a string expected"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              c.get<std::vector<std::int64_t>>("mixed");
            }).find("an array of integers expected"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              c.get<std::vector<std::string>>("model_type");
            }).find("an array of strings expected"),
            std::string::npos);
  EXPECT_NE(error_of([&] { c.object("model_type"); }).find("an object expected"),
            std::string::npos);
  EXPECT_EQ(error_of([&] {
              c.object("sentence_transformers").get<std::int64_t>("activation_fn");
            }).rfind("config.json: sentence_transformers: 'activation_fn' is a string", 0),
            0u);
}

TEST(JsonConfig, BadDocuments) {
  EXPECT_NE(
      error_of([] { rr::JsonConfig::parse("{\"a\": ", "c.json"); }).find("c.json: malformed JSON"),
      std::string::npos);
  EXPECT_NE(error_of([] {
              rr::JsonConfig::parse("[1]", "c.json");
            }).find("holds an array, an object expected"),
            std::string::npos);
  EXPECT_NE(error_of([] { rr::JsonConfig::parse("", "c.json"); }).find("malformed JSON"),
            std::string::npos);
  io_test::ScratchDir dir;
  EXPECT_NE(error_of([&] { rr::JsonConfig::load(dir / "missing.json"); }, rr::ErrorKind::runtime)
                .find("cannot open"),
            std::string::npos);
  io_test::write_file(dir / "config.json", kBertConfig);
  EXPECT_EQ(rr::JsonConfig::load(dir / "config.json").get<std::int64_t>("hidden_size"), 384);
  EXPECT_EQ(rr::JsonConfig::load(dir / "config.json").where(), (dir / "config.json").string());
}
