// Fuzzes the tokenizer.json loader with arbitrary bytes: loading must either succeed or throw
// rank_rerank::Error, and a tokenizer that loads must encode and decode without crashing.
#include <cstdint>
#include <string>
#include <string_view>

#include "rank_rerank/error.hpp"
#include "rank_rerank/tokenizer.hpp"

namespace rr = rank_rerank;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  try {
    const rr::Tokenizer tok = rr::Tokenizer::from_json(json);
    for (std::string_view text :
         {std::string_view("Hello, wörld! 日本 'll  x"), json.substr(0, 64)}) {
      const rr::Encoding e = tok.encode(text);
      tok.decode(e.ids, false);
      tok.encode_pair(text, "pair");
    }
    tok.vocab_size();
    tok.token_to_id("a");
  } catch (const rr::Error&) {
  }
  return 0;
}
