// Score fusion: Matryoshka tail refinement, linear blending, normalisation. Arithmetic is float64
// internally, results are float32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "rank_rerank/tensor.hpp"
#include "rank_rerank/topk.hpp"

namespace rank_rerank {

struct MatryoshkaOptions {
  // Leading dimensions the first stage already used; the tail [head_dims, dim) re-scores.
  // Must be < dim.
  std::size_t head_dims = 0;
  // Weight of the first-stage score, in [0, 1]: 1 keeps it, 0 uses the tail similarity alone.
  double alpha = 0.5;
  // Keep only the best top_k (must be <= candidates); nullopt keeps all.
  std::optional<std::size_t> top_k = std::nullopt;
};

// Matryoshka refinement as the seed crate defines it: for candidate i (row i of `docs`, first
// stage score scores[i])
//   refined_i = alpha * scores[i] + (1 - alpha) * cosine(query[head:], docs_i[head:])
// where a zero tail has cosine 0. Returns the candidates best first: higher refined score first,
// ties by lower index, NaN (from a NaN score or vector value) after every number.
std::vector<Ranked> matryoshka_refine(std::span<const float> query, const MatrixView& docs,
                                      std::span<const float> scores,
                                      const MatryoshkaOptions& options);

// out[i] = alpha * a[i] + (1 - alpha) * b[i]; alpha in [0, 1]; a and b of equal length. NaN and
// infinities propagate as IEEE arithmetic says (inf with a zero weight gives NaN).
std::vector<float> blend_scores(std::span<const float> a, std::span<const float> b, double alpha);

enum class ScoreNormalization : std::uint8_t {
  // (s - min) / (max - min) over the finite scores. When max - min <= 1e-9 (constant input)
  // every finite score maps to 0.5. +inf maps to 1, -inf to 0, NaN stays NaN.
  min_max,
  // exp((s - max) / T) / sum, the max taken over finite scores (stable for any magnitude).
  // Non-finite scores get probability 0; with no finite score every output is 0.
  softmax,
  // 1 / (1 + exp(-s / T)), evaluated without overflow; +inf -> 1, -inf -> 0, NaN stays NaN.
  sigmoid,
};

// Empty input gives empty output. `temperature` (T, finite and > 0) scales softmax and sigmoid;
// min_max ignores it.
std::vector<float> normalize_scores(std::span<const float> scores, ScoreNormalization method,
                                    double temperature = 1.0);

}  // namespace rank_rerank
