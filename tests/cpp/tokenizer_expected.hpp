// Access to tests/fixtures/tokenizers/expected.json: what the real `tokenizers` package returns on
// the committed fixtures (written by scripts/make_tokenizer_fixtures.py --expected).
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rank_rerank/tokenizer.hpp"

namespace tokenizer_test {

inline std::string fixture_path(const std::string& name) {
  return std::string(RANK_RERANK_SOURCE_DIR) + "/tests/fixtures/tokenizers/" + name;
}

inline simdjson::dom::element expected() {
  static simdjson::dom::parser parser;
  static const simdjson::dom::element root = parser.load(fixture_path("expected.json")).value();
  return root;
}

// An array of the expected values, held by value (iterating a temporary simdjson_result would
// dangle).
inline simdjson::dom::array items(simdjson::dom::element e) {
  simdjson::dom::array a;
  if (e.get(a)) throw std::runtime_error("expected.json: not an array");
  return a;
}

inline std::string str(simdjson::dom::element e) {
  std::string_view s;
  if (e.get(s)) throw std::runtime_error("expected.json: not a string");
  return std::string(s);
}

inline std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

inline std::vector<std::int32_t> ints(simdjson::dom::element array) {
  std::vector<std::int32_t> out;
  for (auto v : items(array)) out.push_back(static_cast<std::int32_t>(v.get_int64()));
  return out;
}

inline std::vector<std::pair<std::uint32_t, std::uint32_t>> offsets(simdjson::dom::element a) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (auto pair : items(a)) {
    auto p = items(pair);
    out.emplace_back(static_cast<std::uint32_t>(p.at(0).get_int64()),
                     static_cast<std::uint32_t>(p.at(1).get_int64()));
  }
  return out;
}

inline std::vector<std::string> strings(simdjson::dom::element array) {
  std::vector<std::string> out;
  for (auto v : items(array)) out.emplace_back(v.get_string().value());
  return out;
}

// Every field `tokenizers` reports, compared with what we produced.
inline void expect_encoding(const rank_rerank::Encoding& got, simdjson::dom::element want,
                            const std::string& context) {
  SCOPED_TRACE(context);
  EXPECT_EQ(got.ids, ints(want["ids"]));
  EXPECT_EQ(got.type_ids, ints(want["type_ids"]));
  EXPECT_EQ(got.attention_mask, ints(want["attention_mask"]));
  EXPECT_EQ(got.special_tokens_mask, ints(want["special_tokens_mask"]));
  EXPECT_EQ(got.offsets, offsets(want["offsets"]));
  EXPECT_EQ(got.tokens, strings(want["tokens"]));
}

}  // namespace tokenizer_test
