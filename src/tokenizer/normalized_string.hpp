// A string under normalization that remembers, for every byte, which span of the original text it
// came from. The alignment rules (inserted characters share the span of the character before them,
// removed characters vanish) are those of `tokenizers`' NormalizedString, so that offsets agree.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rank_rerank::tok {

using Span = std::pair<std::uint32_t, std::uint32_t>;  // original byte offsets, absolute

// One character of a transformation's output: delta 0 replaces the next input character, +1
// inserts a new one, -n replaces the next character and removes the n after it.
struct Change {
  char32_t c;
  int delta;
};

// A segmentation of a string into consecutive pieces, each a match of some pattern or not.
struct Piece {
  std::size_t start, end;
  bool is_match;
};

enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

class NormalizedString {
 public:
  NormalizedString() = default;
  // `text` starts at byte `shift` of the whole original input.
  NormalizedString(std::string_view text, std::uint32_t shift);

  const std::string& get() const noexcept { return text_; }
  bool empty() const noexcept { return text_.empty(); }
  std::uint32_t original_start() const noexcept { return orig_start_; }
  // Original span of normalized bytes [start, end).
  Span original_span(std::size_t start, std::size_t end) const;

  void transform(const std::vector<Change>& dest, std::size_t initial_removed_chars) {
    transform_range(0, text_.size(), dest, initial_removed_chars);
  }
  void transform_range(std::size_t start, std::size_t end, const std::vector<Change>& dest,
                       std::size_t initial_removed_chars);

  // Keeps the characters for which keep(c) holds.
  template <class Keep>
  void filter(Keep keep);
  // Replaces every character by map(c).
  template <class Map>
  void map(Map fn);
  void lowercase();
  void prepend(std::string_view s);
  void append(std::string_view s);
  // Replaces each matching piece by `content`.
  void replace(const std::vector<Piece>& pieces, std::string_view content);
  void strip(bool left, bool right);
  NormalizedString slice(std::size_t start, std::size_t end) const;
  std::vector<NormalizedString> split(const std::vector<Piece>& pieces, SplitBehavior how) const;

 private:
  std::string text_;
  std::vector<Span> align_;
  std::uint32_t orig_start_ = 0;
};

// Pieces for every character satisfying pred (each such character is its own match).
template <class Pred>
std::vector<Piece> find_char_matches(std::string_view s, Pred pred);
// Pieces for non-overlapping occurrences of a literal.
std::vector<Piece> find_literal_matches(std::string_view s, std::string_view literal);

}  // namespace rank_rerank::tok

#include "tokenizer/normalized_string_inl.hpp"
