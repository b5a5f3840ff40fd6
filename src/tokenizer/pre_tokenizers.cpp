// Pre-tokenizers of tokenizer.json.
#include "tokenizer/loaders.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {
namespace {

bool is_bert_punctuation(char32_t c) {
  if (c < 0x80)
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
           (c >= 123 && c <= 126);
  return is_punctuation(c);
}

SplitBehavior parse_behavior(const Fields& f, std::string_view key) {
  const std::string b = f.str(std::string(key));
  if (b == "Removed") return SplitBehavior::removed;
  if (b == "Isolated") return SplitBehavior::isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::merged_with_previous;
  if (b == "MergedWithNext") return SplitBehavior::merged_with_next;
  if (b == "Contiguous") return SplitBehavior::contiguous;
  f.fail(key, "has unknown value '" + b + "'");
}

class BertPre final : public PreTokenizer {
 public:
  void pre_tokenize(std::vector<Split>& splits) const override {
    split_each(splits, [](const NormalizedString& n) {
      return n.split(find_char_matches(n.get(), is_white_space), SplitBehavior::removed);
    });
    split_each(splits, [](const NormalizedString& n) {
      return n.split(find_char_matches(n.get(), is_bert_punctuation), SplitBehavior::isolated);
    });
  }
};

// \w+|[^\w\s]+ : runs of word characters and runs of other non-space characters are kept.
class WhitespacePre final : public PreTokenizer {
 public:
  void pre_tokenize(std::vector<Split>& splits) const override {
    split_each(splits, [](const NormalizedString& n) {
      const std::string& s = n.get();
      std::vector<Piece> pieces;
      std::size_t i = 0;
      int prev_kind = -1;  // 0 space, 1 word, 2 other
      while (i < s.size()) {
        const std::size_t start = i;
        const char32_t c = next_code_point(s, i);
        const int kind = is_regex_word(c) ? 1 : is_white_space(c) ? 0 : 2;
        if (kind == prev_kind) {
          pieces.back().end = i;
        } else {
          pieces.push_back({start, i, kind == 0});
        }
        prev_kind = kind;
      }
      return n.split(pieces, SplitBehavior::removed);
    });
  }
};

class CharClassPre final : public PreTokenizer {
 public:
  CharClassPre(bool (*pred)(char32_t), SplitBehavior how) : pred_(pred), how_(how) {}
  void pre_tokenize(std::vector<Split>& splits) const override {
    split_each(splits, [&](const NormalizedString& n) {
      return n.split(find_char_matches(n.get(), pred_), how_);
    });
  }

 private:
  bool (*pred_)(char32_t);
  SplitBehavior how_;
};

class MetaspacePre final : public PreTokenizer {
 public:
  enum class Prepend { always, first, never };
  MetaspacePre(std::string replacement, Prepend scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void pre_tokenize(std::vector<Split>& splits) const override {
    split_each(splits, [&](NormalizedString& n) {
      n.replace(find_literal_matches(n.get(), " "), replacement_);
      const bool starts = n.get().compare(0, replacement_.size(), replacement_) == 0;
      if (!starts &&
          (scheme_ == Prepend::always || (scheme_ == Prepend::first && n.original_start() == 0))) {
        n.prepend(replacement_);
      }
      if (split_)
        return n.split(find_literal_matches(n.get(), replacement_),
                       SplitBehavior::merged_with_next);
      return std::vector<NormalizedString>{n};
    });
  }

 private:
  std::string replacement_;
  Prepend scheme_;
  bool split_;
};

class ByteLevelPre final : public PreTokenizer {
 public:
  ByteLevelPre(bool prefix, bool regex) : prefix_(prefix), regex_(regex) {}
  void pre_tokenize(std::vector<Split>& splits) const override {
    split_each(splits, [&](NormalizedString& n) {
      if (prefix_ && (n.get().empty() || n.get()[0] != ' ')) n.prepend(" ");
      if (regex_) return n.split(gpt2_pieces(n.get()), SplitBehavior::isolated);
      return std::vector<NormalizedString>{n};
    });
    std::vector<Change> changes;
    for (Split& s : splits) {
      if (s.tokens) continue;
      const std::string& t = s.normalized.get();
      changes.clear();
      std::size_t i = 0;
      while (i < t.size()) {
        const std::size_t len = utf8_length_from_lead(static_cast<unsigned char>(t[i]));
        for (std::size_t k = 0; k < len; ++k)
          changes.push_back({byte_to_char(static_cast<unsigned char>(t[i + k])), k > 0 ? 1 : 0});
        i += len;
      }
      s.normalized.transform(changes, 0);
    }
  }

