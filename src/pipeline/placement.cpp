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

// The encoders' public options have no device or dtype yet: they compute on the CPU in float32.
// When SentenceEncoderOptions / ColbertEncoderOptions / CrossEncoderOptions gain `device` and
// `dtype`, this becomes `return true;` and reranker.cpp's encoder_options passes them through.
bool encoders_run_on(const Device& device, DType dtype) {
  return device.kind == DeviceKind::cpu && dtype == DType::f32;
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

Placement resolve_placement(std::string_view device, std::string_view dtype) {
  Placement p;
  p.dtype = parse_compute_dtype(dtype);
  std::string d = lower(device);
  d.erase(0, d.find_first_not_of(" \t"));
  d.erase(d.find_last_not_of(" \t") + 1);
  if (d == "auto") {
    p.device = Device::automatic();
    if (p.device.kind == DeviceKind::cpu) p.dtype = DType::f32;
    if (!encoders_run_on(p.device, p.dtype)) p = {Device::cpu(), DType::f32};
    return p;
  }
  p.device = Device::parse(device);
  require_usable(p.device);
  if (p.device.kind == DeviceKind::cpu && p.dtype != DType::f32)
    throw_unsupported("dtype " + std::string(dtype_name(p.dtype)) +
                      " needs a CUDA device; the CPU computes in float32");
  if (!encoders_run_on(p.device, p.dtype))
    throw_unsupported("device " + p.device.to_string() + " with dtype " +
                      std::string(dtype_name(p.dtype)) +
                      ": this build's encoders run on the CPU in float32 only");
  return p;
}

}  // namespace rank_rerank::pipeline
