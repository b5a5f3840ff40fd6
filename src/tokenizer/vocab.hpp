// String -> id table with string_view lookups, shared by the models.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rank_rerank::tok {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

class Vocab {
 public:
  // Later duplicates win, as in `tokenizers`' HashMap-built vocabularies.
  void add(std::string token, std::int32_t id) {
    if (id >= 0 && static_cast<std::size_t>(id) >= by_id_.size())
      by_id_.resize(static_cast<std::size_t>(id) + 1);
    if (id >= 0) by_id_[static_cast<std::size_t>(id)] = token;
    by_token_[std::move(token)] = id;
  }
  std::optional<std::int32_t> find(std::string_view token) const {
    const auto it = by_token_.find(token);
    if (it == by_token_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> token(std::int32_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= by_id_.size()) return std::nullopt;
    return by_id_[static_cast<std::size_t>(id)];
  }
  std::size_t size() const { return by_token_.size(); }
  void reserve(std::size_t n) {
    by_token_.reserve(n);
    by_id_.reserve(n);
  }

 private:
  std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>> by_token_;
  std::vector<std::string> by_id_;
};

}  // namespace rank_rerank::tok
