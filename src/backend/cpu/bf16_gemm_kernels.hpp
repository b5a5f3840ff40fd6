// The kernels behind linear_bf16 (bf16_linear.hpp), each compiled for its own instruction set
// with target attributes. Only call one after bf16_kernel_available() said yes for it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/backend.hpp"

namespace rank_rerank::backend::cpu {

// Rows of the A operand (activations) per block of the kernels: two AMX tiles.
inline constexpr std::size_t kRowBlock = 32;

// Activations rounded to bf16: `padded_rows` (a multiple of kRowBlock) rows of `depth`
// (padded_depth(in)) values, row-major; the padding is zeros, so it adds nothing to any sum.
struct Bf16Rows {
  const std::uint16_t* data = nullptr;
  std::size_t rows = 0;  // the real ones
  std::size_t padded_rows = 0;
  std::size_t depth = 0;
};

// bf16_gemm_avx512.cpp: x [rows, in] rounded to nearest even (as vcvtneps2bf16: subnormals
// become zero) into `out`, laid out as Bf16Rows. Needs AVX512_BF16.
void round_rows_to_bf16(const float* x, std::size_t rows, std::size_t in, std::size_t padded_rows,
                        std::size_t depth, std::uint16_t* out);

// y[r * ldy + c - c0] for r < a.rows and c0 <= c < c1 (c0 a multiple of 16), from the packed
// weight (bf16_linear.hpp). gemm_bf16_avx512 needs AVX512_BF16, gemm_bf16_amx AMX-BF16; the AMX
// kernel also adds bias[c] (bias may be null) and applies the activation, block by block while
// the block is in cache.
void gemm_bf16_avx512(const Bf16Rows& a, const std::uint16_t* packed, std::size_t c0,
                      std::size_t c1, float* y, std::size_t ldy);
void gemm_bf16_amx(const Bf16Rows& a, const std::uint16_t* packed, std::size_t c0, std::size_t c1,
                   float* y, std::size_t ldy, const float* bias, Activation activation);

}  // namespace rank_rerank::backend::cpu
