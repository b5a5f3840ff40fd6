// String -> id table: all tokens in one arena, an open-addressing index over it whose slots keep
// 32 bits of the hash, so a probe rarely touches the arena for a token that is not the one sought.
// Loading a 250k vocabulary this way costs a few allocations instead of one per token.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
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
    const std::uint64_t h = hash(token);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    std::size_t entry = 0;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.entry < 0) {
        entry = entries_.size();
        slot = {static_cast<std::int32_t>(entry), tag};
        entries_.push_back({static_cast<std::uint32_t>(arena_.size()),
                            static_cast<std::uint32_t>(token.size()), id});
        arena_.append(token);
        max_length_ = std::max(max_length_, token.size());
        break;
      }
      if (slot.tag == tag && text(entries_[static_cast<std::size_t>(slot.entry)]) == token) {
        entry = static_cast<std::size_t>(slot.entry);
        entries_[entry].id = id;
        break;
      }
    }
    if (id < 0) return;
    const auto index = static_cast<std::size_t>(id);
    if (index >= by_id_.size() && index < 4 * entries_.size() + 65536) by_id_.resize(index + 1, -1);
    if (index < by_id_.size()) {
      by_id_[index] = static_cast<std::int32_t>(entry);
    } else {
      sparse_by_id_[id] = static_cast<std::int32_t>(entry);  // ids far beyond the vocabulary size
    }
  }
  std::optional<std::int32_t> find(std::string_view token) const {
    if (slots_.empty()) return std::nullopt;
    const std::uint64_t h = hash(token);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.entry < 0) return std::nullopt;
      if (slot.tag != tag) continue;
      const Entry& e = entries_[static_cast<std::size_t>(slot.entry)];
      if (text(e) == token) return e.id;
    }
  }
  std::optional<std::string> token(std::int32_t id) const {
    if (!has_id(id)) return std::nullopt;
    return std::string(view(id));
  }
  bool has_id(std::int32_t id) const { return entry_of(id) >= 0; }
  // The token of an id that has_id() accepts, without copying.
  std::string_view view(std::int32_t id) const {
    return text(entries_[static_cast<std::size_t>(entry_of(id))]);
  }
  std::size_t size() const { return entries_.size(); }
  // Length in bytes of the longest token.
  std::size_t max_length() const { return max_length_; }
  // Calls fn(token, id) for every entry.
  template <class Fn>
  void for_each(Fn fn) const {
    for (const Entry& e : entries_) fn(text(e), e.id);
  }

 private:
  struct Entry {
    std::uint32_t offset, length;
    std::int32_t id;
  };
  struct Slot {
    std::int32_t entry = -1;
    std::uint32_t tag = 0;
  };
  // Eight bytes at a time, multiplied and folded; tokens are short, so this is a few steps.
  static std::uint64_t hash(std::string_view s) {
    constexpr std::uint64_t k = 0x9E3779B97F4A7C15ull;
    std::uint64_t h = s.size() * k;
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * k;
      h ^= h >> 32;
    }
    if (i < s.size()) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, s.size() - i);
      h = (h ^ w) * k;
      h ^= h >> 32;
    }
    h *= k;
    return h ^ (h >> 29);
  }
  std::int32_t entry_of(std::int32_t id) const {
    if (id < 0) return -1;
    if (static_cast<std::size_t>(id) < by_id_.size()) return by_id_[static_cast<std::size_t>(id)];
    const auto it = sparse_by_id_.find(id);
    return it == sparse_by_id_.end() ? -1 : it->second;
  }
  std::string_view text(const Entry& e) const {
    return std::string_view(arena_.data() + e.offset, e.length);
  }
  void rehash(std::size_t want) {
    std::size_t n = 16;
    while (n < want) n *= 2;
    if (n <= slots_.size()) return;
    slots_.assign(n, Slot{});
    mask_ = n - 1;
    for (std::size_t e = 0; e < entries_.size(); ++e) {
      const std::uint64_t h = hash(text(entries_[e]));
      for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
        if (slots_[i].entry < 0) {
          slots_[i] = {static_cast<std::int32_t>(e), static_cast<std::uint32_t>(h >> 32)};
          break;
        }
      }
    }
  }

  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;
  std::vector<std::int32_t> by_id_;  // entry index per id
  std::unordered_map<std::int32_t, std::int32_t> sparse_by_id_;
  std::size_t mask_ = 0;
  std::size_t max_length_ = 0;
};

}  // namespace rank_rerank::tok
