// WordPiece: greedy longest-match-first over a vocabulary, continuation pieces prefixed "##".
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
        max_chars_(max_chars) {}

  void tokenize(std::string_view word, std::vector<Token>& out) const override {
    const std::size_t first = out.size();
    if (count_code_points(word) > max_chars_) {
      push_unk(word, out);
      return;
    }
    std::string buffer = prefix_;
    std::size_t start = 0;
    while (start < word.size()) {
      std::size_t end = word.size();
      std::optional<std::int32_t> found;
      while (start < end) {
        const std::string_view piece = word.substr(start, end - start);
        if (start == 0) {
          found = vocab_.find(piece);
        } else {
          buffer.resize(prefix_.size());
          buffer.append(piece);
          found = vocab_.find(buffer);
        }
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
      std::string value = start == 0 ? std::string(word.substr(0, end)) : buffer;
      out.push_back(Token{*found, std::move(value), static_cast<std::uint32_t>(start),
                          static_cast<std::uint32_t>(end)});
      start = end;
    }
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
    const auto id = vocab_.find(unk_);
    if (!id) throw_invalid("WordPiece: unk_token '" + unk_ + "' is not in the vocabulary");
    out.push_back(Token{*id, unk_, 0, static_cast<std::uint32_t>(word.size())});
  }

  Vocab vocab_;
  std::string unk_, prefix_;
  std::size_t max_chars_;
};

}  // namespace

std::unique_ptr<Model> load_wordpiece(const Fields& f) {
  Vocab vocab;
  const auto obj = f.object("vocab");
  vocab.reserve(obj.size());
  for (auto [key, value] : obj) {
    std::int64_t id;
    if (value.get(id)) f.fail("vocab", "must map tokens to integer ids");
    vocab.add(std::string(key), static_cast<std::int32_t>(id));
  }
  return std::make_unique<WordPiece>(
      std::move(vocab), f.str_or("unk_token", "[UNK]"), f.str_or("continuing_subword_prefix", "##"),
      static_cast<std::size_t>(f.integer_or("max_input_chars_per_word", 100)));
}

std::unique_ptr<Model> make_wordpiece(Vocab vocab) {
  return std::make_unique<WordPiece>(std::move(vocab), "[UNK]", "##", 100);
}

}  // namespace rank_rerank::tok
