// Where a Reranker's encoder runs and in which precision, from the option strings.
#pragma once

#include <string_view>
#include <vector>

#include "rank_rerank/device.hpp"
#include "rank_rerank/tensor.hpp"

namespace rank_rerank::pipeline {

struct Placement {
  Device device;                // where the encoder runs (the first of `devices`)
  std::vector<Device> devices;  // every device it runs on: one, unless a device list was given
  DType dtype = DType::f32;
};

// "auto" picks Device::automatic() (CUDA when usable, else the CPU, where float16 becomes
// float32); an explicit device ("cpu", "cuda:N") must be usable (require_usable). The CPU
// computes in float32 or bfloat16: float16 asked for explicitly on the CPU is an error. A
// non-empty `devices` (parse_devices: "cuda:0,cuda:1", "cuda:all") lists several devices instead;
// `device` must then be "auto" (giving both is an error), and every listed device must be usable.
// The dtype is parsed by parse_compute_dtype.
Placement resolve_placement(std::string_view device, std::string_view dtype,
                            std::string_view devices = "");

}  // namespace rank_rerank::pipeline
