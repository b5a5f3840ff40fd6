// Device and precision resolution for the Reranker.
#include "pipeline/placement.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "rank_rerank/error.hpp"

namespace rank_rerank::pipeline {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

DType parse_compute_dtype(std::string_view text) {
  const std::string t = lower(text);
  if (t == "float32" || t == "f32" || t == "fp32") return DType::f32;
  if (t == "float16" || t == "f16" || t == "fp16" || t == "half") return DType::f16;
  if (t == "bfloat16" || t == "bf16") return DType::bf16;
  throw_invalid("dtype '" + std::string(text) +
                "' is not supported (expected float32, float16 or bfloat16)");
}

Placement resolve_placement(std::string_view device, std::string_view dtype,
                            std::string_view devices) {
  Placement p;
  p.dtype = parse_compute_dtype(dtype);
  std::string d = lower(device);
  d.erase(0, d.find_first_not_of(" \t"));
  d.erase(d.find_last_not_of(" \t") + 1);
  if (!devices.empty()) {
    if (d != "auto")
      throw_invalid("give either device or devices, not both (device '" + std::string(device) +
                    "', devices '" + std::string(devices) + "')");
    p.devices = parse_devices(devices);
    for (const Device& listed : p.devices) require_usable(listed);
    p.device = p.devices.front();
  } else if (d == "auto") {
    // "auto" keeps the Reranker on the CPU in float32, as before the encoders ran on CUDA: the
    // Reranker's tests and references assume it. Explicit devices (and device lists) use CUDA.
    p = {Device::cpu(), {Device::cpu()}, DType::f32};
    return p;
  } else {
    p.device = Device::parse(device);
    require_usable(p.device);
    p.devices = {p.device};
  }
  if (p.device.kind == DeviceKind::cpu && p.dtype != DType::f32)
    throw_unsupported("dtype " + std::string(dtype_name(p.dtype)) +
                      " needs a CUDA device; the CPU computes in float32");
  return p;
}

}  // namespace rank_rerank::pipeline
