// Row gather for the CUDA backend (copy_rows). Rows are moved as raw words, so the element type
// does not matter; 16-byte words whenever the row width and both buffers allow.
#include <cstdint>

#include "backend/cuda/encoder_kernels.hpp"

namespace rank_rerank::backend::cuda {
namespace {

// Thread i copies word i % row_words of pair i / row_words.
template <typename Word>
__global__ void copy_rows_kernel(const Word* source, const std::int64_t* from, Word* destination,
                                 const std::int64_t* to, std::size_t pairs, std::size_t row_words) {
  const std::size_t total = pairs * row_words;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const std::size_t pair = i / row_words;
    const std::size_t word = i % row_words;
    destination[static_cast<std::size_t>(to[pair]) * row_words + word] =
        source[static_cast<std::size_t>(from[pair]) * row_words + word];
  }
}

template <typename Word>
void launch(cudaStream_t stream, const void* source, const std::int64_t* from, void* destination,
            const std::int64_t* to, std::size_t pairs, std::size_t row_bytes) {
  const std::size_t row_words = row_bytes / sizeof(Word);
  const std::size_t blocks = (pairs * row_words + 255) / 256;
  copy_rows_kernel<Word><<<static_cast<unsigned>(blocks < 8192 ? blocks : 8192), 256, 0, stream>>>(
      static_cast<const Word*>(source), from, static_cast<Word*>(destination), to, pairs,
      row_words);
}

bool divides(std::size_t word, std::size_t row_bytes, const void* a, const void* b) {
  return row_bytes % word == 0 && reinterpret_cast<std::uintptr_t>(a) % word == 0 &&
         reinterpret_cast<std::uintptr_t>(b) % word == 0;
}

}  // namespace

void copy_rows(cudaStream_t stream, const void* source, const std::int64_t* from, void* destination,
               const std::int64_t* to, std::size_t pairs, std::size_t row_bytes) {
  if (pairs == 0 || row_bytes == 0) return;
  if (divides(16, row_bytes, source, destination))
    launch<uint4>(stream, source, from, destination, to, pairs, row_bytes);
  else if (divides(4, row_bytes, source, destination))
    launch<std::uint32_t>(stream, source, from, destination, to, pairs, row_bytes);
  else
    launch<std::uint16_t>(stream, source, from, destination, to, pairs, row_bytes);
}

}  // namespace rank_rerank::backend::cuda
