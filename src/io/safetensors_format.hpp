// The safetensors layout: an 8-byte little-endian header length, a JSON header, then the tensor
// bytes packed back to back. Parsing works on bytes so the fuzzer can drive it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rank_rerank/weights.hpp"

namespace rank_rerank::io {

struct SafetensorsEntry {
  std::string name;
  WeightDType dtype = WeightDType::f32;
  std::vector<std::int64_t> shape;
  std::size_t begin = 0;  // byte offsets into the data section
  std::size_t end = 0;
};

struct SafetensorsLayout {
  std::size_t data_offset = 0;            // where the data section starts in the file
  std::vector<SafetensorsEntry> entries;  // in name order
  std::map<std::string, std::string, std::less<>> metadata;
};

// The safetensors reference limits the header to 100 MB; a larger length is corruption.
inline constexpr std::size_t kMaxSafetensorsHeader = 100'000'000;

// Validates everything the format promises: header length within the file, well-formed JSON
// object without repeated keys, known dtypes, non-negative shapes whose element count times the
// dtype size equals the tensor's byte span, spans inside the data section, neither overlapping
// nor leaving gaps, and covering it to the end. Throws Error naming `source` and the tensor.
SafetensorsLayout parse_safetensors(std::span<const std::byte> file, std::string_view source);

}  // namespace rank_rerank::io
