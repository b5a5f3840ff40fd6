// Bad input to the tokenizer: malformed tokenizer.json (errors name the component type and the
// field), bad arguments, invalid UTF-8; and the JSON score reading that matches `tokenizers`.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "rank_rerank/error.hpp"
#include "rank_rerank/tokenizer.hpp"
#include "tokenizer/json_float.hpp"
#include "tokenizer_expected.hpp"

namespace rr = rank_rerank;
using namespace tokenizer_test;

namespace {

constexpr const char* kWordPiece =
    R"("model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1, "##b": 2}})";

// The message of the Error that loading json throws, checking its kind.
std::string load_error(const std::string& json,
                       rr::ErrorKind kind = rr::ErrorKind::invalid_argument) {
  try {
    rr::Tokenizer::from_json(json);
  } catch (const rr::Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << json;
  return "";
}

TEST(TokenizerErrors, NotJsonOrNoModel) {
  EXPECT_NE(load_error("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(load_error("[]").find("tokenizer is not a JSON object"), std::string::npos);
  EXPECT_NE(load_error("{}").find("field 'model' is missing"), std::string::npos);
  EXPECT_NE(load_error(R"({"model": {"vocab": {}}})").find("model: field 'type'"),
            std::string::npos);
}

TEST(TokenizerErrors, MessagesNameComponentAndField) {
  const auto with = [](const std::string& part) { return "{" + part + ", " + kWordPiece + "}"; };
  struct Case {
    std::string json, component, field;
  };
  const Case cases[] = {
      {with(R"("normalizer": {"type": "BertNormalizer", "lowercase": 3})"),
       "normalizer BertNormalizer", "'lowercase'"},
      {with(R"("normalizer": {"type": "Replace", "pattern": {"Regex": "("}, "content": ""})"),
       "normalizer Replace pattern", "'pattern'"},
      {with(R"("normalizer": {"type": "Precompiled", "precompiled_charsmap": "!!"})"),
       "normalizer Precompiled", "'precompiled_charsmap'"},
      {with(R"("normalizer": {"type": "Sequence", "normalizers": 1})"), "normalizer Sequence",
       "'normalizers'"},
      {with(
           R"("pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways"})"),
       "pre_tokenizer Split", "'behavior'"},
      {with(R"("pre_tokenizer": {"type": "Metaspace", "replacement": "ab"})"),
       "pre_tokenizer Metaspace", "'replacement'"},
      {with(
           R"("post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[X]"}}], "pair": [], "special_tokens": {}})"),
       "post_processor TemplateProcessing", "'special_tokens'"},
      {with(
           R"("post_processor": {"type": "BertProcessing", "sep": ["[SEP]"], "cls": ["[CLS]", 1]})"),
       "post_processor BertProcessing", "'sep'"},
      {with(R"("truncation": {"max_length": "long"})"), "truncation", "'max_length'"},
      {with(R"("padding": {"strategy": "Sometimes"})"), "padding", "'strategy'"},
      {with(R"("added_tokens": [{"id": 5}])"), "added_tokens entry", "'content'"},
      {R"({"model": {"type": "WordPiece", "vocab": {"a": "one"}}})", "model WordPiece", "'vocab'"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})", "model BPE",
       "'merges'"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["ab"]}})", "model BPE",
       "'merges'"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "dropout": 0.1}})",
       "model BPE", "'dropout'"},
      {R"({"model": {"type": "Unigram", "vocab": [["a", "x"]]}})", "model Unigram", "'vocab'"},
      {R"({"model": {"type": "Unigram", "vocab": [["a", -1.0]], "unk_id": 4}})", "model Unigram",
       "'unk_id'"},
      {R"({"model": {"type": "Unigram", "vocab": [["a", 1e999]]}})", "", "JSON"},
      {R"({"model": {"type": "WordPiece", "vocab": {"a": -1}}})", "model WordPiece", "'vocab'"},
      {with(R"("padding": {"strategy": {"Fixed": 1000000000}})"), "padding strategy", "'Fixed'"},
      {with(R"("added_tokens": [{"id": -5, "content": "x"}])"), "added_tokens entry", "'id'"},
  };
  for (const Case& c : cases) {
    const std::string message = load_error(c.json);
    EXPECT_NE(message.find(c.component), std::string::npos) << message;
    EXPECT_NE(message.find(c.field), std::string::npos) << message;
  }
}

