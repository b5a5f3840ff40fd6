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
  std::uint32_t start, end;  // byte offsets in the word the model saw
};

// One pre-tokenized piece: a byte range of one of the normalized buffers. Added tokens are final
// (added_id >= 0); the others go through the model.
struct Split {
  std::uint32_t buffer;
  std::uint32_t start, end;
  std::int32_t added_id = -1;
};

// The pieces of one input sequence. Pre-tokenizers that only cut text keep pointing into the same
// buffers; those that rewrite text (ByteLevel, Metaspace) give a piece its own buffer first.
struct PreTokenized {
  std::vector<NormalizedString> buffers;
  std::vector<Split> splits;

  std::string_view text(const Split& s) const {
    return std::string_view(buffers[s.buffer].get()).substr(s.start, s.end - s.start);
  }
};

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(NormalizedString& s) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(PreTokenized& p) const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the tokens of `word` (offsets relative to it).
  virtual void tokenize(std::string_view word, std::vector<Token>& out) const = 0;
  // The string of a token of `word` as `tokenizers` reports it: the vocabulary entry, except for
  // models that keep the original text of unknown pieces.
  virtual std::string_view token_text(const Token& t, std::string_view word) const = 0;
  virtual std::optional<std::int32_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(std::int32_t id) const = 0;
  virtual std::size_t vocab_size() const = 0;
};

// Cuts every split that is not an added token into the parts `how` keeps of the pieces that
// segment(text, pieces) writes for its text.
template <class Segment>
void split_ranges(PreTokenized& p, SplitBehavior how, Segment segment) {
  thread_local std::vector<Piece> pieces, parts;
  thread_local std::vector<Split> out;
  out.clear();
  out.reserve(p.splits.size() * 2);
  for (const Split& s : p.splits) {
    if (s.added_id >= 0) {
      out.push_back(s);
      continue;
    }
    pieces.clear();
    segment(p.text(s), pieces);
    apply_split_behavior(pieces, how, parts);
    for (const Piece& part : parts) {
      out.push_back({s.buffer, s.start + static_cast<std::uint32_t>(part.start),
                     s.start + static_cast<std::uint32_t>(part.end), -1});
    }
  }
  p.splits.swap(out);
}

// How many splits point into each buffer.
std::vector<std::uint32_t> buffer_users(const PreTokenized& p);
// Gives split i a buffer of its own, so that rewriting it touches no other split: a copy of its
// range, unless it already covers a buffer that no other split uses (users from buffer_users).
// Returns that buffer's index.
std::uint32_t own_buffer(PreTokenized& p, std::size_t i, std::vector<std::uint32_t>& users);

// GPT-2's byte-to-character table used by ByteLevel.
char32_t byte_to_char(unsigned char b);
// Inverse; -1 when c is not in the table.
int char_to_byte(char32_t c);

// Segments s with the GPT-2 pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// implemented directly on utf8proc categories.
void gpt2_pieces(std::string_view s, std::vector<Piece>& pieces);

}  // namespace rank_rerank::tok
