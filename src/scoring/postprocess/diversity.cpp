// MMR and greedy DPP selection (definitions in include/rank_rerank/diversity.hpp). Both read the
// similarity one row or column at a time, so with embeddings the n x n matrix is never formed:
// a step costs n float64 dot products over the (normalised) embeddings.
#include "rank_rerank/diversity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "rank_rerank/error.hpp"
#include "scoring/postprocess/dot_kernels.hpp"

namespace rank_rerank {
namespace {

// Similarities of one item to every candidate, from embeddings or from a given matrix.
class SimilaritySource {
 public:
  // Embeddings: copied to float64, rows scaled to unit length for cosine (zero rows stay zero).
  SimilaritySource(const MatrixView& embeddings, Similarity similarity)
      : n_(embeddings.rows),
        dim_(embeddings.cols),
        values_(embeddings.data, embeddings.data + n_ * dim_),
        cosine_(similarity == Similarity::cosine) {
    if (cosine_) {
      for (std::size_t i = 0; i < n_; ++i) {
        double* row = values_.data() + i * dim_;
        double sq = 0.0;
        for (std::size_t t = 0; t < dim_; ++t) sq += row[t] * row[t];
        const double norm = std::sqrt(sq);
        if (norm > 0.0)
          for (std::size_t t = 0; t < dim_; ++t) row[t] /= norm;
      }
    }
  }
  // A given [n, n] matrix.
  explicit SimilaritySource(const MatrixView& matrix)
      : n_(matrix.rows), dim_(0), values_(matrix.data, matrix.data + n_ * n_) {}

  // out[i] = sim(j, i) (row j).
  void row(std::size_t j, double* out) const {
    if (dim_ == 0) {
      const double* r = values_.data() + j * n_;
      std::copy(r, r + n_, out);
      return;
    }
    detail::matrix_vector(values_.data(), n_, dim_, values_.data() + j * dim_, out);
  }
  // out[i] = sim(i, j) (column j); the same as row j for embeddings.
  void column(std::size_t j, double* out) const {
    if (dim_ != 0) {
      row(j, out);
      return;
    }
    for (std::size_t i = 0; i < n_; ++i) out[i] = values_[i * n_ + j];
  }
  // sim(j, j); exactly 1 (or 0 for a zero vector) under cosine, so equally relevant
  // candidates tie exactly instead of by rounding noise.
  double self(std::size_t j) const {
    if (dim_ == 0) return values_[j * n_ + j];
    const double* r = values_.data() + j * dim_;
    double sq = 0.0;
    for (std::size_t t = 0; t < dim_; ++t) sq += r[t] * r[t];
    if (cosine_) return sq > 0.0 ? 1.0 : 0.0;
    return sq;
  }

