#include "tokenizer/added_vocabulary.hpp"

#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {

void AddedVocabulary::Trie::insert(std::string_view key, int token) {
  first_byte[static_cast<unsigned char>(key[0])] = true;
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

void AddedVocabulary::find_matches(std::string_view s, const Trie& trie,
                                   std::vector<Match>& out) const {
  out.clear();
  if (trie.empty()) return;
  std::size_t start_offset = 0, pos = 0;
  while (pos < s.size()) {
    // Keys are valid UTF-8, so they never start at a continuation byte: skipping bytes that start
    // no key keeps the scan on character boundaries where it matters.
    if (!trie.first_byte[static_cast<unsigned char>(s[pos])]) {
      ++pos;
      continue;
    }
    int token = -1;
    const std::size_t len = trie.longest(s, pos, token);
    if (len == 0) {
      pos += utf8_length_from_lead(static_cast<unsigned char>(s[pos]));
      continue;
    }
    std::size_t start = pos, stop = pos + len;
    const AddedToken& t = tokens_[static_cast<std::size_t>(token)];
    if (t.single_word) {
      const bool start_ok = start == 0 || !is_regex_word(last_char(s.substr(0, start)));
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
    out.push_back({start, stop, token});
    start_offset = pos = stop;
  }
}

void AddedVocabulary::split_normalized(PreTokenized& out, std::uint32_t b) const {
  thread_local std::vector<Match> matches;
  const std::string& s = out.buffers[b].get();
  find_matches(s, normalized_, matches);
  std::size_t last = 0;
  for (const Match& m : matches) {
    if (last < m.start)
      out.splits.push_back(
          {b, static_cast<std::uint32_t>(last), static_cast<std::uint32_t>(m.start), -1});
    if (m.start < m.stop)
      out.splits.push_back({b, static_cast<std::uint32_t>(m.start),
                            static_cast<std::uint32_t>(m.stop),
                            tokens_[static_cast<std::size_t>(m.token)].id});
    last = m.stop;
  }
  if (last < s.size())
    out.splits.push_back(
        {b, static_cast<std::uint32_t>(last), static_cast<std::uint32_t>(s.size()), -1});
}

void AddedVocabulary::extract_and_normalize(const Normalizer* normalizer, std::string text,
                                            PreTokenized& out) const {
  thread_local std::vector<Match> matches;
  out.buffers.clear();
  out.splits.clear();
  find_matches(text, raw_, matches);
  if (matches.empty()) {
    out.buffers.emplace_back(std::move(text), 0);
    if (normalizer) normalizer->normalize(out.buffers[0]);
    split_normalized(out, 0);
    return;
  }
  out.buffers.emplace_back(text, 0);
  std::size_t last = 0;
  auto normalize_part = [&](std::size_t a, std::size_t b) {
    if (a >= b) return;
    out.buffers.emplace_back(text.substr(a, b - a), static_cast<std::uint32_t>(a));
    const auto index = static_cast<std::uint32_t>(out.buffers.size() - 1);
    if (normalizer) normalizer->normalize(out.buffers[index]);
    split_normalized(out, index);
  };
  for (const Match& m : matches) {
    normalize_part(last, m.start);
    if (m.start < m.stop)
      out.splits.push_back({0, static_cast<std::uint32_t>(m.start),
                            static_cast<std::uint32_t>(m.stop),
                            tokens_[static_cast<std::size_t>(m.token)].id});
    last = m.stop;
  }
  normalize_part(last, text.size());
}

}  // namespace rank_rerank::tok
