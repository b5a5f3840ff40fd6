// GPT-2 byte-level helpers: the byte <-> character table and the GPT-2 split pattern.
#include <array>

#include "tokenizer/components.hpp"
#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {
namespace {

// Printable Latin-1 bytes stand for themselves; the others are moved to 256 and up, in order.
std::array<char32_t, 256> make_table() {
  std::array<char32_t, 256> t{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable =
        (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    t[static_cast<std::size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
  }
  return t;
}

const std::array<char32_t, 256>& table() {
  static const std::array<char32_t, 256> t = make_table();
  return t;
}

}  // namespace

char32_t byte_to_char(unsigned char b) { return table()[b]; }

int char_to_byte(char32_t c) {
  static const std::array<int, 324> inverse = [] {
    std::array<int, 324> inv{};
    inv.fill(-1);
    for (int b = 0; b < 256; ++b) inv[table()[static_cast<std::size_t>(b)]] = b;
    return inv;
  }();
  return c < inverse.size() ? inverse[c] : -1;
}

void gpt2_pieces(std::string_view s, std::vector<Piece>& pieces) {
  pieces.clear();
  const std::size_t n = s.size();
  auto char_at = [&](std::size_t i, std::size_t& next) {
    next = i;
    return next_code_point(s, next);
  };
  enum Kind { letter, number, space, other };
  auto kind_of = [](char32_t c) {
    if (c < 0x80) {
      if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return letter;
      if (c >= '0' && c <= '9') return number;
      if (c == ' ' || (c >= 9 && c <= 13)) return space;
      return other;
    }
    if (is_letter(c)) return letter;
    if (is_number(c)) return number;
    if (is_white_space(c)) return space;
    return other;
  };
  std::size_t i = 0;
  while (i < n) {
    const std::size_t start = i;
    // Contractions.
    if (s[i] == '\'' && i + 1 < n) {
      const char a = s[i + 1];
      if (a == 's' || a == 't' || a == 'm' || a == 'd') {
        pieces.push_back({start, i + 2, true});
        i += 2;
        continue;
      }
      if (i + 2 < n) {
        const char b = s[i + 2];
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
          pieces.push_back({start, i + 3, true});
          i += 3;
          continue;
        }
      }
    }
    // ` ?` followed by a run of letters, numbers or other symbols.
    std::size_t k = s[i] == ' ' ? i + 1 : i;
    if (k < n) {
      std::size_t next;
      const Kind first = kind_of(char_at(k, next));
      if (first != space) {
        std::size_t end = next;
        while (end < n) {
          std::size_t after;
          if (kind_of(char_at(end, after)) != first) break;
          end = after;
        }
        pieces.push_back({start, end, true});
        i = end;
        continue;
      }
    }
    // Whitespace: \s+(?!\S) then \s+.
    std::size_t end = i, last_start = i;
    while (end < n) {
      std::size_t after;
      if (kind_of(char_at(end, after)) != space) break;
      last_start = end;
      end = after;
    }
    if (end == i) {
      // Not reachable for valid text: every character has a kind. Keep progress safe.
      std::size_t after;
      char_at(i, after);
      pieces.push_back({start, after, true});
      i = after;
      continue;
    }
    if (end < n && last_start > i) end = last_start;  // leave the last space to the next word
    pieces.push_back({start, end, true});
    i = end;
  }
}

}  // namespace rank_rerank::tok
