// WordPiece: greedy longest-match-first over a vocabulary, continuation pieces prefixed "##".
#include <cstdint>

#include "tokenizer/loaders.hpp"
#include "tokenizer/unicode_text.hpp"
#include "tokenizer/vocab.hpp"

namespace rank_rerank::tok {
namespace {

class WordPiece final : public Model {
 public:
  WordPiece(Vocab vocab, std::string unk, std::string prefix, std::size_t max_chars)
      : vocab_(std::move(vocab)),
        unk_(std::move(unk)),
        prefix_(std::move(prefix)),
        max_chars_(max_chars) {
    // Continuation pieces are looked up without their prefix, in a table of their own, so that a
    // lookup needs no string building.
    continuations_.reserve(vocab_.size() / 4 + 16);
    vocab_.for_each([&](std::string_view token, std::int32_t id) {
      if (token.size() > prefix_.size() && token.compare(0, prefix_.size(), prefix_) == 0)
        continuations_.add(token.substr(prefix_.size()), id);
    });
    // tokenizers resolves the unknown token on use; an absent one is an error then.
    unk_id_ = vocab_.find(unk_);
  }

  void tokenize(std::string_view word, std::vector<Token>& out) const override {
    const std::size_t first = out.size();
    if (word.size() > max_chars_ && count_code_points(word) > max_chars_) {
      push_unk(word, out);
      return;
    }
    std::size_t start = 0;
    while (start < word.size()) {
      const Vocab& table = start == 0 ? vocab_ : continuations_;
      // No piece is longer than the longest entry: start the search there.
      std::size_t end = std::min(word.size(), start + table.max_length());
      while (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) --end;
      std::optional<std::int32_t> found;
      while (start < end) {
        found = table.find(word.substr(start, end - start));
        if (found) break;
        do {
          --end;
        } while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
      }
      if (!found) {
        out.resize(first);
        push_unk(word, out);
        return;
      }
      out.push_back(
          Token{*found, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(end)});
      start = end;
    }
  }
  std::string_view token_text(const Token& t, std::string_view) const override {
    return vocab_.has_id(t.id) ? vocab_.view(t.id) : std::string_view(unk_);
  }
  std::optional<std::int32_t> token_to_id(std::string_view t) const override {
    return vocab_.find(t);
  }
  std::optional<std::string> id_to_token(std::int32_t id) const override {
    return vocab_.token(id);
  }
  std::size_t vocab_size() const override { return vocab_.size(); }

 private:
  void push_unk(std::string_view word, std::vector<Token>& out) const {
    if (!unk_id_) throw_invalid("WordPiece: unk_token '" + unk_ + "' is not in the vocabulary");
    out.push_back(Token{*unk_id_, 0, static_cast<std::uint32_t>(word.size())});
  }

  Vocab vocab_, continuations_;
  std::string unk_, prefix_;
  std::size_t max_chars_;
  std::optional<std::int32_t> unk_id_;
};

}  // namespace

std::unique_ptr<Model> load_wordpiece(const Fields& f) {
  Vocab vocab;
  const auto obj = f.object("vocab");
  vocab.reserve(obj.size());
  for (auto [key, value] : obj) {
    std::int64_t id;
    if (value.get(id) || id < 0 || id > INT32_MAX)
      f.fail("vocab", "must map tokens to integer ids in [0, 2^31)");
    vocab.add(key, static_cast<std::int32_t>(id));
  }
  return std::make_unique<WordPiece>(
      std::move(vocab), f.str_or("unk_token", "[UNK]"), f.str_or("continuing_subword_prefix", "##"),
      static_cast<std::size_t>(f.integer_in_or("max_input_chars_per_word", 0, INT64_MAX, 100)));
}

std::unique_ptr<Model> make_wordpiece(Vocab vocab) {
  return std::make_unique<WordPiece>(std::move(vocab), "[UNK]", "##", 100);
}

}  // namespace rank_rerank::tok
