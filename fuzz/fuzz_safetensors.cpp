// Any bytes as a safetensors file: parsing must either succeed with spans inside the input or
// throw rank_rerank::Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "io/safetensors_format.hpp"
#include "rank_rerank/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
  try {
    const auto layout = rank_rerank::io::parse_safetensors(file, "fuzz");
    for (const auto& e : layout.entries)
      if (e.begin > e.end || layout.data_offset + e.end > size) std::abort();
  } catch (const rank_rerank::Error&) {
  }
  return 0;
}
