// Compressed storage for document token vectors, and the way back to float32.
//
//   f16 / bf16: round to nearest even.
//   i8:  symmetric per-row scale = max|x| / 127, byte = round(x / scale) (a zero row has scale 0).
//   bit: bit = x > 0, MSB first, ceil(dim / 8) bytes per row (numpy.packbits(x > 0, axis=-1));
//        decodes to +1 / -1.
#pragma once

#include <cstdint>
#include <vector>

#include "rank_rerank/tensor.hpp"

namespace rank_rerank {

// Owns quantized rows and hands out a TokenMatrix view of them.
struct QuantizedTokens {
  DType dtype = DType::f32;
  std::size_t rows = 0;
  std::size_t dim = 0;
  std::vector<std::uint8_t> bytes;  // rows * row_bytes(dtype, dim)
  std::vector<float> scales;        // i8 only

  TokenMatrix view() const noexcept;
};

QuantizedTokens quantize(const MatrixView& m, DType dtype);

// Decodes any TokenMatrix to float32 rows: out.rows == m.rows, out.cols == m.dim.
void dequantize(const TokenMatrix& m, const MutableMatrixView& out);
std::vector<float> dequantize(const TokenMatrix& m);

// Scalar conversions (round to nearest even), exposed for bindings and tests.
std::uint16_t float_to_f16(float x) noexcept;
float f16_to_float(std::uint16_t h) noexcept;
std::uint16_t float_to_bf16(float x) noexcept;
float bf16_to_float(std::uint16_t h) noexcept;

}  // namespace rank_rerank
