// UTF-8 handling and Unicode character classes (from utf8proc) with the exact meaning the Hugging
// Face `tokenizers` components give them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rank_rerank::tok {

// Replaces each maximal ill-formed subpart with U+FFFD, like Python's decode(errors="replace").
// Returns true when the input was already valid (out is then a plain copy).
bool sanitize_utf8(std::string_view in, std::string& out);

// Decodes the code point starting at s[i] of a valid UTF-8 string; advances i.
inline char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  if (b0 < 0xE0) {
    char32_t c = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
    i += 2;
    return c;
  }
  if (b0 < 0xF0) {
    char32_t c = ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                 (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
    i += 3;
    return c;
  }
  char32_t c = ((b0 & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
               ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) |
               (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
  i += 4;
  return c;
}

inline std::size_t utf8_length(char32_t c) {
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}
inline std::size_t utf8_length_from_lead(unsigned char b) {
  return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}
// Writes the UTF-8 form of c into out (at least 4 bytes) and returns its length.
inline std::size_t encode_utf8(char32_t c, char* out) {
  if (c < 0x80) {
    out[0] = static_cast<char>(c);
    return 1;
  }
  if (c < 0x800) {
    out[0] = static_cast<char>(0xC0 | (c >> 6));
    out[1] = static_cast<char>(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (c >> 12));
    out[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (c >> 18));
  out[1] = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (c & 0x3F));
  return 4;
}
inline void append_utf8(std::string& out, char32_t c) {
  char buf[4];
  out.append(buf, encode_utf8(c, buf));
}
// Whether all bytes are below 0x80.
bool is_ascii(std::string_view s);
std::size_t count_code_points(std::string_view s);

// Unicode data lookups (utf8proc) behind the inline ASCII fast paths below.
namespace detail {
bool is_white_space(char32_t c);
bool is_other(char32_t c);
bool is_nonspacing_mark(char32_t c);
bool is_punctuation(char32_t c);
bool is_letter(char32_t c);
bool is_number(char32_t c);
bool is_mark(char32_t c);
bool is_decimal_digit(char32_t c);
bool is_connector_punctuation(char32_t c);
}  // namespace detail

inline bool is_ascii_letter(char32_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
inline bool is_ascii_digit(char32_t c) { return c >= '0' && c <= '9'; }

// Rust char::is_whitespace: the Unicode White_Space property.
inline bool is_white_space(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return detail::is_white_space(c);
}
// General category groups.
inline bool is_other(char32_t c) {  // C* (assigned)
  if (c < 0x80) return c < 0x20 || c == 0x7F;
  return detail::is_other(c);
}
inline bool is_nonspacing_mark(char32_t c) {  // Mn
  return c >= 0x300 && detail::is_nonspacing_mark(c);
}
inline bool is_punctuation(char32_t c) {  // P*
  if (c < 0x80) {
    return (c >= '!' && c <= '/' && c != '$' && c != '+') || c == ':' || c == ';' || c == '?' ||
           c == '@' || (c >= '[' && c <= ']') || c == '_' || c == '{' || c == '}';
  }
  return detail::is_punctuation(c);
}
inline bool is_letter(char32_t c) {  // L*
  if (c < 0x80) return is_ascii_letter(c);
  return detail::is_letter(c);
}
inline bool is_number(char32_t c) {  // N*
  if (c < 0x80) return is_ascii_digit(c);
  return detail::is_number(c);
}
inline bool is_mark(char32_t c) {  // M*
  return c >= 0x300 && detail::is_mark(c);
}
inline bool is_decimal_digit(char32_t c) {  // Nd
  if (c < 0x80) return is_ascii_digit(c);
  return detail::is_decimal_digit(c);
}
inline bool is_connector_punctuation(char32_t c) {  // Pc
  if (c < 0x80) return c == '_';
  return detail::is_connector_punctuation(c);
}
// Oniguruma's Unicode \w: letters, marks, decimal digits, connector punctuation.
inline bool is_regex_word(char32_t c) {
  return is_letter(c) || is_mark(c) || is_decimal_digit(c) || is_connector_punctuation(c);
}
// Rust char::is_alphanumeric: Alphabetic or Numeric.
bool is_alphanumeric(char32_t c);

// Rust char::to_lowercase (full mapping; only U+0130 lowercases to two code points).
// Writes up to 2 code points into out and returns how many.
int to_lowercase(char32_t c, char32_t out[2]);

}  // namespace rank_rerank::tok
