// Template members of NormalizedString (included by normalized_string.hpp).
#pragma once

#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {

template <class Keep>
void NormalizedString::filter(Keep keep) {
  std::vector<Change> changes;
  bool any_removed = false;
  std::size_t i = 0;
  int removed = 0;
  std::size_t removed_start = 0;
  bool have_last = false;
  char32_t last = 0;
  changes.reserve(text_.size());
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
      any_removed = true;
    }
  }
  if (!any_removed) return;
  if (have_last) changes.push_back({last, -removed});
  transform(changes, removed_start);
}

template <class Map>
void NormalizedString::map(Map fn) {
  std::vector<Change> changes;
  bool changed = false;
  std::size_t i = 0;
  changes.reserve(text_.size());
  while (i < text_.size()) {
    const char32_t c = next_code_point(text_, i);
    const char32_t m = fn(c);
    changed |= (m != c);
    changes.push_back({m, 0});
  }
  if (changed) transform(changes, 0);
}

template <class Pred>
std::vector<Piece> find_char_matches(std::string_view s, Pred pred) {
  std::vector<Piece> pieces;
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
  return pieces;
}

}  // namespace rank_rerank::tok
