#include "tokenizer/normalized_string.hpp"

#include <algorithm>

namespace rank_rerank::tok {

void NormalizedString::materialize() {
  if (aligned_) return;
  align_.resize(text_.size());
  std::size_t i = 0;
  while (i < text_.size()) {
    const std::size_t len = utf8_length_from_lead(static_cast<unsigned char>(text_[i]));
    const Span span{static_cast<std::uint32_t>(orig_start_ + i),
                    static_cast<std::uint32_t>(orig_start_ + i + len)};
    for (std::size_t k = 0; k < len && i + k < text_.size(); ++k) align_[i + k] = span;
    i += len;
  }
  aligned_ = true;
}

void NormalizedString::overwrite(std::size_t i, char32_t c) {
  // Every byte of a character carries the same span, so the alignment stays valid.
  char buf[4];
  const std::size_t n = encode_utf8(c, buf);
  for (std::size_t k = 0; k < n; ++k) text_[i + k] = buf[k];
}

void NormalizedString::transform_range(std::size_t start, std::size_t end,
                                       const std::vector<Change>& dest,
                                       std::size_t initial_removed_chars) {
  if (initial_removed_chars == 0 && same_layout(start, end, dest)) {
    std::size_t pos = start;
    for (const Change& ch : dest) {
      overwrite(pos, ch.c);
      pos += utf8_length(ch.c);
    }
    return;
  }
  materialize();
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

bool NormalizedString::same_layout(std::size_t start, std::size_t end,
                                   const std::vector<Change>& dest) const {
  std::size_t pos = start;
  for (const Change& ch : dest) {
    if (ch.delta != 0 || pos >= end) return false;
    const std::size_t len = utf8_length_from_lead(static_cast<unsigned char>(text_[pos]));
    if (utf8_length(ch.c) != len) return false;
    pos += len;
  }
  return pos == end;
}

void NormalizedString::lowercase() {
  std::size_t i = 0;
  while (i < text_.size()) {
    const auto b = static_cast<unsigned char>(text_[i]);
    if (b < 0x80) {
      if (b >= 'A' && b <= 'Z') text_[i] = static_cast<char>(b + 32);
      ++i;
      continue;
    }
    const std::size_t at = i;
    const char32_t c = next_code_point(text_, i);
    char32_t lower[2];
    const int n = to_lowercase(c, lower);
    if (n == 1 && lower[0] == c) continue;
    if (n == 1 && utf8_length(lower[0]) == i - at) {
      overwrite(at, lower[0]);
      continue;
    }
    // The layout changes from here on (U+0130 becomes two characters, or a lowercase form has
    // another UTF-8 length).
    std::vector<Change> changes;
    changes.reserve(text_.size() - at + 1);
    for (int k = 0; k < n; ++k) changes.push_back({lower[k], k > 0 ? 1 : 0});
    while (i < text_.size()) {
      const int m = to_lowercase(next_code_point(text_, i), lower);
      for (int k = 0; k < m; ++k) changes.push_back({lower[k], k > 0 ? 1 : 0});
    }
    transform_range(at, text_.size(), changes, 0);
    return;
  }
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
  materialize();
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
  out.text_.assign(text_, start, end - start);
  if (aligned_) {
    out.align_.assign(align_.begin() + static_cast<std::ptrdiff_t>(start),
                      align_.begin() + static_cast<std::ptrdiff_t>(end));
    out.aligned_ = true;
    out.orig_start_ = start < end ? align_[start].first : orig_start_;
  } else {
    out.orig_start_ = static_cast<std::uint32_t>(orig_start_ + start);
  }
  return out;
}

void NormalizedString::map_bytes(const std::array<std::string, 256>& table,
                                 std::vector<std::uint32_t>& new_position) {
  materialize();
  std::size_t size = 0;
  for (char b : text_) size += table[static_cast<unsigned char>(b)].size();
  std::string out(size, '\0');
  std::vector<Span> out_align(size);
  new_position.resize(text_.size() + 1);
  std::size_t at = 0;
  for (std::size_t i = 0; i < text_.size(); ++i) {
    new_position[i] = static_cast<std::uint32_t>(at);
    const std::string& c = table[static_cast<unsigned char>(text_[i])];
    for (std::size_t k = 0; k < c.size(); ++k, ++at) {
      out[at] = c[k];
      out_align[at] = align_[i];
    }
  }
  new_position[text_.size()] = static_cast<std::uint32_t>(at);
  text_ = std::move(out);
  align_ = std::move(out_align);
}

void apply_split_behavior(const std::vector<Piece>& pieces, SplitBehavior how,
                          std::vector<Piece>& parts) {
  parts.clear();
  switch (how) {
    case SplitBehavior::isolated:
      for (const Piece& p : pieces) parts.push_back({p.start, p.end, false});
      break;
    case SplitBehavior::removed:
      for (const Piece& p : pieces)
        if (!p.is_match) parts.push_back(p);
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
  std::size_t kept = 0;
  for (const Piece& p : parts)
    if (p.start < p.end) parts[kept++] = p;
  parts.resize(kept);
}

void find_literal_matches(std::string_view s, std::string_view literal,
                          std::vector<Piece>& pieces) {
  pieces.clear();
  if (literal.empty()) {
    if (!s.empty()) pieces.push_back({0, s.size(), false});
    return;
  }
  std::size_t last = 0;
  for (std::size_t pos = s.find(literal); pos != std::string_view::npos;
       pos = s.find(literal, pos + literal.size())) {
    if (last < pos) pieces.push_back({last, pos, false});
    pieces.push_back({pos, pos + literal.size(), true});
    last = pos + literal.size();
  }
  if (last < s.size()) pieces.push_back({last, s.size(), false});
}

}  // namespace rank_rerank::tok
