#include "tokenizer/added_vocabulary.hpp"

#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {

void AddedVocabulary::Trie::insert(std::string_view key, int token) {
  int node = 0;
  for (char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    auto it = nodes[static_cast<std::size_t>(node)].next.find(c);
    if (it == nodes[static_cast<std::size_t>(node)].next.end()) {
      nodes.push_back(Node{});
      const int created = static_cast<int>(nodes.size()) - 1;
      nodes[static_cast<std::size_t>(node)].next[c] = created;
      node = created;
    } else {
      node = it->second;
    }
  }
  nodes[static_cast<std::size_t>(node)].token = token;
}

std::size_t AddedVocabulary::Trie::longest(std::string_view s, std::size_t pos, int& token) const {
  std::size_t best = 0;
  int node = 0;
  for (std::size_t i = pos; i < s.size(); ++i) {
    const auto& next = nodes[static_cast<std::size_t>(node)].next;
    const auto it = next.find(static_cast<unsigned char>(s[i]));
    if (it == next.end()) break;
    node = it->second;
    if (nodes[static_cast<std::size_t>(node)].token >= 0) {
      best = i + 1 - pos;
      token = nodes[static_cast<std::size_t>(node)].token;
    }
  }
  return best;
}

void AddedVocabulary::build(std::vector<AddedToken> tokens, const Normalizer* normalizer) {
  tokens_ = std::move(tokens);
  raw_ = Trie{};
  normalized_ = Trie{};
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    if (t.content.empty()) continue;
    if (t.normalized) {
      NormalizedString n(t.content, 0);
      if (normalizer) normalizer->normalize(n);
      if (!n.empty()) normalized_.insert(n.get(), static_cast<int>(i));
    } else {
      raw_.insert(t.content, static_cast<int>(i));
    }
  }
}

const AddedToken* AddedVocabulary::find(std::string_view content) const {
  for (const AddedToken& t : tokens_)
    if (t.content == content) return &t;
  return nullptr;
}

const AddedToken* AddedVocabulary::find(std::int32_t id) const {
  for (const AddedToken& t : tokens_)
    if (t.id == id) return &t;
  return nullptr;
}

namespace {

char32_t last_char(std::string_view s) {
  std::size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return next_code_point(s, i);
}

}  // namespace

std::vector<Split> AddedVocabulary::split_with(const NormalizedString& ns, const Trie& trie) const {
  const std::string& s = ns.get();
  std::vector<Split> out;
  if (trie.empty()) {
    out.push_back(Split{ns, std::nullopt});
    return out;
  }
  std::size_t start_offset = 0, pos = 0;
  auto emit = [&](std::size_t a, std::size_t b, int token) {
    if (a >= b) return;
    NormalizedString piece = ns.slice(a, b);
    if (token < 0) {
      out.push_back(Split{std::move(piece), std::nullopt});
    } else {
      const AddedToken& t = tokens_[static_cast<std::size_t>(token)];
      std::vector<Token> toks{
          Token{t.id, piece.get(), 0, static_cast<std::uint32_t>(piece.get().size())}};
      out.push_back(Split{std::move(piece), std::move(toks)});
    }
  };
  while (pos < s.size()) {
    int token = -1;
    const std::size_t len = trie.longest(s, pos, token);
    if (len == 0) {
      pos += utf8_length_from_lead(static_cast<unsigned char>(s[pos]));
      continue;
    }
    std::size_t start = pos, stop = pos + len;
    const AddedToken& t = tokens_[static_cast<std::size_t>(token)];
    if (t.single_word) {
      const bool start_ok =
          start == 0 || !is_regex_word(last_char(std::string_view(s).substr(0, start)));
      std::size_t k = stop;
      const bool stop_ok = stop == s.size() || !is_regex_word(next_code_point(s, k));
      if (!start_ok || !stop_ok) {
        pos = stop;  // the matcher resumes after a discarded match
        continue;
      }
    }
    if (t.lstrip) {
      std::size_t left = start;
      while (left > 0) {
        std::size_t p = left - 1;
        while (p > 0 && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
        std::size_t q = p;
        if (!is_white_space(next_code_point(s, q))) break;
        left = p;
      }
      start = std::max(left, start_offset);
    }
    if (t.rstrip) {
      while (stop < s.size()) {
        std::size_t q = stop;
        if (!is_white_space(next_code_point(s, q))) break;
        stop = q;
      }
    }
    emit(start_offset, start, -1);
    emit(start, stop, token);
    start_offset = pos = stop;
  }
  emit(start_offset, s.size(), -1);
  return out;
}

std::vector<Split> AddedVocabulary::extract_and_normalize(const Normalizer* normalizer,
                                                          std::string_view text) const {
  std::vector<Split> splits = split_with(NormalizedString(text, 0), raw_);
  std::vector<Split> out;
  out.reserve(splits.size());
  for (Split& s : splits) {
    if (s.tokens) {
      out.push_back(std::move(s));
      continue;
    }
    if (normalizer) normalizer->normalize(s.normalized);
    for (Split& piece : split_with(s.normalized, normalized_)) {
      if (!piece.normalized.empty()) out.push_back(std::move(piece));
    }
  }
  return out;
}

}  // namespace rank_rerank::tok
