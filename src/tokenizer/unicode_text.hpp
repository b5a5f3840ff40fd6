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
void append_utf8(std::string& out, char32_t c);
std::size_t count_code_points(std::string_view s);

// Rust char::is_whitespace: the Unicode White_Space property.
bool is_white_space(char32_t c);
// General category groups.
bool is_other(char32_t c);                  // C*
bool is_nonspacing_mark(char32_t c);        // Mn
bool is_punctuation(char32_t c);            // P*
bool is_letter(char32_t c);                 // L*
bool is_number(char32_t c);                 // N*
bool is_mark(char32_t c);                   // M*
bool is_decimal_digit(char32_t c);          // Nd
bool is_connector_punctuation(char32_t c);  // Pc
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
