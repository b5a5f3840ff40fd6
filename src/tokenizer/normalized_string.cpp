#include "tokenizer/normalized_string.hpp"

#include <algorithm>

namespace rank_rerank::tok {

NormalizedString::NormalizedString(std::string_view text, std::uint32_t shift)
    : text_(text), orig_start_(shift) {
  align_.resize(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t len = utf8_length_from_lead(static_cast<unsigned char>(text[i]));
    const Span span{static_cast<std::uint32_t>(shift + i),
                    static_cast<std::uint32_t>(shift + i + len)};
    for (std::size_t k = 0; k < len && i + k < text.size(); ++k) align_[i + k] = span;
    i += len;
  }
}

Span NormalizedString::original_span(std::size_t start, std::size_t end) const {
  if (start >= end || end > align_.size()) {
    return {static_cast<std::uint32_t>(orig_start_ + start),
            static_cast<std::uint32_t>(orig_start_ + start)};
  }
  return {align_[start].first, align_[end - 1].second};
}

void NormalizedString::transform_range(std::size_t start, std::size_t end,
                                       const std::vector<Change>& dest,
                                       std::size_t initial_removed_chars) {
  auto char_len_at = [&](std::size_t pos) -> std::size_t {
    return pos < end ? utf8_length_from_lead(static_cast<unsigned char>(text_[pos])) : 0;
  };
  std::size_t pos = start;
  for (std::size_t k = 0; k < initial_removed_chars; ++k) pos += char_len_at(pos);

  std::string out;
  std::vector<Span> out_align;
  out.reserve(dest.size() + 8);
  out_align.reserve(dest.size() + 8);
  const Span at_start{orig_start_, orig_start_};
  for (const Change& ch : dest) {
    Span span;
    if (ch.delta > 0) {
      span = pos < 1 ? at_start : align_[std::min(pos, align_.size()) - 1];
    } else {
      span = pos < align_.size() ? align_[pos] : (align_.empty() ? at_start : align_.back());
      pos += char_len_at(pos);
      for (int k = 0; k < -ch.delta; ++k) pos += char_len_at(pos);
    }
    const std::size_t before = out.size();
    append_utf8(out, ch.c);
    out_align.insert(out_align.end(), out.size() - before, span);
  }
  text_.replace(start, end - start, out);
  align_.erase(align_.begin() + static_cast<std::ptrdiff_t>(start),
               align_.begin() + static_cast<std::ptrdiff_t>(end));
  align_.insert(align_.begin() + static_cast<std::ptrdiff_t>(start), out_align.begin(),
                out_align.end());
}

void NormalizedString::lowercase() {
  bool changed = false;
  std::vector<Change> changes;
  changes.reserve(text_.size());
  std::size_t i = 0;
  while (i < text_.size()) {
    const char32_t c = next_code_point(text_, i);
    char32_t lower[2];
    const int n = to_lowercase(c, lower);
    changed |= (n != 1 || lower[0] != c);
    for (int k = 0; k < n; ++k) changes.push_back({lower[k], k > 0 ? 1 : 0});
  }
  if (changed) transform(changes, 0);
}

void NormalizedString::prepend(std::string_view s) {
  if (text_.empty() || s.empty()) return;
  std::size_t i = 0;
  const char32_t first = next_code_point(text_, i);
  std::vector<Change> changes;
  std::size_t k = 0;
  bool is_first = true;
  while (k < s.size()) {
    changes.push_back({next_code_point(s, k), is_first ? 0 : 1});
    is_first = false;
  }
  changes.push_back({first, 1});
  transform_range(0, i, changes, 0);
}

void NormalizedString::append(std::string_view s) {
  if (s.empty()) return;
  std::vector<Change> changes;
  std::size_t start = text_.size();
  if (!text_.empty()) {
    start = text_.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(text_[start]) & 0xC0) == 0x80) --start;
    std::size_t i = start;
    changes.push_back({next_code_point(text_, i), 0});
  }
  std::size_t k = 0;
  while (k < s.size()) changes.push_back({next_code_point(s, k), 1});
  transform_range(start, text_.size(), changes, 0);
}

