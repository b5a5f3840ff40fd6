// Regex patterns of tokenizer.json (Split, Replace) compiled with PCRE2 in UTF + UCP mode, so
// \s, \w and \p{..} follow Unicode properties as Oniguruma does in `tokenizers`.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/json_fields.hpp"
#include "tokenizer/normalized_string.hpp"

namespace rank_rerank::tok {

class Regex {
 public:
  // Throws an Error naming the component in `f` when PCRE2 rejects the pattern.
  Regex(const std::string& pattern, const Fields& f);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  // Segments s into matches and the text between them; empty matches split nothing.
  void pieces(std::string_view s, std::vector<Piece>& out) const;

 private:
  void* code_;
};

}  // namespace rank_rerank::tok
