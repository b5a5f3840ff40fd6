// Containers the encoders return.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rank_rerank {

// Row-major [rows, dim].
struct Embeddings {
  std::vector<float> values;
  std::size_t rows = 0;
  std::size_t dim = 0;
};

// One matrix per text, packed: text i owns rows [offsets[i], offsets[i + 1]) of values
// ([offsets.back(), dim], row-major).
struct PackedEmbeddings {
  std::vector<float> values;
  std::vector<std::int64_t> offsets;
  std::size_t dim = 0;
};

}  // namespace rank_rerank
