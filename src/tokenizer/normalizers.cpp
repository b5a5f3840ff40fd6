// Normalizers of tokenizer.json. Unicode data comes from utf8proc.
#include <utf8proc.h>

#include <algorithm>

#include "tokenizer/loaders.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {
namespace {

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Decomposition (NFD / NFKD): the first character of each decomposition replaces the original,
// the rest are insertions; runs of combining marks are put in canonical order.
void decompose(NormalizedString& s, bool compat) {
  if (is_ascii(s.get())) return;
  struct Item {
    char32_t c;
    int delta;
    int ccc;
  };
  std::vector<Item> items;
  const std::string& text = s.get();
  std::size_t i = 0;
  bool changed = false;
  utf8proc_int32_t buf[32];
  const auto options =
      static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0));
  while (i < text.size()) {
    const char32_t c = next_code_point(text, i);
    int last_boundclass = 0;
    const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 32, options,
                                           &last_boundclass);
    if (n <= 0) {
      items.push_back(
          {c, 0, utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class});
      continue;
    }
    changed |= (n != 1 || static_cast<char32_t>(buf[0]) != c);
    for (utf8proc_ssize_t k = 0; k < n; ++k) {
      items.push_back({static_cast<char32_t>(buf[k]), k > 0 ? 1 : 0,
                       utf8proc_get_property(buf[k])->combining_class});
    }
  }
  for (std::size_t a = 0; a < items.size();) {
    if (items[a].ccc == 0) {
      ++a;
      continue;
    }
    std::size_t b = a;
    while (b < items.size() && items[b].ccc != 0) ++b;
    if (!std::is_sorted(items.begin() + static_cast<std::ptrdiff_t>(a),
                        items.begin() + static_cast<std::ptrdiff_t>(b),
                        [](const Item& x, const Item& y) { return x.ccc < y.ccc; })) {
      std::stable_sort(items.begin() + static_cast<std::ptrdiff_t>(a),
                       items.begin() + static_cast<std::ptrdiff_t>(b),
                       [](const Item& x, const Item& y) { return x.ccc < y.ccc; });
      changed = true;
    }
    a = b;
  }
  if (!changed) return;
  std::vector<Change> changes;
  changes.reserve(items.size());
  for (const Item& it : items) changes.push_back({it.c, it.delta});
  s.transform(changes, 0);
}

// Composition (NFC / NFKC), segment by segment (a starter and its following marks): the output
// characters replace the input ones one by one; extra ones are insertions, missing ones removals.
void compose(NormalizedString& s, bool compat) {
  if (is_ascii(s.get())) return;
  const std::string& text = s.get();
  std::vector<Change> changes;
  bool changed = false;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE |
                                                      (compat ? UTF8PROC_COMPAT : 0));
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    next_code_point(text, j);
    while (j < text.size()) {
      std::size_t k = j;
      const char32_t c = next_code_point(text, k);
      if (utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class == 0) break;
      j = k;
    }
    const std::string_view segment(text.data() + i, j - i);
    utf8proc_uint8_t* mapped = nullptr;
    const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(segment.data()),
                                static_cast<utf8proc_ssize_t>(segment.size()), &mapped, options);
    std::string_view out = n >= 0 ? std::string_view(reinterpret_cast<const char*>(mapped),
                                                     static_cast<std::size_t>(n))
                                  : segment;
    changed |= (out != segment);
    const std::size_t old_count = count_code_points(segment);
    const std::size_t first = changes.size();
    std::size_t p = 0;
    while (p < out.size()) changes.push_back({next_code_point(out, p), 0});
    const std::size_t new_count = changes.size() - first;
    if (new_count > old_count) {
      for (std::size_t k = first + old_count; k < changes.size(); ++k) changes[k].delta = 1;
    } else if (new_count < old_count && new_count > 0) {
      changes.back().delta -= static_cast<int>(old_count - new_count);
    }
    std::free(mapped);
    i = j;
  }
  if (changed) s.transform(changes, 0);
}

