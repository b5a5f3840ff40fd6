#include "tokenizer/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {

Regex::Regex(const std::string& pattern, const Fields& f) {
  int err = 0;
  PCRE2_SIZE err_at = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &err_at, nullptr);
  if (!code) f.fail("pattern", "is a regex PCRE2 cannot compile: " + pattern);
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  code_ = code;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

void Regex::pieces(std::string_view s, std::vector<Piece>& out) const {
  auto* code = static_cast<pcre2_code*>(code_);
  out.clear();
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  std::size_t last = 0, pos = 0;
  while (pos <= s.size()) {
    const int rc =
        pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), pos, 0, md, nullptr);
    if (rc < 0) break;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const std::size_t start = ov[0], end = ov[1];
    if (start == end) {
      if (start >= s.size()) break;
      pos = start + utf8_length_from_lead(static_cast<unsigned char>(s[start]));
      continue;
    }
    if (last < start) out.push_back({last, start, false});
    out.push_back({start, end, true});
    last = pos = end;
  }
  pcre2_match_data_free(md);
  if (last < s.size()) out.push_back({last, s.size(), false});
}

}  // namespace rank_rerank::tok
