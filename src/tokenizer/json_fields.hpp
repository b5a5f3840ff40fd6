// Typed access to tokenizer.json fields whose errors name the component type and the field.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rank_rerank/error.hpp"

namespace rank_rerank::tok {

using Json = simdjson::dom::element;

class Fields {
 public:
  // `where` names the component, e.g. "normalizer BertNormalizer".
  Fields(Json obj, std::string where) : obj_(obj), where_(std::move(where)) {
    if (!obj.is_object()) throw_invalid("tokenizer.json: " + where_ + " is not a JSON object");
  }
  const std::string& where() const { return where_; }
  bool has(std::string_view key) const {
    Json v;
    return !obj_.at_key(key).get(v) && !v.is_null();
  }
  Json at(std::string_view key) const {
    Json v;
    if (obj_.at_key(key).get(v) || v.is_null()) fail(key, "is missing");
    return v;
  }
  std::optional<Json> maybe(std::string_view key) const {
    Json v;
    if (obj_.at_key(key).get(v) || v.is_null()) return std::nullopt;
    return v;
  }
  std::string str(std::string_view key) const {
    std::string_view v;
    if (at(key).get(v)) fail(key, "must be a string");
    return std::string(v);
  }
  std::string str_or(std::string_view key, std::string fallback) const {
    return has(key) ? str(key) : fallback;
  }
  bool boolean_or(std::string_view key, bool fallback) const {
    if (!has(key)) return fallback;
    bool v;
    if (at(key).get(v)) fail(key, "must be a boolean");
    return v;
  }
  std::optional<bool> maybe_bool(std::string_view key) const {
    if (!has(key)) return std::nullopt;
    return boolean_or(key, false);
  }
  std::int64_t integer(std::string_view key) const {
    std::int64_t v;
    if (at(key).get(v)) fail(key, "must be an integer");
    return v;
  }
  std::int64_t integer_or(std::string_view key, std::int64_t fallback) const {
    return has(key) ? integer(key) : fallback;
  }
  // An integer in [lo, hi].
  std::int64_t integer_in(std::string_view key, std::int64_t lo, std::int64_t hi) const {
    const std::int64_t v = integer(key);
    if (v < lo || v > hi)
      fail(key, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "], got " + std::to_string(v));
    return v;
  }
  std::int64_t integer_in_or(std::string_view key, std::int64_t lo, std::int64_t hi,
                             std::int64_t fallback) const {
    return has(key) ? integer_in(key, lo, hi) : fallback;
  }
  double number_or(std::string_view key, double fallback) const {
    if (!has(key)) return fallback;
    double v;
    if (at(key).get(v)) fail(key, "must be a number");
    return v;
  }
  simdjson::dom::array array(std::string_view key) const {
    simdjson::dom::array v;
    if (at(key).get(v)) fail(key, "must be an array");
    return v;
  }
  simdjson::dom::object object(std::string_view key) const {
    simdjson::dom::object v;
    if (at(key).get(v)) fail(key, "must be an object");
    return v;
  }
  [[noreturn]] void fail(std::string_view key, std::string_view what) const {
    throw_invalid("tokenizer.json: " + where_ + ": field '" + std::string(key) + "' " +
                  std::string(what));
  }

 private:
  Json obj_;
  std::string where_;
};

// The "type" of a component object, for dispatch.
inline std::string component_type(Json obj, std::string_view role) {
  Fields f(obj, std::string(role));
  return f.str("type");
}

}  // namespace rank_rerank::tok
