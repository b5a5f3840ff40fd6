// Pre-tokenizers of tokenizer.json.
#include <array>

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

// Whitespace is removed and each punctuation character isolated, in one pass (the same result as
// `tokenizers`' two splits).
class BertPre final : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& p) const override {
    split_ranges(p, SplitBehavior::removed, [](std::string_view s, std::vector<Piece>& pieces) {
      std::size_t i = 0, word = 0;
      while (i < s.size()) {
        const std::size_t start = i;
        const char32_t c = next_code_point(s, i);
        const bool space = is_white_space(c);
        if (!space && !is_bert_punctuation(c)) continue;
        if (word < start) pieces.push_back({word, start, false});
        pieces.push_back({start, i, space});
        word = i;
      }
      if (word < s.size()) pieces.push_back({word, s.size(), false});
    });
  }
};

// \w+|[^\w\s]+ : runs of word characters and runs of other non-space characters are kept.
class WhitespacePre final : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenized& p) const override {
    split_ranges(p, SplitBehavior::removed, [](std::string_view s, std::vector<Piece>& pieces) {
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
    });
  }
};

class CharClassPre final : public PreTokenizer {
 public:
  CharClassPre(bool (*pred)(char32_t), SplitBehavior how) : pred_(pred), how_(how) {}
  void pre_tokenize(PreTokenized& p) const override {
    split_ranges(p, how_, [&](std::string_view s, std::vector<Piece>& pieces) {
      find_char_matches(s, pred_, pieces);
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
  void pre_tokenize(PreTokenized& p) const override {
    std::vector<std::uint32_t> users = buffer_users(p);
    std::vector<Piece> spaces;
    for (std::size_t i = 0; i < p.splits.size(); ++i) {
      if (p.splits[i].added_id >= 0) continue;
      const std::uint32_t b = own_buffer(p, i, users);
      NormalizedString& n = p.buffers[b];
      find_literal_matches(n.get(), " ", spaces);
      n.replace(spaces, replacement_);
      const bool starts = n.get().compare(0, replacement_.size(), replacement_) == 0;
      if (!starts &&
          (scheme_ == Prepend::always || (scheme_ == Prepend::first && n.original_start() == 0))) {
        n.prepend(replacement_);
      }
      p.splits[i].end = static_cast<std::uint32_t>(n.get().size());
    }
    if (!split_) return;
    split_ranges(p, SplitBehavior::merged_with_next,
                 [&](std::string_view s, std::vector<Piece>& pieces) {
                   find_literal_matches(s, replacement_, pieces);
                 });
  }

 private:
  std::string replacement_;
  Prepend scheme_;
  bool split_;
};

// Optional prefix space, the GPT-2 split, then every byte as its GPT-2 character. The byte mapping
// is applied to a whole split at once: it is per character, so the alignments are those of
// `tokenizers`' piece-by-piece mapping.
const std::array<std::string, 256>& byte_chars() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    for (std::size_t b = 0; b < t.size(); ++b)
      append_utf8(t[b], byte_to_char(static_cast<unsigned char>(b)));
    return t;
  }();
  return table;
}

class ByteLevelPre final : public PreTokenizer {
 public:
  ByteLevelPre(bool prefix, bool regex) : prefix_(prefix), regex_(regex) {}
  void pre_tokenize(PreTokenized& p) const override {
    std::vector<std::uint32_t> users = buffer_users(p);
    std::vector<Split> out;
    out.reserve(p.splits.size() * 4);
    std::vector<Piece> pieces;
    std::vector<std::uint32_t> moved;  // new byte position of each old byte position
    for (std::size_t i = 0; i < p.splits.size(); ++i) {
      if (p.splits[i].added_id >= 0) {
        out.push_back(p.splits[i]);
        continue;
      }
      const std::uint32_t b = own_buffer(p, i, users);
      NormalizedString& n = p.buffers[b];
      if (prefix_ && (n.get().empty() || n.get()[0] != ' ')) n.prepend(" ");
      const std::string& t = n.get();
      pieces.clear();
      if (regex_) {
        gpt2_pieces(t, pieces);
      } else if (!t.empty()) {
        pieces.push_back({0, t.size(), false});
      }
      n.map_bytes(byte_chars(), moved);
      for (const Piece& piece : pieces)
        out.push_back({b, moved[piece.start], moved[piece.end], -1});
    }
    p.splits.swap(out);
  }

 private:
  bool prefix_, regex_;
};

class SplitPre final : public PreTokenizer {
 public:
  SplitPre(std::string literal, std::shared_ptr<Regex> regex, SplitBehavior how, bool invert)
      : literal_(std::move(literal)), regex_(std::move(regex)), how_(how), invert_(invert) {}
  void pre_tokenize(PreTokenized& p) const override {
    split_ranges(p, how_, [&](std::string_view s, std::vector<Piece>& pieces) {
      if (regex_) {
        regex_->pieces(s, pieces);
      } else {
        find_literal_matches(s, literal_, pieces);
      }
      if (invert_)
        for (Piece& piece : pieces) piece.is_match = !piece.is_match;
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
  void pre_tokenize(PreTokenized& p) const override {
    for (const auto& part : parts_) part->pre_tokenize(p);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

}  // namespace

std::vector<std::uint32_t> buffer_users(const PreTokenized& p) {
  std::vector<std::uint32_t> users(p.buffers.size(), 0);
  for (const Split& s : p.splits) ++users[s.buffer];
  return users;
}

std::uint32_t own_buffer(PreTokenized& p, std::size_t i, std::vector<std::uint32_t>& users) {
  Split& s = p.splits[i];
  if (users[s.buffer] == 1 && s.start == 0 && s.end == p.buffers[s.buffer].get().size())
    return s.buffer;
  NormalizedString copy = p.buffers[s.buffer].slice(s.start, s.end);
  --users[s.buffer];
  p.buffers.push_back(std::move(copy));
  users.push_back(1);
  s = {static_cast<std::uint32_t>(p.buffers.size() - 1), 0,
       static_cast<std::uint32_t>(p.buffers.back().get().size()), -1};
  return s.buffer;
}

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
