// Non-owning views over token vectors: the data layouts every scoring function accepts.
//
// A token matrix is row-major [rows, dim], contiguous (row i starts at i * row_bytes).
// Many documents are packed: one token matrix plus offsets[n_docs + 1]; document i owns rows
// [offsets[i], offsets[i+1]). A padded [n_docs, max_len, dim] form with lengths or a mask is
// accepted for interop with numpy / torch batches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace rank_rerank {

// Storage type of a row of token vectors.
//   f32, f16, bf16: one value per dimension.
//   i8:  one signed byte per dimension, plus one float scale per row (value = byte * scale).
//   bit: one bit per dimension, MSB first within each byte, ceil(dim / 8) bytes per row:
//        identical to numpy.packbits(v > 0, axis=-1). A set bit decodes to +1, a clear bit to -1.
enum class DType : std::uint8_t { f32, f16, bf16, i8, bit };

std::string_view dtype_name(DType dtype) noexcept;

// Bytes one row of `dim` values occupies in `dtype` (bit rows round up to whole bytes).
std::size_t row_bytes(DType dtype, std::size_t dim) noexcept;

// Row-major float matrix [rows, cols].
struct MatrixView {
  const float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  const float* row(std::size_t i) const noexcept { return data + i * cols; }
};

// Writable row-major float matrix [rows, cols].
struct MutableMatrixView {
  float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  float* row(std::size_t i) const noexcept { return data + i * cols; }
};

// Token vectors in any storage dtype, row-major, one row per token.
struct TokenMatrix {
  DType dtype = DType::f32;
  const void* data = nullptr;  // rows * row_bytes(dtype, dim) bytes
  std::size_t rows = 0;
  std::size_t dim = 0;
  const float* scales = nullptr;  // i8 only: one scale per row; must be null otherwise

  static TokenMatrix from(MatrixView m) noexcept { return {DType::f32, m.data, m.rows, m.cols}; }
  // Rows [begin, end) as a matrix of their own.
  TokenMatrix slice(std::size_t begin, std::size_t end) const noexcept;
};

// Documents packed back to back: document i is tokens rows [offsets[i], offsets[i+1]).
// offsets has n_docs + 1 entries, starts at 0, never decreases and ends at tokens.rows.
struct PackedTokens {
  TokenMatrix tokens;
  std::span<const std::int64_t> offsets;

  std::size_t size() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
  TokenMatrix item(std::size_t i) const noexcept {
    return tokens.slice(static_cast<std::size_t>(offsets[i]),
                        static_cast<std::size_t>(offsets[i + 1]));
  }
};

// Documents padded to a common length: tokens.rows == n_docs * max_len. The valid tokens of
// document i are given either by lengths[i] (the first lengths[i] rows are valid) or by
// mask[i * max_len + j] != 0 (any subset of rows is valid). Exactly one of lengths / mask is
// non-empty.
struct PaddedTokens {
  TokenMatrix tokens;
  std::size_t n_docs = 0;
  std::size_t max_len = 0;
  std::span<const std::int64_t> lengths;
  std::span<const std::uint8_t> mask;
};

// Checks a view and throws Error naming `what` and the offending shape or value.
void validate(const TokenMatrix& m, std::string_view what);
void validate(const PackedTokens& p, std::string_view what);
void validate(const PaddedTokens& p, std::string_view what);

}  // namespace rank_rerank
