// Added tokens: found in the raw text (normalized=false) or in normalized pieces (normalized=true)
// by leftmost-longest matching, before pre-tokenization, as `tokenizers` does.
#pragma once

#include <map>

#include "tokenizer/components.hpp"

namespace rank_rerank::tok {

struct AddedToken {
  std::int32_t id;
  std::string content;
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
};

class AddedVocabulary {
 public:
  void build(std::vector<AddedToken> tokens, const Normalizer* normalizer);
  // Splits the text, normalizing the parts that are not added tokens.
  std::vector<Split> extract_and_normalize(const Normalizer* normalizer,
                                           std::string_view text) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  const AddedToken* find(std::string_view content) const;
  const AddedToken* find(std::int32_t id) const;

 private:
  struct Trie {
    struct Node {
      std::map<unsigned char, int> next;
      int token = -1;  // index into tokens_
    };
    std::vector<Node> nodes{Node{}};
    void insert(std::string_view key, int token);
    // Longest key starting at s[pos]; returns its byte length (0 if none) and token index.
    std::size_t longest(std::string_view s, std::size_t pos, int& token) const;
    bool empty() const { return nodes.size() == 1; }
  };
  std::vector<Split> split_with(const NormalizedString& s, const Trie& trie) const;

  std::vector<AddedToken> tokens_;
  Trie raw_, normalized_;
};

}  // namespace rank_rerank::tok
