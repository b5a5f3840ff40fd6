// Matryoshka refinement, score blending and normalisation (see include/rank_rerank/fusion.hpp).
#include "rank_rerank/fusion.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "rank_rerank/error.hpp"

namespace rank_rerank {
namespace {

void check_alpha(double alpha, const char* fn) {
  if (!(alpha >= 0.0 && alpha <= 1.0))
    throw_invalid(std::string(fn) + ": alpha must lie in [0, 1], got " + std::to_string(alpha));
}

double tail_cosine(const float* q, const float* d, std::size_t count) {
  double dot = 0.0;
  double qq = 0.0;
  double dd = 0.0;
  for (std::size_t t = 0; t < count; ++t) {
    dot += static_cast<double>(q[t]) * d[t];
    qq += static_cast<double>(q[t]) * q[t];
    dd += static_cast<double>(d[t]) * d[t];
  }
  if (qq == 0.0 || dd == 0.0) return 0.0;
  return dot / (std::sqrt(qq) * std::sqrt(dd));
}

// Sigmoid without overflow: exp only ever sees a non-positive argument.
double stable_sigmoid(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

}  // namespace

std::vector<Ranked> matryoshka_refine(std::span<const float> query, const MatrixView& docs,
                                      std::span<const float> scores,
                                      const MatryoshkaOptions& options) {
  const std::size_t dim = query.size();
  if (docs.cols != dim)
    throw_invalid("matryoshka_refine: docs have dimension " + std::to_string(docs.cols) +
                  " but the query has " + std::to_string(dim));
  if (options.head_dims >= dim)
    throw_invalid("matryoshka_refine: head_dims = " + std::to_string(options.head_dims) +
                  " leaves no tail dimensions of the " + std::to_string(dim) +
                  "-dimensional vectors");
  if (scores.size() != docs.rows)
    throw_invalid("matryoshka_refine: " + std::to_string(scores.size()) + " scores for " +
                  std::to_string(docs.rows) + " candidate rows");
  if (docs.rows > 0 && docs.data == nullptr) throw_invalid("matryoshka_refine: docs data is null");
  check_alpha(options.alpha, "matryoshka_refine");
  const std::size_t n = docs.rows;
  const std::size_t keep = options.top_k.value_or(n);
  if (keep > n)
    throw_invalid("matryoshka_refine: top_k = " + std::to_string(keep) + " exceeds the " +
                  std::to_string(n) + " candidates");

  const std::size_t head = options.head_dims;
  std::vector<double> refined(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double tail = tail_cosine(query.data() + head, docs.row(i) + head, dim - head);
    refined[i] = options.alpha * scores[i] + (1.0 - options.alpha) * tail;
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t l, std::size_t r) {
    const double a = refined[l];
    const double b = refined[r];
    return a > b || (!std::isnan(a) && std::isnan(b));
  });
  std::vector<Ranked> ranked(keep);
  for (std::size_t k = 0; k < keep; ++k)
    ranked[k] = {static_cast<std::int64_t>(order[k]), static_cast<float>(refined[order[k]])};
  return ranked;
}

std::vector<float> blend_scores(std::span<const float> a, std::span<const float> b, double alpha) {
  if (a.size() != b.size())
    throw_invalid("blend_scores: a has " + std::to_string(a.size()) + " scores but b has " +
                  std::to_string(b.size()));
  check_alpha(alpha, "blend_scores");
  std::vector<float> out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    out[i] = static_cast<float>(alpha * a[i] + (1.0 - alpha) * b[i]);
  return out;
}

std::vector<float> normalize_scores(std::span<const float> scores, ScoreNormalization method,
                                    double temperature) {
  if (!(temperature > 0.0) || !std::isfinite(temperature))
    throw_invalid("normalize_scores: temperature must be finite and > 0, got " +
                  std::to_string(temperature));
  std::vector<float> out(scores.size());
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  for (const float s : scores)
    if (std::isfinite(s)) {
      lo = std::min(lo, static_cast<double>(s));
      hi = std::max(hi, static_cast<double>(s));
    }
  const bool any_finite = lo <= hi;
  switch (method) {
    case ScoreNormalization::min_max: {
      const double range = any_finite ? hi - lo : 0.0;
      for (std::size_t i = 0; i < scores.size(); ++i) {
        const double s = scores[i];
        if (std::isnan(s))
          out[i] = std::numeric_limits<float>::quiet_NaN();
        else if (std::isinf(s))
          out[i] = s > 0 ? 1.0f : 0.0f;
        else
          out[i] = static_cast<float>(range > 1e-9 ? (s - lo) / range : 0.5);
      }
      return out;
    }
    case ScoreNormalization::softmax: {
      if (!any_finite) return out;
      std::vector<double> e(scores.size(), 0.0);
      double sum = 0.0;
      for (std::size_t i = 0; i < scores.size(); ++i)
        if (std::isfinite(scores[i])) {
          e[i] = std::exp((scores[i] - hi) / temperature);
          sum += e[i];
        }
      for (std::size_t i = 0; i < scores.size(); ++i) out[i] = static_cast<float>(e[i] / sum);
      return out;
    }
    case ScoreNormalization::sigmoid:
      for (std::size_t i = 0; i < scores.size(); ++i)
        out[i] = static_cast<float>(stable_sigmoid(scores[i] / temperature));
      return out;
  }
  throw_invalid("normalize_scores: unknown normalisation method");
}

}  // namespace rank_rerank