 private:
  bool prefix_, regex_;
};

class SplitPre final : public PreTokenizer {
 public:
  SplitPre(std::string literal, std::shared_ptr<Regex> regex, SplitBehavior how, bool invert)
      : literal_(std::move(literal)), regex_(std::move(regex)), how_(how), invert_(invert) {}
  void pre_tokenize(std::vector<Split>& splits) const override {
    split_each(splits, [&](const NormalizedString& n) {
      std::vector<Piece> pieces =
          regex_ ? regex_->pieces(n.get()) : find_literal_matches(n.get(), literal_);
      if (invert_)
        for (Piece& p : pieces) p.is_match = !p.is_match;
      return n.split(pieces, how_);
    });
  }

 private:
  std::string literal_;
  std::shared_ptr<Regex> regex_;
  SplitBehavior how_;
  bool invert_;
};

class PreSequence final : public PreTokenizer {
 public:
  explicit PreSequence(std::vector<std::unique_ptr<PreTokenizer>> parts)
      : parts_(std::move(parts)) {}
  void pre_tokenize(std::vector<Split>& splits) const override {
    for (const auto& p : parts_) p->pre_tokenize(splits);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer() { return std::make_unique<BertPre>(); }

std::unique_ptr<PreTokenizer> load_pre_tokenizer(Json obj) {
  const std::string type = component_type(obj, "pre_tokenizer");
  const Fields f(obj, "pre_tokenizer " + type);
  if (type == "BertPreTokenizer") return make_bert_pre_tokenizer();
  if (type == "Whitespace") return std::make_unique<WhitespacePre>();
  if (type == "WhitespaceSplit")
    return std::make_unique<CharClassPre>(is_white_space, SplitBehavior::removed);
  if (type == "Punctuation") {
    return std::make_unique<CharClassPre>(is_bert_punctuation, f.has("behavior")
                                                                   ? parse_behavior(f, "behavior")
                                                                   : SplitBehavior::isolated);
  }
  if (type == "Digits") {
    return std::make_unique<CharClassPre>(is_number, f.boolean_or("individual_digits", false)
                                                         ? SplitBehavior::isolated
                                                         : SplitBehavior::contiguous);
  }
  if (type == "Metaspace") {
    const std::string scheme =
        f.str_or("prepend_scheme", f.boolean_or("add_prefix_space", true) ? "always" : "never");
    MetaspacePre::Prepend p = MetaspacePre::Prepend::always;
    if (scheme == "first") {
      p = MetaspacePre::Prepend::first;
    } else if (scheme == "never") {
      p = MetaspacePre::Prepend::never;
    } else if (scheme != "always") {
      f.fail("prepend_scheme", "has unknown value '" + scheme + "'");
    }
    const std::string rep = f.str("replacement");
    if (count_code_points(rep) != 1) f.fail("replacement", "must be one character");
    return std::make_unique<MetaspacePre>(rep, p, f.boolean_or("split", true));
  }
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelPre>(f.boolean_or("add_prefix_space", true),
                                          f.boolean_or("use_regex", true));
  if (type == "Split") {
    const Fields pattern(f.at("pattern"), f.where() + " pattern");
    std::shared_ptr<Regex> regex;
    std::string literal;
    if (pattern.has("Regex")) {
      regex = std::make_shared<Regex>(pattern.str("Regex"), pattern);
    } else {
      literal = pattern.str("String");
    }
    return std::make_unique<SplitPre>(literal, regex, parse_behavior(f, "behavior"),
                                      f.boolean_or("invert", false));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (Json item : f.array("pretokenizers")) parts.push_back(load_pre_tokenizer(item));
    return std::make_unique<PreSequence>(std::move(parts));
  }
  throw_unsupported("tokenizer.json: pre_tokenizer type '" + type + "' is not supported");
}

}  // namespace rank_rerank::tok
