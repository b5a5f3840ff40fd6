#include "rank_rerank/json_config.hpp"

#include <limits>

#include "io/mapped_file.hpp"
#include "io/strict_json.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank {

using nlohmann::json;

struct JsonConfig::Node {
  std::shared_ptr<const json> document;  // keeps `value` alive
  const json* value = nullptr;           // an object inside `document`
  std::string where;
};

namespace {

[[noreturn]] void mistyped(const JsonConfig& config, std::string_view key, const json& v,
                           std::string_view expected) {
  std::string shown = v.dump();
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  throw_invalid(config.where() + ": '" + std::string(key) + "' is " +
                std::string(io::json_type_name(v)) + " (" + shown + "), " + std::string(expected) +
                " expected");
}

template <class T>
struct Converter;

template <>
struct Converter<bool> {
  static constexpr std::string_view expected = "a boolean";
  static std::optional<bool> from(const json& v) {
    return v.is_boolean() ? std::optional<bool>(v.get<bool>()) : std::nullopt;
  }
};

template <>
struct Converter<std::int64_t> {
  static constexpr std::string_view expected = "an integer";
  static std::optional<std::int64_t> from(const json& v) {
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return std::nullopt;
      return static_cast<std::int64_t>(u);
    }
    if (v.is_number_integer()) return v.get<std::int64_t>();
    return std::nullopt;
  }
};

template <>
struct Converter<double> {
  static constexpr std::string_view expected = "a number";
  static std::optional<double> from(const json& v) {
    return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
  }
};

template <>
struct Converter<std::string> {
  static constexpr std::string_view expected = "a string";
  static std::optional<std::string> from(const json& v) {
    return v.is_string() ? std::optional<std::string>(v.get<std::string>()) : std::nullopt;
  }
};

template <class E>
struct Converter<std::vector<E>> {
  static constexpr std::string_view expected =
      Converter<E>::expected == "a string"   ? "an array of strings"
      : Converter<E>::expected == "a number" ? "an array of numbers"
                                             : "an array of integers";
  static std::optional<std::vector<E>> from(const json& v) {
    if (!v.is_array()) return std::nullopt;
    std::vector<E> out;
    out.reserve(v.size());
    for (const json& item : v) {
      std::optional<E> e = Converter<E>::from(item);
      if (!e) return std::nullopt;
      out.push_back(std::move(*e));
    }
    return out;
  }
};

}  // namespace

JsonConfig::JsonConfig(std::shared_ptr<const Node> node) : node_(std::move(node)) {}

JsonConfig JsonConfig::parse(std::string_view text, std::string source) {
  auto document = std::make_shared<const json>(io::parse_json(text, source));
  if (!document->is_object())
    throw_invalid(source + ": holds " + std::string(io::json_type_name(*document)) +
                  ", an object expected");
  auto node = std::make_shared<Node>();
  node->value = document.get();
  node->document = std::move(document);
  node->where = std::move(source);
  return JsonConfig(std::move(node));
}

JsonConfig JsonConfig::load(const std::filesystem::path& path) {
  const auto file = io::MappedFile::open(path);
  const auto bytes = file->bytes();
  return parse({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, path.string());
}

bool JsonConfig::contains(std::string_view key) const {
  const auto it = node_->value->find(key);
  return it != node_->value->end() && !it->is_null();
}

template <class T>
std::optional<T> JsonConfig::find(std::string_view key) const {
  const auto it = node_->value->find(key);
  if (it == node_->value->end() || it->is_null()) return std::nullopt;
  std::optional<T> v = Converter<T>::from(*it);
  if constexpr (std::is_same_v<T, std::int64_t>)
    if (!v && it->is_number_unsigned())
      throw_invalid(where() + ": '" + std::string(key) + "' = " + it->dump() +
                    " does not fit a signed 64-bit integer");
  if (!v) mistyped(*this, key, *it, Converter<T>::expected);
  return v;
}

template <class T>
T JsonConfig::get(std::string_view key) const {
  std::optional<T> v = find<T>(key);
  if (!v)
    throw_invalid(where() + ": required key '" + std::string(key) + "' is missing (" +
                  std::string(Converter<T>::expected) + " expected)");
  return std::move(*v);
}

template <class T>
T JsonConfig::get_or(std::string_view key, T fallback) const {
  std::optional<T> v = find<T>(key);
  return v ? std::move(*v) : std::move(fallback);
}

JsonConfig JsonConfig::object(std::string_view key) const {
  const auto it = node_->value->find(key);
  if (it == node_->value->end() || it->is_null())
    throw_invalid(where() + ": required key '" + std::string(key) +
                  "' is missing (an object expected)");
  if (!it->is_object()) mistyped(*this, key, *it, "an object");
  auto node = std::make_shared<Node>();
  node->document = node_->document;
  node->value = &*it;
  node->where = where() + ": " + std::string(key);
  return JsonConfig(std::move(node));
}

std::vector<std::string> JsonConfig::keys() const {
  std::vector<std::string> out;
  for (const auto& item : node_->value->items()) out.push_back(item.key());
  return out;
}

const std::string& JsonConfig::where() const noexcept { return node_->where; }

#define RANK_RERANK_JSON_CONFIG_TYPE(T)                        \
  template T JsonConfig::get<T>(std::string_view) const;       \
  template T JsonConfig::get_or<T>(std::string_view, T) const; \
  template std::optional<T> JsonConfig::find<T>(std::string_view) const;
RANK_RERANK_JSON_CONFIG_TYPE(bool)
RANK_RERANK_JSON_CONFIG_TYPE(std::int64_t)
RANK_RERANK_JSON_CONFIG_TYPE(double)
RANK_RERANK_JSON_CONFIG_TYPE(std::string)
RANK_RERANK_JSON_CONFIG_TYPE(std::vector<std::int64_t>)
RANK_RERANK_JSON_CONFIG_TYPE(std::vector<double>)
RANK_RERANK_JSON_CONFIG_TYPE(std::vector<std::string>)
#undef RANK_RERANK_JSON_CONFIG_TYPE

}  // namespace rank_rerank