TEST(TokenizerErrors, UnsupportedTypesAreNamed) {
  const auto with = [](const std::string& part) { return "{" + part + ", " + kWordPiece + "}"; };
  EXPECT_NE(load_error(with(R"("normalizer": {"type": "Nope"})"), rr::ErrorKind::unsupported)
                .find("normalizer type 'Nope'"),
            std::string::npos);
  EXPECT_NE(load_error(with(R"("pre_tokenizer": {"type": "Nope"})"), rr::ErrorKind::unsupported)
                .find("pre_tokenizer type 'Nope'"),
            std::string::npos);
  EXPECT_NE(load_error(with(R"("decoder": {"type": "Nope"})"), rr::ErrorKind::unsupported)
                .find("decoder type 'Nope'"),
            std::string::npos);
  EXPECT_NE(
      load_error(R"({"model": {"type": "WordLevel", "vocab": {}}})", rr::ErrorKind::unsupported)
          .find("model type 'WordLevel'"),
      std::string::npos);
}

// Ids need not be dense: a huge one is kept apart instead of sizing a table by it.
TEST(TokenizerErrors, SparseIdsWork) {
  const auto tok = rr::Tokenizer::from_json(
      R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 2000000000}}})");
  EXPECT_EQ(tok.encode("a").ids, std::vector<std::int32_t>{2000000000});
  EXPECT_EQ(tok.decode({2000000000}), "a");
  EXPECT_EQ(tok.token_to_id("a"), 2000000000);
}

TEST(TokenizerErrors, PaddingBeyondTheLimitIsRefused) {
  const auto tok = rr::Tokenizer::from_json(std::string("{") + kWordPiece + "}");
  rr::EncodeOptions o;
  rr::PaddingOptions p;
  p.max_length = rr::kMaxPaddedLength + 1;
  o.padding = std::optional<rr::PaddingOptions>(p);
  EXPECT_THROW(tok.encode("a", o), rr::Error);
}

TEST(TokenizerErrors, MissingFilesAndDirectories) {
  EXPECT_THROW(rr::Tokenizer::from_file("/nonexistent/tokenizer.json"), rr::Error);
  EXPECT_THROW(rr::Tokenizer::from_pretrained("/nonexistent"), rr::Error);
}

TEST(TokenizerErrors, BadEncodeArguments) {
  const auto tok = rr::Tokenizer::from_json(std::string("{") + kWordPiece + "}");
  EXPECT_THROW(tok.encode_batch({"a", "b"}, {"x"}), rr::Error);
  EXPECT_THROW(tok.decode({99}), rr::Error);
  // An unknown token that is not in the vocabulary can only fail when it is needed.
  const auto no_unk = rr::Tokenizer::from_json(
      R"({"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"a": 0}}})");
  EXPECT_EQ(no_unk.encode("a").ids, std::vector<std::int32_t>{0});
  EXPECT_THROW(no_unk.encode("zzz"), rr::Error);
  const auto unigram =
      rr::Tokenizer::from_json(R"({"model": {"type": "Unigram", "vocab": [["a", -1.0]]}})");
  EXPECT_THROW(unigram.encode("b"), rr::Error);
}

// Ill-formed UTF-8 becomes U+FFFD per maximal subpart, as Python's decode(errors="replace"); the
// fixture expectations cover the token ids and offsets, this covers emptiness and bytes only.
TEST(TokenizerErrors, InvalidUtf8NeverFails) {
  const auto tok = rr::Tokenizer::from_file(fixture_path("wordpiece_cased.json"));
  const std::string cases[] = {"\xff",
                               "\xed\xa0\x80",
                               "\xc0",
                               "\xf4\x90\x80\x80",
                               std::string("a\x80") + "b",
                               std::string("\0\0", 2)};
  for (const std::string& bad : cases) {
    const auto e = tok.encode(bad);
    EXPECT_GE(e.size(), 2u);  // [CLS] ... [SEP]
    for (auto [start, end] : e.offsets) EXPECT_LE(start, end);
  }
}

TEST(JsonScores, ReadLikeTokenizers) {
  std::size_t n = 0;
  for (auto c : items(expected()["unigram_score_literals"])) {
    const std::string literal = str(c["literal"]);
    const std::string hex = str(c["value_hex"]);
    const double want = std::strtod(hex.c_str(), nullptr);
    const auto got = rr::tok::parse_json_number_like_serde(literal);
    ASSERT_TRUE(got.has_value()) << literal;
    EXPECT_EQ(*got, want) << literal;
    EXPECT_EQ(std::signbit(*got), std::signbit(want)) << literal;
    ++n;
  }
  EXPECT_GT(n, 300u);
  EXPECT_FALSE(rr::tok::parse_json_number_like_serde("1e999").has_value());
  EXPECT_FALSE(rr::tok::parse_json_number_like_serde("1e99999999999").has_value());
  EXPECT_EQ(*rr::tok::parse_json_number_like_serde("1e-99999999999"), 0.0);
}

}  // namespace
