// Where a Reranker's encoder runs and in which precision, from the option strings.
#pragma once

#include <string_view>

#include "rank_rerank/device.hpp"
#include "rank_rerank/tensor.hpp"

namespace rank_rerank::pipeline {

struct Placement {
  Device device;
  DType dtype = DType::f32;
};

// "float32" / "f32" / "fp32", "float16" / "f16" / "fp16" / "half", "bfloat16" / "bf16".
// Throws Error (invalid_argument) listing them.
DType parse_compute_dtype(std::string_view text);

// "auto" picks Device::automatic() where the encoders can run there, else the CPU; an explicit
// device must be usable (require_usable) and supported by the encoders. float16 / bfloat16 need
// a CUDA device: asked for explicitly on the CPU they are an error, after an automatic fallback to
// the CPU the encoder computes in float32.
Placement resolve_placement(std::string_view device, std::string_view dtype);

}  // namespace rank_rerank::pipeline
