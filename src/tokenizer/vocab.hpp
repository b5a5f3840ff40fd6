// String -> id table: all tokens in one arena, an open-addressing index over it. Loading a 250k
// vocabulary this way costs a few allocations instead of one per token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rank_rerank::tok {

class Vocab {
 public:
  void reserve(std::size_t n) {
    entries_.reserve(n);
    arena_.reserve(n * 8);
    rehash(n * 2 + 16);
  }
  // Later duplicates win, as in `tokenizers`' HashMap-built vocabularies.
  void add(std::string_view token, std::int32_t id) {
    if ((entries_.size() + 1) * 2 > slots_.size()) rehash(slots_.size() * 2 + 16);
    const std::size_t h = hash(token);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] < 0) {
        slots_[i] = static_cast<std::int32_t>(entries_.size());
        entries_.push_back({static_cast<std::uint32_t>(arena_.size()),
                            static_cast<std::uint32_t>(token.size()), id});
        arena_.append(token);
        break;
      }
      if (text(entries_[static_cast<std::size_t>(slots_[i])]) == token) {
        entries_[static_cast<std::size_t>(slots_[i])].id = id;
        break;
      }
    }
    if (id >= 0) {
      if (static_cast<std::size_t>(id) >= by_id_.size())
        by_id_.resize(static_cast<std::size_t>(id) + 1, -1);
      by_id_[static_cast<std::size_t>(id)] = static_cast<std::int32_t>(find_entry(token));
    }
  }
  std::optional<std::int32_t> find(std::string_view token) const {
    const std::int64_t e = find_entry(token);
    if (e < 0) return std::nullopt;
    return entries_[static_cast<std::size_t>(e)].id;
  }
  std::optional<std::string> token(std::int32_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= by_id_.size() ||
        by_id_[static_cast<std::size_t>(id)] < 0) {
      return std::nullopt;
    }
    return std::string(
        text(entries_[static_cast<std::size_t>(by_id_[static_cast<std::size_t>(id)])]));
  }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint32_t offset, length;
    std::int32_t id;
  };
  static std::size_t hash(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a, then a final mix
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
  std::string_view text(const Entry& e) const {
    return std::string_view(arena_).substr(e.offset, e.length);
  }
  std::int64_t find_entry(std::string_view token) const {
    if (slots_.empty()) return -1;
    for (std::size_t i = hash(token) & mask_;; i = (i + 1) & mask_) {
      const std::int32_t s = slots_[i];
      if (s < 0) return -1;
      if (text(entries_[static_cast<std::size_t>(s)]) == token) return s;
    }
  }
  void rehash(std::size_t want) {
    std::size_t n = 16;
    while (n < want) n *= 2;
    if (n <= slots_.size()) return;
    slots_.assign(n, -1);
    mask_ = n - 1;
    for (std::size_t e = 0; e < entries_.size(); ++e) {
      for (std::size_t i = hash(text(entries_[e])) & mask_;; i = (i + 1) & mask_) {
        if (slots_[i] < 0) {
          slots_[i] = static_cast<std::int32_t>(e);
          break;
        }
      }
    }
  }

  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<std::int32_t> slots_;
  std::vector<std::int32_t> by_id_;  // entry index per id
  std::size_t mask_ = 0;
};

}  // namespace rank_rerank::tok
