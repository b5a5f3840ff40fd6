// Row-wise element kernels of the CPU backend (Highway, dispatched at run time). Each call is
// single-threaded: the backend splits rows over its OpenMP threads and calls these per block.
#pragma once

#include <cstddef>

#include "backend/backend.hpp"

namespace rank_rerank::backend::cpu {

// y[r * ld + c] = act(y[r * ld + c] + bias[c]) for r < rows, c < cols; bias may be null.
void bias_activation(float* y, std::size_t rows, std::size_t cols, std::size_t ld,
                     const float* bias, Activation activation);

// x = LayerNorm(x + residual) * gamma + beta per row of `cols`; residual may be null. Mean and
// variance (biased, as torch) are computed in two passes.
void layernorm_rows(float* x, const float* residual, std::size_t rows, std::size_t cols,
                    const float* gamma, const float* beta, float eps);

// Each row of s (row stride ld) replaced by its softmax over the first `cols` entries.
void softmax_rows(float* s, std::size_t rows, std::size_t cols, std::size_t ld);

// Each row divided by max(||row||, 1e-12).
void l2_normalize_rows(float* x, std::size_t rows, std::size_t cols);

}  // namespace rank_rerank::backend::cpu
