// rank_rerank::Tokenizer on the committed fixtures (cased WordPiece, byte-level BPE, Unigram with
// a Precompiled normalizer) against the values the real `tokenizers` package produced for them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/tokenizer.hpp"
#include "tokenizer_expected.hpp"

namespace rr = rank_rerank;
using namespace tokenizer_test;

namespace {

class FixtureTokenizer : public ::testing::TestWithParam<const char*> {
 protected:
  static rr::Tokenizer load() {
    return rr::Tokenizer::from_file(fixture_path(std::string(GetParam()) + ".json"));
  }
  static simdjson::dom::element cases(const char* kind) {
    return expected()["tokenizers"][GetParam()][kind].value();
  }
};

TEST_P(FixtureTokenizer, SingleTextsMatchTokenizers) {
  const rr::Tokenizer tok = load();
  std::size_t n = 0;
  for (auto c : items(cases("single"))) {
    const std::string input = from_hex(str(c["text_hex"]));
    expect_encoding(tok.encode(input), c, "text hex " + str(c["text_hex"]));
    rr::EncodeOptions plain;
    plain.add_special_tokens = false;
    EXPECT_EQ(tok.encode(input, plain).ids, ints(c["ids_without_special_tokens"]));
    ++n;
  }
  EXPECT_GE(n, 20u);
}

TEST_P(FixtureTokenizer, PairsMatchTokenizers) {
  const rr::Tokenizer tok = load();
  for (auto c : items(cases("pairs"))) {
    const std::string a = from_hex(str(c["text_hex"]));
    const std::string b = from_hex(str(c["pair_hex"]));
    expect_encoding(tok.encode_pair(a, b), c, "pair " + a);
  }
}

// Truncation (each strategy, both directions) and padding to a multiple of 8 over a batch; where
// `tokenizers` refuses (the sequence to cut is too short) we must refuse too.
TEST_P(FixtureTokenizer, TruncatedPaddedBatchesMatchTokenizers) {
  const rr::Tokenizer tok = load();
  std::vector<std::string> firsts, seconds;
  for (auto c : items(cases("pairs"))) {
    firsts.push_back(from_hex(str(c["text_hex"])));
    seconds.push_back(from_hex(str(c["pair_hex"])));
  }
  for (auto batch : items(cases("batches"))) {
    const std::string strategy = str(batch["strategy"]);
    const std::string direction = str(batch["direction"]);
    const rr::Side side = direction == "left" ? rr::Side::left : rr::Side::right;
    rr::TruncationOptions t;
    t.max_length = static_cast<std::size_t>(batch["max_length"].get_int64().value());
    t.strategy = strategy == "only_first"    ? rr::TruncationStrategy::only_first
                 : strategy == "only_second" ? rr::TruncationStrategy::only_second
                                             : rr::TruncationStrategy::longest_first;
    t.direction = side;
    rr::PaddingOptions p;
    p.pad_to_multiple_of =
        static_cast<std::size_t>(batch["pad_to_multiple_of"].get_int64().value());
    p.direction = side;
    p.pad_id = 0;
    p.pad_token = "[PAD]";
    rr::EncodeOptions o;
    o.truncation = std::optional<rr::TruncationOptions>(t);
    o.padding = std::optional<rr::PaddingOptions>(p);
    std::vector<std::string> texts = firsts;
    std::vector<std::string_view> a, b;
    if (!batch["pairs"].get_bool().value()) {
      texts.clear();
      for (auto h : items(batch["texts_hex"])) texts.push_back(from_hex(str(h)));
    } else {
      b.assign(seconds.begin(), seconds.end());
    }
    a.assign(texts.begin(), texts.end());
    const std::string context = strategy + " " + direction;
    if (batch["encodings"].is_null()) {
      EXPECT_THROW(tok.encode_batch(a, b, o), rr::Error) << context;
      continue;
    }
    const auto got = tok.encode_batch(a, b, o);
    auto want = items(batch["encodings"]);
    ASSERT_EQ(got.size(), want.size()) << context;
    std::size_t i = 0;
    for (auto w : want) {
      expect_encoding(got[i], w, context + " row " + std::to_string(i));
      ++i;
    }
  }
}

TEST_P(FixtureTokenizer, DecodeMatchesTokenizers) {
  const rr::Tokenizer tok = load();
  for (auto c : items(cases("decode"))) {
    const auto ids = ints(c["ids"]);
    EXPECT_EQ(tok.decode(ids, c["skip_special_tokens"].get_bool().value()), str(c["text"]));
  }
}

TEST_P(FixtureTokenizer, EncodeBatchEqualsSingleEncodes) {
  const rr::Tokenizer tok = load();
  std::vector<std::string> texts;
  for (auto c : items(cases("single"))) texts.push_back(from_hex(str(c["text_hex"])));
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  rr::EncodeOptions o;
  o.num_threads = 2;
  const auto batch = tok.encode_batch(views, {}, o);
  ASSERT_EQ(batch.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto one = tok.encode(texts[i]);
    EXPECT_EQ(batch[i].ids, one.ids);
    EXPECT_EQ(batch[i].offsets, one.offsets);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureTokenizer,
                         ::testing::Values("wordpiece_cased", "bpe_byte_level",
                                           "unigram_precompiled"));

}  // namespace
