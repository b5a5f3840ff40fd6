#include "io/strict_json.hpp"

#include <set>
#include <string>
#include <vector>

#include "rank_rerank/error.hpp"

namespace rank_rerank::io {
namespace {

[[noreturn]] void throw_parse_error(std::string_view what, const nlohmann::json::exception& e) {
  throw_invalid(std::string(what) + ": malformed JSON: " + e.what());
}

}  // namespace

nlohmann::json parse_json_strict(std::string_view text, std::string_view what) {
  // One set of keys per object currently open; the callback sees keys in document order.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  const auto track_keys = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) {
      open_objects.emplace_back();
    } else if (event == Event::object_end) {
      open_objects.pop_back();
    } else if (event == Event::key && duplicate.empty()) {
      if (!open_objects.back().insert(parsed.get<std::string>()).second)
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text.begin(), text.end(), track_keys);
  } catch (const nlohmann::json::exception& e) {
    throw_parse_error(what, e);
  }
  if (!duplicate.empty())
    throw_invalid(std::string(what) + ": key '" + duplicate + "' appears twice");
  return value;
}

nlohmann::json parse_json(std::string_view text, std::string_view what) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw_parse_error(what, e);
  }
}

std::string_view json_type_name(const nlohmann::json& value) noexcept {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "a binary value";
  }
}

}  // namespace rank_rerank::io
