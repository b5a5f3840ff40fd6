#include "tokenizer/unicode_text.hpp"

#include <unicode/uchar.h>
#include <utf8proc.h>

#include <cstring>

namespace rank_rerank::tok {

namespace {

// Length of the well-formed sequence at in[i], or 0 with `bad` = length of the maximal ill-formed
// subpart (Unicode 3.9 "substitution of maximal subparts", which Python follows).
std::size_t well_formed_length(std::string_view in, std::size_t i, std::size_t& bad) {
  const auto b0 = static_cast<unsigned char>(in[i]);
  const std::size_t n = in.size();
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(in[k]); };
  bad = 1;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (i + 1 < n && (byte(i + 1) & 0xC0) == 0x80) return 2;
    return 0;
  }
  unsigned char lo = 0x80, hi = 0xBF;
  std::size_t len = 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + 1 >= n || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (i + k >= n || (byte(i + k) & 0xC0) != 0x80) {
      bad = k;
      return 0;
    }
  }
  return len;
}

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

// `tokenizers` classifies punctuation, "other" characters and nonspacing marks with the Rust
// crate unicode_categories 0.1.1, whose tables are Unicode 8.0: a character assigned later is
// unassigned there and none of the three. ICU knows when each code point was assigned.
bool assigned_after_unicode_8(char32_t c) {
  UVersionInfo age;
  u_charAge(static_cast<UChar32>(c), age);
  return age[0] > 8 || (age[0] == 8 && age[1] > 0);
}

// Six characters were assigned by Unicode 8.0 but have changed general category since (an
// exhaustive comparison of every code point with `tokenizers`, docs/tokenizer.md): U+166D and
// U+111C9 were punctuation (now So and Mn), U+1734 was Mn (now Mc), U+1885, U+1886 and U+A9BD
// were not Mn (now they are).
bool punctuation_in_unicode_8_only(char32_t c) { return c == 0x166D || c == 0x111C9; }
bool nonspacing_mark_in_unicode_8_only(char32_t c) { return c == 0x1734; }
bool nonspacing_mark_since_unicode_8(char32_t c) {
  return c == 0x1885 || c == 0x1886 || c == 0xA9BD || c == 0x111C9;
}

}  // namespace

bool sanitize_utf8(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  bool valid = true;
  std::size_t i = 0;
  while (i < in.size()) {
    // ASCII runs are the common case.
    std::size_t j = i;
    while (j < in.size() && static_cast<unsigned char>(in[j]) < 0x80) ++j;
    out.append(in.data() + i, j - i);
    i = j;
    if (i >= in.size()) break;
    std::size_t bad = 0;
    const std::size_t len = well_formed_length(in, i, bad);
    if (len > 0) {
      out.append(in.data() + i, len);
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      i += bad;
      valid = false;
    }
  }
  return valid;
}

bool is_ascii(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ull) return false;
  }
  for (; i < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) >= 0x80) return false;
  return true;
}

std::size_t count_code_points(std::string_view s) {
  std::size_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

namespace detail {

bool is_white_space(char32_t c) {
  if (c == 0x85 || c == 0x2028 || c == 0x2029) return true;
  return category(c) == UTF8PROC_CATEGORY_ZS;
}

bool is_other(char32_t c) {
  const auto k = category(c);
  // Unassigned code points (Cn) are not "other" for `tokenizers` (its category tables list only
  // assigned characters), so they are kept.
  return (k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CS ||
          k == UTF8PROC_CATEGORY_CO) &&
         !assigned_after_unicode_8(c);
}

bool is_nonspacing_mark(char32_t c) {
  if (c < 0x300) return false;  // the first nonspacing mark
  if (nonspacing_mark_in_unicode_8_only(c)) return true;
  return category(c) == UTF8PROC_CATEGORY_MN && !assigned_after_unicode_8(c) &&
         !nonspacing_mark_since_unicode_8(c);
}

bool is_punctuation(char32_t c) {
  const auto k = category(c);
  if (k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO)
    return c < 0x80 || !assigned_after_unicode_8(c);
  return punctuation_in_unicode_8_only(c);
}

bool is_letter(char32_t c) {
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

bool is_number(char32_t c) {
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO;
}

bool is_mark(char32_t c) {
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME;
}

bool is_decimal_digit(char32_t c) { return category(c) == UTF8PROC_CATEGORY_ND; }

bool is_connector_punctuation(char32_t c) { return category(c) == UTF8PROC_CATEGORY_PC; }

}  // namespace detail

bool is_alphanumeric(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  // Alphabetic = letters + Nl + Other_Alphabetic marks; utf8proc has no Other_Alphabetic, so marks
  // count as alphabetic only through the letter/number categories.
  return is_letter(c) || is_number(c);
}

int to_lowercase(char32_t c, char32_t out[2]) {
  if (c < 0x80) {
    out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return 1;
  }
  if (c == 0x130) {
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
  return 1;
}

}  // namespace rank_rerank::tok
