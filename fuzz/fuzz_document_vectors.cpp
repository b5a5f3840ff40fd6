// Any bytes as a document vectors file: parsing must either succeed with every id and row inside
// the input, or throw rank_rerank::Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "rank_rerank/document_vectors.hpp"
#include "rank_rerank/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
  try {
    const rank_rerank::DocumentVectors v = rank_rerank::DocumentVectors::parse(file, "fuzz");
    const rank_rerank::PackedTokens packed = v.packed();
    const auto* begin = reinterpret_cast<const std::byte*>(data);
    const auto* rows = static_cast<const std::byte*>(packed.tokens.data);
    const std::size_t bytes = packed.tokens.rows * rank_rerank::row_bytes(v.dtype(), v.dim());
    if (bytes > 0 && (rows < begin || rows + bytes > begin + size)) std::abort();
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string_view id = v.id(i);
      if (id.empty() || v.find(id) != i) std::abort();
      if (packed.offsets[i] > packed.offsets[i + 1]) std::abort();
    }
  } catch (const rank_rerank::Error&) {
  }
  return 0;
}
