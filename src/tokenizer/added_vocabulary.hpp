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
  // Splits the text (valid UTF-8) into added tokens and normalized parts: buffer 0 holds the
  // text as given, the normalized parts get buffers of their own.
  void extract_and_normalize(const Normalizer* normalizer, std::string text,
                             PreTokenized& out) const;
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
    bool first_byte[256] = {};  // bytes some key starts with
    void insert(std::string_view key, int token);
    // Longest key starting at s[pos]; returns its byte length (0 if none) and token index.
    std::size_t longest(std::string_view s, std::size_t pos, int& token) const;
    bool empty() const { return nodes.size() == 1; }
  };
  struct Match {
    std::size_t start, stop;
    int token;
  };
  // Non-overlapping leftmost-longest matches of the trie's keys in s, after the single_word,
  // lstrip and rstrip rules.
  void find_matches(std::string_view s, const Trie& trie, std::vector<Match>& out) const;
  // Appends the splits of buffer b: its normalized added tokens and the text between them.
  void split_normalized(PreTokenized& out, std::uint32_t b) const;

  std::vector<AddedToken> tokens_;
  Trie raw_, normalized_;
};

}  // namespace rank_rerank::tok
