// Byte trie over a list of strings (Unigram pieces) for prefix search and exact lookup. It is
// built breadth-first by partitioning the strings on their next byte (an MSD radix sort that
// builds the trie as it goes), so every node's children are contiguous, with their labels in one
// byte array for a quick scan. Where a single string continues below a node, the rest of it is a
// tail instead of a chain of nodes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace rank_rerank::tok {

class PieceTrie {
 public:
  PieceTrie() = default;
  // keys[i] is the string of id i; they must outlive the trie. Of equal strings the last id wins
  // (as in a map filled in order).
  explicit PieceTrie(const std::vector<std::string_view>& keys);

  // Calls fn(length, id) for every key that is a prefix of s, shortest first.
  template <class Fn>
  void prefixes(std::string_view s, Fn fn) const {
    std::uint32_t node = 0;
    for (std::size_t k = 0; k < s.size(); ++k) {
      const Node& n = nodes_[node];
      if (n.tail >= 0) {
        const Tail& t = tails_[static_cast<std::size_t>(n.tail)];
        if (s.substr(k, t.text.size()) == t.text) fn(k + t.text.size(), t.id);
        return;
      }
      const std::int64_t child = find_child(n, static_cast<unsigned char>(s[k]));
      if (child < 0) return;
      node = static_cast<std::uint32_t>(child);
      if (nodes_[node].id >= 0) fn(k + 1, nodes_[node].id);
    }
  }
  std::optional<std::int32_t> find(std::string_view s) const;

 private:
  struct Node {
    std::uint32_t first_child, child_count;
    std::int32_t id;    // key ending here, or -1
    std::int32_t tail;  // index into tails_ when one key continues below, else -1
  };
  struct Tail {
    std::string_view text;
    std::int32_t id;
  };
  std::int64_t find_child(const Node& n, unsigned char c) const {
    const unsigned char* first = labels_.data() + n.first_child;
    const unsigned char* last = first + n.child_count;
    const unsigned char* at =
        n.child_count > 16 ? std::lower_bound(first, last, c) : std::find(first, last, c);
    if (at == last || *at != c) return -1;
    return at - labels_.data();
  }

  std::vector<Node> nodes_;
  std::vector<unsigned char> labels_;  // label of each node
  std::vector<Tail> tails_;
};

}  // namespace rank_rerank::tok
