// Dense vector primitives: dot, cosine, norm and L2 normalisation, single and row-wise batched.
#pragma once

#include <span>
#include <vector>

#include "rank_rerank/tensor.hpp"

namespace rank_rerank {

// Throws Error when the lengths differ.
float dot(std::span<const float> a, std::span<const float> b);
// Cosine similarity; 0 when either vector has zero norm.
float cosine(std::span<const float> a, std::span<const float> b);
float norm(std::span<const float> v);
// Scales v to unit length in place; a zero vector is left as it is.
void l2_normalize(std::span<float> v);

// Row-wise over two matrices of the same shape: out[i] = f(a.row(i), b.row(i)).
std::vector<float> dot_rows(const MatrixView& a, const MatrixView& b);
std::vector<float> cosine_rows(const MatrixView& a, const MatrixView& b);
std::vector<float> norm_rows(const MatrixView& m);
void l2_normalize_rows(const MutableMatrixView& m);

}  // namespace rank_rerank
