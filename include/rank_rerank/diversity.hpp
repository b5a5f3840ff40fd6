// Diversity-aware selection of k candidates out of n: Maximal Marginal Relevance and greedy
// MAP inference for a determinantal point process. Each works either on candidate embeddings
// [n, d] (similarities computed here, in float64) or on a given similarity matrix [n, n]; both
// take one relevance score per candidate.
//
// MMR (Carbonell & Goldstein 1998), as the seed crate defines it: relevance r is min-max scaled
// to [0, 1] (all 1 when max - min <= 1e-9; scaling can be switched off), then each step picks
//   argmax_i  lambda * r_i - (1 - lambda) * max_{s selected} sim(i, s)
// (the max is 0 before anything is selected).
//
// DPP (Chen, Zhang & Zhou 2018, "Fast Greedy MAP Inference for Determinantal Point Process"),
// kernel L = diag(q) S diag(q) with quality q_i = exp(alpha * r_i) as in the seed crate. Each
// step adds the item with the largest log-det gain log det L_{Y+j} - log det L_Y
// = 2 alpha r_j + log s_j, where s_j is j's residual similarity after the incremental Cholesky
// update (O(k^2 n) after the kernel; with embeddings, O(k n d) more to form kernel rows).
// Working in log space means exp(alpha r) never overflows.
//
// Selection stops before k items when no remaining item can add to det L: every residual s_j
// is <= epsilon (the rest lie in the span of the selection). With stop_at_nonpositive_gain the
// greedy also stops once the best log-det gain is <= 0 (det L would not grow: the unconstrained
// MAP criterion).
//
// Ties go to the lowest candidate index. Relevance and similarity values must be finite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rank_rerank/maxsim.hpp"
#include "rank_rerank/tensor.hpp"

namespace rank_rerank {

struct MmrOptions {
  std::size_t k = 10;   // items to select; must be <= n
  double lambda = 0.5;  // in [0, 1]: 1 = relevance only, 0 = diversity only
  // Embedding input only: cosine (zero vectors have similarity 0 with everything) or dot.
  Similarity similarity = Similarity::cosine;
  bool normalize_relevance = true;  // min-max scale relevance to [0, 1] first
};

struct DppOptions {
  std::size_t k = 10;                          // items to select at most; must be <= n
  double alpha = 1.0;                          // quality exponent, >= 0: 0 ignores relevance
  Similarity similarity = Similarity::cosine;  // embedding input only
  double epsilon = 1e-10;                      // stop when every residual similarity is <= epsilon
  bool stop_at_nonpositive_gain = false;
};

// Selected candidate indices in selection order, and the objective value that won each step
// (MMR score, or DPP log-det gain).
struct Selection {
  std::vector<std::int64_t> indices;
  std::vector<double> gains;
};

Selection mmr(const MatrixView& embeddings, std::span<const float> relevance,
              const MmrOptions& options = {});
// `similarity` is [n, n]; only sim(i, s) for selected s is read, so it need not be symmetric.
Selection mmr_from_similarity(const MatrixView& similarity, std::span<const float> relevance,
                              const MmrOptions& options = {});

Selection dpp(const MatrixView& embeddings, std::span<const float> relevance,
              const DppOptions& options = {});
// `similarity` is S [n, n], read as symmetric positive semi-definite (row j is used for item j).
Selection dpp_from_similarity(const MatrixView& similarity, std::span<const float> relevance,
                              const DppOptions& options = {});

}  // namespace rank_rerank