class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean, bool chinese, bool strip, bool lower)
      : clean_(clean), chinese_(chinese), strip_(strip), lower_(lower) {}
  void normalize(NormalizedString& s) const override {
    if (clean_) {
      s.filter([](char32_t c) {
        if (c == '\t' || c == '\n' || c == '\r') return true;
        return !(c == 0 || c == 0xFFFD || is_other(c));
      });
      s.map([](char32_t c) {
        return (c == '\t' || c == '\n' || c == '\r' || is_white_space(c)) ? U' ' : c;
      });
    }
    if (chinese_ && !is_ascii(s.get())) {
      std::vector<Change> changes;
      bool any = false;
      const std::string& t = s.get();
      std::size_t i = 0;
      while (i < t.size()) {
        const char32_t c = next_code_point(t, i);
        if (is_chinese_char(c)) {
          changes.push_back({U' ', 0});
          changes.push_back({c, 1});
          changes.push_back({U' ', 1});
          any = true;
        } else {
          changes.push_back({c, 0});
        }
      }
      if (any) s.transform(changes, 0);
    }
    if (strip_) {
      decompose(s, false);
      if (!is_ascii(s.get())) s.filter([](char32_t c) { return !is_nonspacing_mark(c); });
    }
    if (lower_) s.lowercase();
  }

 private:
  bool clean_, chinese_, strip_, lower_;
};

class UnicodeForm final : public Normalizer {
 public:
  UnicodeForm(bool compose_form, bool compat) : compose_(compose_form), compat_(compat) {}
  void normalize(NormalizedString& s) const override {
    if (compose_) {
      compose(s, compat_);
    } else {
      decompose(s, compat_);
    }
  }

 private:
  bool compose_, compat_;
};

class Lowercase final : public Normalizer {
 public:
  void normalize(NormalizedString& s) const override { s.lowercase(); }
};

class StripAccents final : public Normalizer {
 public:
  void normalize(NormalizedString& s) const override {
    s.filter([](char32_t c) { return !is_nonspacing_mark(c); });
  }
};

class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(NormalizedString& s) const override { s.strip(left_, right_); }

 private:
  bool left_, right_;
};

class Replace final : public Normalizer {
 public:
  Replace(std::string pattern, std::shared_ptr<Regex> regex, std::string content)
      : pattern_(std::move(pattern)), regex_(std::move(regex)), content_(std::move(content)) {}
  void normalize(NormalizedString& s) const override {
    std::vector<Piece> pieces;
    if (regex_) {
      regex_->pieces(s.get(), pieces);
    } else {
      find_literal_matches(s.get(), pattern_, pieces);
    }
    s.replace(pieces, content_);
  }

 private:
  std::string pattern_;
  std::shared_ptr<Regex> regex_;
  std::string content_;
};

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string p) : prefix_(std::move(p)) {}
  void normalize(NormalizedString& s) const override { s.prepend(prefix_); }

 private:
  std::string prefix_;
};

class NormalizerSequence final : public Normalizer {
 public:
  explicit NormalizerSequence(std::vector<std::unique_ptr<Normalizer>> parts)
      : parts_(std::move(parts)) {}
  void normalize(NormalizedString& s) const override {
    for (const auto& p : parts_) p->normalize(s);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

std::unique_ptr<Normalizer> make_bert_normalizer(bool clean_text, bool chinese, bool strip_accents,
                                                 bool lowercase) {
  return std::make_unique<BertNormalizer>(clean_text, chinese, strip_accents, lowercase);
}

std::unique_ptr<Normalizer> load_normalizer(Json obj) {
  const std::string type = component_type(obj, "normalizer");
  const Fields f(obj, "normalizer " + type);
  if (type == "BertNormalizer") {
    const bool lower = f.boolean_or("lowercase", true);
    const auto strip = f.maybe_bool("strip_accents");
    return make_bert_normalizer(f.boolean_or("clean_text", true),
                                f.boolean_or("handle_chinese_chars", true), strip.value_or(lower),
                                lower);
  }
  if (type == "NFC") return std::make_unique<UnicodeForm>(true, false);
  if (type == "NFKC") return std::make_unique<UnicodeForm>(true, true);
  if (type == "NFD") return std::make_unique<UnicodeForm>(false, false);
  if (type == "NFKD") return std::make_unique<UnicodeForm>(false, true);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Strip")
    return std::make_unique<Strip>(f.boolean_or("strip_left", true),
                                   f.boolean_or("strip_right", true));
  if (type == "Prepend") return std::make_unique<Prepend>(f.str("prepend"));
  if (type == "Precompiled") return load_precompiled(f);
  if (type == "Replace") {
    const Fields pattern(f.at("pattern"), f.where() + " pattern");
    if (pattern.has("Regex")) {
      return std::make_unique<Replace>("", std::make_shared<Regex>(pattern.str("Regex"), pattern),
                                       f.str("content"));
    }
    return std::make_unique<Replace>(pattern.str("String"), nullptr, f.str("content"));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (Json item : f.array("normalizers")) parts.push_back(load_normalizer(item));
    return std::make_unique<NormalizerSequence>(std::move(parts));
  }
  throw_unsupported("tokenizer.json: normalizer type '" + type + "' is not supported");
}

}  // namespace rank_rerank::tok