 private:
  std::size_t n_;
  std::size_t dim_;  // 0 for a given matrix
  std::vector<double> values_;
  bool cosine_ = false;
};

void check_finite(const float* v, std::size_t count, const std::string& what) {
  for (std::size_t i = 0; i < count; ++i)
    if (!std::isfinite(v[i]))
      throw_invalid(what + " must be finite, got " + std::to_string(v[i]) + " at flat index " +
                    std::to_string(i));
}

void check_common(std::size_t n, std::span<const float> relevance, std::size_t k,
                  const std::string& fn) {
  if (relevance.size() != n)
    throw_invalid(fn + ": relevance has " + std::to_string(relevance.size()) +
                  " scores but there are " + std::to_string(n) + " candidates");
  if (k > n)
    throw_invalid(fn + ": k = " + std::to_string(k) + " exceeds the " + std::to_string(n) +
                  " candidates");
  check_finite(relevance.data(), relevance.size(), fn + ": relevance");
}

void check_embeddings(const MatrixView& e, std::span<const float> relevance, std::size_t k,
                      Similarity similarity, const std::string& fn) {
  if (e.cols == 0)
    throw_invalid(fn + ": embeddings must have a positive dimension, got shape (" +
                  std::to_string(e.rows) + ", 0)");
  if (e.rows > 0 && e.data == nullptr) throw_invalid(fn + ": embeddings data is null");
  if (similarity != Similarity::cosine && similarity != Similarity::dot)
    throw_invalid(fn + ": unknown similarity");
  check_common(e.rows, relevance, k, fn);
  check_finite(e.data, e.rows * e.cols, fn + ": embeddings");
}

void check_matrix(const MatrixView& s, std::span<const float> relevance, std::size_t k,
                  const std::string& fn) {
  if (s.rows != s.cols)
    throw_invalid(fn + ": similarity must be square [n, n], got shape (" + std::to_string(s.rows) +
                  ", " + std::to_string(s.cols) + ")");
  if (s.rows > 0 && s.data == nullptr) throw_invalid(fn + ": similarity data is null");
  check_common(s.rows, relevance, k, fn);
  check_finite(s.data, s.rows * s.cols, fn + ": similarity");
}

Selection run_mmr(const SimilaritySource& sim, std::span<const float> relevance,
                  const MmrOptions& options, const std::string& fn) {
  if (!(options.lambda >= 0.0 && options.lambda <= 1.0))
    throw_invalid(fn + ": lambda must lie in [0, 1], got " + std::to_string(options.lambda));
  const std::size_t n = relevance.size();
  std::vector<double> rel(relevance.begin(), relevance.end());
  if (options.normalize_relevance && n > 0) {
    double lo = rel[0];
    double hi = rel[0];
    for (const double r : rel) {
      lo = std::min(lo, r);
      hi = std::max(hi, r);
    }
    const double range = hi - lo;
    for (double& r : rel) r = range > 1e-9 ? (r - lo) / range : 1.0;
  }
  Selection out;
  std::vector<double> max_sim(n, 0.0);
  std::vector<bool> taken(n, false);
  std::vector<double> column(n);
  for (std::size_t step = 0; step < options.k; ++step) {
    std::size_t best = n;
    double best_score = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (taken[i]) continue;
      const double score = options.lambda * rel[i] - (1.0 - options.lambda) * max_sim[i];
      if (best == n || score > best_score) {
        best = i;
        best_score = score;
      }
    }
    taken[best] = true;
    out.indices.push_back(static_cast<std::int64_t>(best));
    out.gains.push_back(best_score);
    sim.column(best, column.data());
    for (std::size_t i = 0; i < n; ++i)
      if (!taken[i]) max_sim[i] = step == 0 ? column[i] : std::max(max_sim[i], column[i]);
  }
  return out;
}

Selection run_dpp(const SimilaritySource& sim, std::span<const float> relevance,
                  const DppOptions& options, const std::string& fn) {
  if (!(options.alpha >= 0.0) || !std::isfinite(options.alpha))
    throw_invalid(fn + ": alpha must be finite and >= 0, got " + std::to_string(options.alpha));
  if (!(options.epsilon >= 0.0) || !std::isfinite(options.epsilon))
    throw_invalid(fn + ": epsilon must be finite and >= 0, got " + std::to_string(options.epsilon));
  const std::size_t n = relevance.size();
  std::vector<double> residual(n);
  for (std::size_t i = 0; i < n; ++i) residual[i] = sim.self(i);
  std::vector<bool> taken(n, false);
  // Row t holds the t-th column of the Cholesky factor of S restricted to the selection,
  // extended to every candidate.
  std::vector<double> chol(options.k * n);
  std::vector<double> kernel_row(n);
  std::vector<double> projected(n);
  Selection out;
  for (std::size_t step = 0; step < options.k; ++step) {
    std::size_t best = n;
    double best_gain = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < n; ++i) {
      if (taken[i] || !(residual[i] > options.epsilon)) continue;
      const double gain = 2.0 * options.alpha * relevance[i] + std::log(residual[i]);
      if (best == n || gain > best_gain) {
        best = i;
        best_gain = gain;
      }
    }
    if (best == n || (options.stop_at_nonpositive_gain && best_gain <= 0.0)) break;
    taken[best] = true;
    out.indices.push_back(static_cast<std::int64_t>(best));
    out.gains.push_back(best_gain);
    if (step + 1 == options.k) break;

    sim.row(best, kernel_row.data());
    // projected[i] = <c_best, c_i> over the Cholesky rows so far.
    std::fill(projected.begin(), projected.end(), 0.0);
    for (std::size_t t = 0; t < step; ++t) {
      const double* c_t = chol.data() + t * n;
      const double weight = c_t[best];
      for (std::size_t i = 0; i < n; ++i) projected[i] += weight * c_t[i];
    }
    const double pivot = std::sqrt(residual[best]);
    double* e = chol.data() + step * n;
    for (std::size_t i = 0; i < n; ++i) {
      if (taken[i]) continue;
      e[i] = (kernel_row[i] - projected[i]) / pivot;
      residual[i] -= e[i] * e[i];
    }
  }
  return out;
}

}  // namespace

Selection mmr(const MatrixView& embeddings, std::span<const float> relevance,
              const MmrOptions& options) {
  check_embeddings(embeddings, relevance, options.k, options.similarity, "mmr");
  return run_mmr(SimilaritySource(embeddings, options.similarity), relevance, options, "mmr");
}

Selection mmr_from_similarity(const MatrixView& similarity, std::span<const float> relevance,
                              const MmrOptions& options) {
  check_matrix(similarity, relevance, options.k, "mmr_from_similarity");
  return run_mmr(SimilaritySource(similarity), relevance, options, "mmr_from_similarity");
}

Selection dpp(const MatrixView& embeddings, std::span<const float> relevance,
              const DppOptions& options) {
  check_embeddings(embeddings, relevance, options.k, options.similarity, "dpp");
  return run_dpp(SimilaritySource(embeddings, options.similarity), relevance, options, "dpp");
}

Selection dpp_from_similarity(const MatrixView& similarity, std::span<const float> relevance,
                              const DppOptions& options) {
  check_matrix(similarity, relevance, options.k, "dpp_from_similarity");
  return run_dpp(SimilaritySource(similarity), relevance, options, "dpp_from_similarity");
}

}  // namespace rank_rerank
