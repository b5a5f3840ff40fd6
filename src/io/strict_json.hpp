// JSON parsing for files whose meaning would silently change under lenient parsing.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace rank_rerank::io {

// Parses `text` as JSON. Throws Error (invalid_argument) naming `what` and the parser's position
// on malformed text, and on a key repeated within one object: nlohmann (like Python's json)
// would keep the last one, which for a safetensors header would hide a second tensor of the
// same name.
nlohmann::json parse_json_strict(std::string_view text, std::string_view what);

// Parses `text` as JSON, keeping the last value of a repeated key as Python's json module does.
// Throws Error naming `what` and the position on malformed text.
nlohmann::json parse_json(std::string_view text, std::string_view what);

// "a string", "an integer", "a number", ...: the JSON type of `value` with its article, for
// error messages.
std::string_view json_type_name(const nlohmann::json& value) noexcept;

}  // namespace rank_rerank::io
