// Internal helpers around WeightDType.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rank_rerank/weights.hpp"

namespace rank_rerank::io {

// The dtype with this safetensors name ("F32", "BF16", ...), if any.
std::optional<WeightDType> weight_dtype_from_name(std::string_view name) noexcept;
// "BOOL, U8, ...": every accepted name, for error messages.
std::string weight_dtype_names();
// Alignment that typed access to one element needs (1 for byte-sized and sub-byte formats).
std::size_t weight_dtype_alignment(WeightDType dtype) noexcept;
// "[2, 3]"
std::string shape_string(std::span<const std::int64_t> shape);

}  // namespace rank_rerank::io
