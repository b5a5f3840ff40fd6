// The pipeline stages of a tokenizer.json: normalizers, pre-tokenizers and models. Each mirrors the
// component of the same name in `tokenizers`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/normalized_string.hpp"

namespace rank_rerank::tok {

struct Token {
  std::int32_t id;
  std::string value;
  std::uint32_t start, end;  // byte offsets in the normalized piece the model saw
};

// A piece of the input under pre-tokenization; once `tokens` is set it is final.
struct Split {
  NormalizedString normalized;
  std::optional<std::vector<Token>> tokens;
};

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(NormalizedString& s) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(std::vector<Split>& splits) const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the tokens of `word` (offsets relative to it).
  virtual void tokenize(std::string_view word, std::vector<Token>& out) const = 0;
  virtual std::optional<std::int32_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(std::int32_t id) const = 0;
  virtual std::size_t vocab_size() const = 0;
};

// Replaces each split that has no tokens yet by the pieces fn(split.normalized) returns.
template <class Fn>
void split_each(std::vector<Split>& splits, Fn fn) {
  std::vector<Split> out;
  out.reserve(splits.size() * 2);
  for (Split& s : splits) {
    if (s.tokens) {
      out.push_back(std::move(s));
      continue;
    }
    for (NormalizedString& piece : fn(s.normalized)) {
      if (!piece.empty()) out.push_back(Split{std::move(piece), std::nullopt});
    }
  }
  splits = std::move(out);
}

// GPT-2's byte-to-character table used by ByteLevel.
char32_t byte_to_char(unsigned char b);
// Inverse; -1 when c is not in the table.
int char_to_byte(char32_t c);

// Segments s with the GPT-2 pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// implemented directly on utf8proc categories.
std::vector<Piece> gpt2_pieces(std::string_view s);

}  // namespace rank_rerank::tok
