// Typed access to JSON configuration files (config.json, tokenizer_config.json, modules.json,
// 1_Pooling/config.json, ...). Every error names the file, the key path and what was found versus
// what was expected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rank_rerank {

// A JSON object, or an object nested in one. Cheap to copy; copies share the parsed document.
//
// Value types T for get / get_or / find: bool, std::int64_t, double (an integer is accepted and
// widened), std::string, std::vector<std::int64_t>, std::vector<double>, std::vector<std::string>.
// A key whose value is null counts as missing, as it does for transformers' configs.
class JsonConfig {
 public:
  // Throws Error when the file cannot be read, is not JSON, or is not a JSON object.
  static JsonConfig load(const std::filesystem::path& path);
  // `source` names the text in error messages.
  static JsonConfig parse(std::string_view text, std::string source);

  // Present and not null.
  bool contains(std::string_view key) const;
  // Throws Error naming the key when missing or of another type.
  template <class T>
  T get(std::string_view key) const;
  // `fallback` when missing; throws Error naming the key when present with another type.
  template <class T>
  T get_or(std::string_view key, T fallback) const;
  // Empty when missing; throws Error naming the key when present with another type.
  template <class T>
  std::optional<T> find(std::string_view key) const;
  // The object under `key`; throws Error when missing or not an object.
  JsonConfig object(std::string_view key) const;
  // Keys of this object in lexicographic order.
  std::vector<std::string> keys() const;
  // "path/config.json" or "path/config.json: sentence_transformers": where this object lives.
  const std::string& where() const noexcept;

 private:
  struct Node;
  explicit JsonConfig(std::shared_ptr<const Node> node);
  std::shared_ptr<const Node> node_;
};

}  // namespace rank_rerank
