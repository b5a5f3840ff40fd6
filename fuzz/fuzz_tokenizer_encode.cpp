// Fuzzes encoding with the committed fixture tokenizers (cased WordPiece, byte-level BPE, Unigram
// with a Precompiled normalizer) on arbitrary bytes: single texts, pairs, truncated and padded
// batches, and decoding what came out. Nothing may crash; the encodings must be consistent (equal
// lengths, offsets inside the text, padding where asked).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/tokenizer.hpp"

namespace rr = rank_rerank;

namespace {

const std::vector<rr::Tokenizer>& tokenizers() {
  static const std::vector<rr::Tokenizer> all = [] {
    std::vector<rr::Tokenizer> v;
    for (const char* name : {"wordpiece_cased", "bpe_byte_level", "unigram_precompiled"})
      v.push_back(rr::Tokenizer::from_file(std::string(RANK_RERANK_SOURCE_DIR) +
                                           "/tests/fixtures/tokenizers/" + name + ".json"));
    return v;
  }();
  return all;
}

// Code points of text after replacing ill-formed UTF-8 (an upper bound is enough here: every
// byte is at most one code point or one U+FFFD).
void check(const rr::Encoding& e, std::size_t max_chars) {
  const std::size_t n = e.ids.size();
  if (e.type_ids.size() != n || e.attention_mask.size() != n || e.special_tokens_mask.size() != n ||
      e.word_ids.size() != n || e.sequence_ids.size() != n || e.offsets.size() != n ||
      e.tokens.size() != n)
    std::abort();
  for (const auto& [start, end] : e.offsets)
    if (start > end || end > max_chars) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const rr::Tokenizer& tok = tokenizers()[in.ConsumeIntegralInRange<std::size_t>(0, 2)];
  const int mode = in.ConsumeIntegralInRange<int>(0, 3);
  const std::size_t max_length = in.ConsumeIntegralInRange<std::size_t>(0, 40);
  const std::string a = in.ConsumeRandomLengthString(2048);
  const std::string b = in.ConsumeRemainingBytesAsString();
  const std::size_t max_chars = a.size() + b.size();
  try {
    if (mode == 0) {
      const rr::Encoding e = tok.encode(a);
      check(e, max_chars);
      tok.decode(e.ids, true);
      tok.decode(e.ids, false);
    } else if (mode == 1) {
      check(tok.encode_pair(a, b), max_chars);
    } else {
      rr::EncodeOptions o;
      rr::TruncationOptions t;
      t.max_length = max_length;
      t.strategy = static_cast<rr::TruncationStrategy>(max_length % 3);
      t.direction = max_length % 2 ? rr::Side::left : rr::Side::right;
      o.truncation = std::optional<rr::TruncationOptions>(t);
      rr::PaddingOptions p;
      p.pad_to_multiple_of = max_length % 5;
      p.direction = t.direction;
      o.padding = std::optional<rr::PaddingOptions>(p);
      o.add_special_tokens = mode == 2;
      const std::vector<std::string_view> texts{a, b, a};
      const std::vector<std::string_view> pairs{b, a, b};
      const auto out =
          tok.encode_batch(texts, mode == 3 ? pairs : std::vector<std::string_view>{}, o);
      for (const auto& e : out) {
        check(e, max_chars);
        if (e.size() != out[0].size()) std::abort();  // padded to one length
      }
    }
  } catch (const rr::Error&) {
    // Refusals (a truncation that cannot be met) are fine; crashes and other exceptions are not.
  }
  return 0;
}
