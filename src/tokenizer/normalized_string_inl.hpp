// Template members of NormalizedString (included by normalized_string.hpp).
#pragma once

#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {

template <class Keep>
void NormalizedString::filter(Keep keep) {
  // Nothing is removed in the common case: check before building any change list.
  std::size_t i = 0;
  std::size_t first_removed = text_.size();
  while (i < text_.size()) {
    const std::size_t at = i;
    if (!keep(next_code_point(text_, i))) {
      first_removed = at;
      break;
    }
  }
  if (first_removed == text_.size()) return;
  std::vector<Change> changes;
  changes.reserve(text_.size());
  int removed = 0;
  std::size_t removed_start = 0;
  bool have_last = false;
  char32_t last = 0;
  i = 0;
  while (i < text_.size()) {
    const char32_t c = next_code_point(text_, i);
    if (keep(c)) {
      if (have_last) {
        changes.push_back({last, -removed});
      } else {
        removed_start = static_cast<std::size_t>(removed);
      }
      last = c;
      have_last = true;
      removed = 0;
    } else {
      ++removed;
    }
  }
  if (have_last) changes.push_back({last, -removed});
  transform(changes, have_last ? removed_start : static_cast<std::size_t>(removed));
}

template <class Map>
void NormalizedString::map(Map fn) {
  std::size_t i = 0;
  while (i < text_.size()) {
    const std::size_t at = i;
    const char32_t c = next_code_point(text_, i);
    const char32_t m = fn(c);
    if (m == c) continue;
    if (utf8_length(m) == i - at) {
      overwrite(at, m);
      continue;
    }
    // A character changes its UTF-8 length: rebuild from here on.
    std::vector<Change> changes;
    changes.reserve(text_.size() - at);
    changes.push_back({m, 0});
    while (i < text_.size()) changes.push_back({fn(next_code_point(text_, i)), 0});
    transform_range(at, text_.size(), changes, 0);
    return;
  }
}

template <class Pred>
void find_char_matches(std::string_view s, Pred pred, std::vector<Piece>& pieces) {
  pieces.clear();
  std::size_t last = 0, i = 0;
  while (i < s.size()) {
    const std::size_t start = i;
    const char32_t c = next_code_point(s, i);
    if (pred(c)) {
      if (last < start) pieces.push_back({last, start, false});
      pieces.push_back({start, i, true});
      last = i;
    }
  }
  if (last < s.size()) pieces.push_back({last, s.size(), false});
}

}  // namespace rank_rerank::tok