void NormalizedString::replace(const std::vector<Piece>& pieces, std::string_view content) {
  bool any = false;
  for (const Piece& p : pieces) any |= p.is_match;
  if (!any) return;
  std::string out;
  std::vector<Span> out_align;
  out.reserve(text_.size());
  out_align.reserve(text_.size());
  std::size_t last_end = 0;
  for (const Piece& p : pieces) {
    if (!p.is_match) continue;
    out.append(text_, last_end, p.start - last_end);
    out_align.insert(out_align.end(), align_.begin() + static_cast<std::ptrdiff_t>(last_end),
                     align_.begin() + static_cast<std::ptrdiff_t>(p.start));
    // Every replacement character is an insertion after the whole removed match, so it takes the
    // span of the match's last byte.
    const Span span = p.end < 1 ? Span{orig_start_, orig_start_} : align_[p.end - 1];
    out.append(content);
    out_align.insert(out_align.end(), content.size(), span);
    last_end = p.end;
  }
  out.append(text_, last_end, std::string::npos);
  out_align.insert(out_align.end(), align_.begin() + static_cast<std::ptrdiff_t>(last_end),
                   align_.end());
  text_ = std::move(out);
  align_ = std::move(out_align);
}

void NormalizedString::strip(bool left, bool right) {
  std::vector<char32_t> chars;
  std::size_t i = 0;
  while (i < text_.size()) chars.push_back(next_code_point(text_, i));
  std::size_t lead = 0, trail = 0;
  if (left)
    while (lead < chars.size() && is_white_space(chars[lead])) ++lead;
  if (right)
    while (trail < chars.size() - lead && is_white_space(chars[chars.size() - 1 - trail])) ++trail;
  if (lead == 0 && trail == 0) return;
  std::vector<Change> changes;
  for (std::size_t k = lead; k + trail < chars.size(); ++k) changes.push_back({chars[k], 0});
  transform(changes, lead);
}

NormalizedString NormalizedString::slice(std::size_t start, std::size_t end) const {
  NormalizedString out;
  out.text_ = text_.substr(start, end - start);
  out.align_.assign(align_.begin() + static_cast<std::ptrdiff_t>(start),
                    align_.begin() + static_cast<std::ptrdiff_t>(end));
  out.orig_start_ = start < end ? align_[start].first : orig_start_;
  return out;
}

std::vector<NormalizedString> NormalizedString::split(const std::vector<Piece>& pieces,
                                                      SplitBehavior how) const {
  std::vector<Piece> parts;
  parts.reserve(pieces.size());
  switch (how) {
    case SplitBehavior::isolated:
      for (const Piece& p : pieces) parts.push_back({p.start, p.end, false});
      break;
    case SplitBehavior::removed:
      parts = pieces;
      break;
    case SplitBehavior::contiguous: {
      bool previous = false;
      for (const Piece& p : pieces) {
        if (p.is_match == previous && !parts.empty()) {
          parts.back().end = p.end;
        } else {
          parts.push_back({p.start, p.end, false});
        }
        previous = p.is_match;
      }
      break;
    }
    case SplitBehavior::merged_with_previous: {
      bool previous = false;
      for (const Piece& p : pieces) {
        if (p.is_match && !previous && !parts.empty()) {
          parts.back().end = p.end;
        } else {
          parts.push_back({p.start, p.end, false});
        }
        previous = p.is_match;
      }
      break;
    }
    case SplitBehavior::merged_with_next: {
      bool previous = false;
      for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
        if (it->is_match && !previous && !parts.empty()) {
          parts.back().start = it->start;
        } else {
          parts.push_back({it->start, it->end, false});
        }
        previous = it->is_match;
      }
      std::reverse(parts.begin(), parts.end());
      break;
    }
  }
  std::vector<NormalizedString> out;
  out.reserve(parts.size());
  for (const Piece& p : parts) {
    if (!p.is_match && p.start < p.end) out.push_back(slice(p.start, p.end));
  }
  return out;
}

std::vector<Piece> find_literal_matches(std::string_view s, std::string_view literal) {
  std::vector<Piece> pieces;
  if (literal.empty()) {
    if (!s.empty()) pieces.push_back({0, s.size(), false});
    return pieces;
  }
  std::size_t last = 0;
  for (std::size_t pos = s.find(literal); pos != std::string_view::npos;
       pos = s.find(literal, pos + literal.size())) {
    if (last < pos) pieces.push_back({last, pos, false});
    pieces.push_back({pos, pos + literal.size(), true});
    last = pos + literal.size();
  }
  if (last < s.size()) pieces.push_back({last, s.size(), false});
  return pieces;
}

}  // namespace rank_rerank::tok
