#include "tokenizer/piece_trie.hpp"

namespace rank_rerank::tok {

PieceTrie::PieceTrie(const std::vector<std::string_view>& keys) {
  // Each entry caches eight bytes of its key from the current depth on (refilled every eight
  // levels), so partitioning reads the entries sequentially instead of the keys at random.
  struct Entry {
    std::uint64_t cache;
    const char* data;
    std::uint32_t length;
    std::int32_t id;
  };
  std::vector<Entry> entries;
  entries.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i].empty())
      entries.push_back({0, keys[i].data(), static_cast<std::uint32_t>(keys[i].size()),
                         static_cast<std::int32_t>(i)});
  }
  std::vector<Entry> scratch(entries.size());
  auto refill = [](Entry& e, std::uint32_t depth) {
    std::uint64_t v = 0;
    for (std::uint32_t k = depth; k < depth + 8; ++k)
      v = (v << 8) | (k < e.length ? static_cast<unsigned char>(e.data[k]) : 0u);
    e.cache = v;
  };
  auto byte_at = [](const Entry& e, std::uint32_t depth) {
    return static_cast<unsigned char>(e.cache >> (56 - 8 * (depth % 8)));
  };
  struct Pending {
    std::uint32_t node, lo, hi, depth;
  };
  nodes_.reserve(entries.size() * 2 + 1);
  labels_.reserve(entries.size() * 2 + 1);
  tails_.reserve(entries.size());
  nodes_.push_back({0, 0, -1, -1});
  labels_.push_back(0);
  std::vector<Pending> queue;
  queue.reserve(entries.size() * 2 + 1);
  queue.push_back({0, 0, static_cast<std::uint32_t>(entries.size()), 0});
  for (std::size_t q = 0; q < queue.size(); ++q) {
    const Pending p = queue[q];
    std::uint32_t lo = p.lo;
    // Keys ending here go first; of equal keys the last id wins.
    for (std::uint32_t i = lo; i < p.hi; ++i) {
      if (entries[i].length != p.depth) continue;
      nodes_[p.node].id = std::max(nodes_[p.node].id, entries[i].id);
      std::swap(entries[lo++], entries[i]);
    }
    if (lo == p.hi) continue;
    if (p.hi - lo == 1) {
      const Entry& e = entries[lo];
      nodes_[p.node].tail = static_cast<std::int32_t>(tails_.size());
      tails_.push_back({std::string_view(e.data + p.depth, e.length - p.depth), e.id});
      continue;
    }
    if (p.depth % 8 == 0)
      for (std::uint32_t i = lo; i < p.hi; ++i) refill(entries[i], p.depth);
    if (p.hi - lo <= 16) {
      for (std::uint32_t i = lo + 1; i < p.hi; ++i) {
        const Entry moving = entries[i];
        const unsigned char b = byte_at(moving, p.depth);
        std::uint32_t j = i;
        for (; j > lo && byte_at(entries[j - 1], p.depth) > b; --j) entries[j] = entries[j - 1];
        entries[j] = moving;
      }
    } else {
      std::uint32_t start[257] = {};
      for (std::uint32_t i = lo; i < p.hi; ++i) ++start[byte_at(entries[i], p.depth) + 1];
      for (int b = 0; b < 256; ++b) start[b + 1] += start[b];
      for (std::uint32_t i = lo; i < p.hi; ++i)
        scratch[lo + start[byte_at(entries[i], p.depth)]++] = entries[i];
      std::copy(scratch.begin() + lo, scratch.begin() + p.hi, entries.begin() + lo);
    }
    nodes_[p.node].first_child = static_cast<std::uint32_t>(nodes_.size());
    while (lo < p.hi) {
      const unsigned char label = byte_at(entries[lo], p.depth);
      std::uint32_t hi = lo + 1;
      while (hi < p.hi && byte_at(entries[hi], p.depth) == label) ++hi;
      queue.push_back({static_cast<std::uint32_t>(nodes_.size()), lo, hi, p.depth + 1});
      nodes_.push_back({0, 0, -1, -1});
      labels_.push_back(label);
      ++nodes_[p.node].child_count;
      lo = hi;
    }
  }
}

std::optional<std::int32_t> PieceTrie::find(std::string_view s) const {
  if (nodes_.empty()) return std::nullopt;
  std::uint32_t node = 0;
  for (std::size_t k = 0; k < s.size(); ++k) {
    const Node& n = nodes_[node];
    if (n.tail >= 0) {
      const Tail& t = tails_[static_cast<std::size_t>(n.tail)];
      if (s.substr(k) == t.text) return t.id;
      return std::nullopt;
    }
    const std::int64_t child = find_child(n, static_cast<unsigned char>(s[k]));
    if (child < 0) return std::nullopt;
    node = static_cast<std::uint32_t>(child);
  }
  if (nodes_[node].id < 0) return std::nullopt;
  return nodes_[node].id;
}

}  // namespace rank_rerank::tok
