// Device and precision resolution for the Reranker.
#include "pipeline/placement.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "rank_rerank/compute_dtype.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::pipeline {

Placement resolve_placement(std::string_view device, std::string_view dtype,
                            std::string_view devices) {
  Placement p;
  p.dtype = parse_compute_dtype(dtype);
  std::string d(device);
  std::transform(d.begin(), d.end(), d.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
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
    p.device = Device::automatic();
    p.devices = {p.device};
    if (p.device.kind == DeviceKind::cpu && p.dtype == DType::f16) p.dtype = DType::f32;
    return p;
  } else {
    p.device = Device::parse(device);
    require_usable(p.device);
    p.devices = {p.device};
  }
  if (p.device.kind == DeviceKind::cpu && p.dtype == DType::f16)
    throw_unsupported(
        "dtype float16 needs a CUDA device; the CPU computes in float32 or "
        "bfloat16");
  return p;
}

}  // namespace rank_rerank::pipeline
