// A string under normalization that remembers, for every byte, which span of the original text it
// came from. The alignment rules (inserted characters share the span of the character before them,
// removed characters vanish) are those of `tokenizers`' NormalizedString, so that offsets agree.
//
// Most text is never reshaped (ASCII lowercasing, whitespace mapping and other same-length
// replacements keep every byte where it was), so the per-byte alignment table is only built when a
// transformation changes the layout; until then byte i of the text maps to the character around
// original byte orig_start + i.
#pragma once

#include <array>
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
  // `text` (valid UTF-8) starts at byte `shift` of the whole original input.
  NormalizedString(std::string text, std::uint32_t shift)
      : text_(std::move(text)), orig_start_(shift) {}

  const std::string& get() const noexcept { return text_; }
  bool empty() const noexcept { return text_.empty(); }
  // Original offset of the first byte (of the piece, when empty). `tokenizers` cuts every piece
  // out of the normalized string as a slice, whose original_shift is where its first byte came
  // from; Metaspace's prepend_scheme "first" tests that (so text whose leading spaces a Strip
  // removed is not "first").
  std::uint32_t original_start() const noexcept {
    return aligned_ && !align_.empty() ? align_.front().first : orig_start_;
  }
  // Original span of normalized bytes [start, end), both on character boundaries.
  Span original_span(std::size_t start, std::size_t end) const {
    if (start >= end || end > text_.size()) {
      const auto at = static_cast<std::uint32_t>(orig_start_ + start);
      return {at, at};
    }
    if (!aligned_) {
      return {static_cast<std::uint32_t>(orig_start_ + start),
              static_cast<std::uint32_t>(orig_start_ + end)};
    }
    return {align_[start].first, align_[end - 1].second};
  }

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
  // Replaces every byte b by the UTF-8 character table[b] (ByteLevel's byte-to-character map). Each
  // new character keeps the span of the character its byte belonged to, as a per-character
  // transform would give it. Returns, through new_position, where each old byte offset (and the
  // end) lands.
  void map_bytes(const std::array<std::string, 256>& table,
                 std::vector<std::uint32_t>& new_position);

 private:
  // Builds the per-byte alignment table from the implicit identity layout.
  void materialize();
  // Whether dest replaces the characters of [start, end) one by one with characters of the same
  // UTF-8 lengths (so it can be written in place).
  bool same_layout(std::size_t start, std::size_t end, const std::vector<Change>& dest) const;
  // Overwrites the character at byte i (of the same UTF-8 length as c) in place.
  void overwrite(std::size_t i, char32_t c);

  std::string text_;
  std::vector<Span> align_;  // one span per byte of text_, only when aligned_
  std::uint32_t orig_start_ = 0;
  bool aligned_ = false;
};

// Pieces for every character satisfying pred (each such character is its own match).
template <class Pred>
void find_char_matches(std::string_view s, Pred pred, std::vector<Piece>& pieces);
// Pieces for non-overlapping occurrences of a literal.
void find_literal_matches(std::string_view s, std::string_view literal, std::vector<Piece>& pieces);
// The parts a split behaviour keeps, as (start, end) pieces with is_match false; empty parts are
// dropped.
void apply_split_behavior(const std::vector<Piece>& pieces, SplitBehavior how,
                          std::vector<Piece>& parts);

}  // namespace rank_rerank::tok

#include "tokenizer/normalized_string_inl.hpp"
