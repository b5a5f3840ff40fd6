// The Precompiled normalizer: sentencepiece's precompiled_charsmap (a double-array trie over UTF-8
// bytes plus a pool of NUL-terminated replacements), applied grapheme by grapheme the way
// `tokenizers` does it: a whole grapheme shorter than 6 bytes first, else character by character,
// each time taking the shortest rule that matches a prefix.
#include <utf8proc.h>

#include <cstring>

#include "tokenizer/loaders.hpp"
#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {
namespace {

std::string base64_decode(std::string_view in, const Fields& f) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 4 * 3);
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) f.fail("precompiled_charsmap", "is not valid base64");
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

class Precompiled final : public Normalizer {
 public:
  Precompiled(const std::string& blob, const Fields& f) {
    if (blob.size() < 4) f.fail("precompiled_charsmap", "is too short");
    std::uint32_t trie_bytes = 0;
    std::memcpy(&trie_bytes, blob.data(), 4);
    if (trie_bytes % 4 != 0 || trie_bytes > blob.size() - 4 || trie_bytes == 0) {
      f.fail("precompiled_charsmap", "has an invalid trie size");
    }
    units_.resize(trie_bytes / 4);
    std::memcpy(units_.data(), blob.data() + 4, trie_bytes);
    pool_ = blob.substr(4 + trie_bytes);
  }

  void normalize(NormalizedString& s) const override {
    const std::string& text = s.get();
    std::vector<Change> changes;
    changes.reserve(text.size());
    bool modified = false;
    std::size_t i = 0;
    while (i < text.size()) {
      const std::size_t g_end = grapheme_end(text, i);
      const std::string_view grapheme(text.data() + i, g_end - i);
      if (grapheme.size() < 6) {
        if (auto norm = transform(grapheme)) {
          modified = true;
          replace(changes, grapheme, *norm);
          i = g_end;
          continue;
        }
      }
      std::size_t k = 0;
      while (k < grapheme.size()) {
        const std::size_t start = k;
        const char32_t c = next_code_point(grapheme, k);
        const std::string_view part = grapheme.substr(start, k - start);
        if (auto norm = transform(part)) {
          modified = true;
          replace(changes, part, *norm);
        } else {
          changes.push_back({c, 0});
        }
      }
      i = g_end;
    }
    if (modified) s.transform(changes, 0);
  }

 private:
  static std::size_t grapheme_end(const std::string& t, std::size_t i) {
    utf8proc_int32_t state = 0;
    char32_t prev = next_code_point(t, i);
    while (i < t.size()) {
      std::size_t k = i;
      const char32_t c = next_code_point(t, k);
      if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev),
                                           static_cast<utf8proc_int32_t>(c), &state))
        break;
      prev = c;
      i = k;
    }
    return i;
  }

  // Mirrors `tokenizers`' replace(): same-count replacements are all 0, extra characters are
  // insertions, fewer characters put the difference on the last change (even a previous one).
  static void replace(std::vector<Change>& changes, std::string_view old_part,
                      std::string_view new_part) {
    const auto old_count = static_cast<long>(count_code_points(old_part));
    const std::size_t first = changes.size();
    std::size_t p = 0;
    while (p < new_part.size()) changes.push_back({next_code_point(new_part, p), 0});
    const long diff = static_cast<long>(changes.size() - first) - old_count;
    if (diff > 0) {
      for (std::size_t k = changes.size() - static_cast<std::size_t>(diff); k < changes.size(); ++k)
        changes[k].delta = 1;
    } else if (diff < 0 && !changes.empty()) {
      changes.back().delta += static_cast<int>(diff);
    }
  }

  // Replacement of the shortest rule matching a prefix of `key`.
  std::optional<std::string_view> transform(std::string_view key) const {
    auto offset = [](std::uint32_t u) -> std::size_t {
      return (u >> 10) << ((u & (1u << 9)) >> 6);
    };
    auto label = [](std::uint32_t u) -> std::uint32_t { return u & ((1u << 31) | 0xFFu); };
    std::size_t node = offset(units_[0]);
    for (char ch : key) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == 0) break;
      node ^= c;
      if (node >= units_.size()) return std::nullopt;
      const std::uint32_t u = units_[node];
      if (label(u) != c) return std::nullopt;
      node ^= offset(u);
      if ((u >> 8) & 1u) {
        if (node >= units_.size()) return std::nullopt;
        const std::size_t at = units_[node] & ((1u << 31) - 1);
        if (at > pool_.size()) return std::nullopt;
        const std::size_t end = pool_.find('\0', at);
        return std::string_view(pool_).substr(at,
                                              (end == std::string::npos ? pool_.size() : end) - at);
      }
    }
    return std::nullopt;
  }

  std::vector<std::uint32_t> units_;
  std::string pool_;
};

}  // namespace

std::unique_ptr<Normalizer> load_precompiled(const Fields& f) {
  const std::string blob = base64_decode(f.str("precompiled_charsmap"), f);
  return std::make_unique<Precompiled>(blob, f);
}

}  // namespace rank_rerank::tok
