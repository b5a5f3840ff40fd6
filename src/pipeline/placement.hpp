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

// "auto" picks Device::automatic() (CUDA when usable, else the CPU); an explicit device must be
// usable (require_usable). The dtype is parsed by parse_compute_dtype. float16 / bfloat16 need
// a CUDA device: asked for explicitly on the CPU they are an error, after an automatic fallback to
// the CPU the encoder computes in float32.
Placement resolve_placement(std::string_view device, std::string_view dtype);

}  // namespace rank_rerank::pipeline
