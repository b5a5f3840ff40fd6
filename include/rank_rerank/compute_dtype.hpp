// The precision encoders compute in (their "dtype" option).
#pragma once

#include <string_view>

#include "rank_rerank/tensor.hpp"

namespace rank_rerank {

// "float32" / "fp32" / "f32", "float16" / "fp16" / "half", "bfloat16" / "bf16" (case-insensitive).
// Throws Error (invalid_argument) naming the text and the accepted names. Only f32, f16 and bf16
// are compute dtypes; dtype_name() (tensor.hpp) gives the canonical name back.
DType parse_compute_dtype(std::string_view text);

}  // namespace rank_rerank
