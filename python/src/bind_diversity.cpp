// Python bindings for MMR and greedy DPP selection.
#include <nanobind/stl/string.h>

#include <cstdint>
#include <string>

#include "array_args.hpp"
#include "bindings.hpp"
#include "convert.hpp"
#include "rank_rerank/diversity.hpp"

namespace nb = nanobind;

namespace rank_rerank::python {
namespace {

std::size_t selection_size(std::int64_t k) {
  if (k < 0) throw_invalid("k must be >= 0, got " + std::to_string(k));
  return static_cast<std::size_t>(k);
}

Similarity similarity_kind(const std::string& name) {
  if (name == "cosine") return Similarity::cosine;
  if (name == "dot") return Similarity::dot;
  throw_invalid("similarity must be 'cosine' or 'dot', got '" + name + "'");
}

// Converts the inputs, runs `select(matrix, relevance)` without the GIL, and returns the
// indices, or (indices, gains) when asked for.
template <class Select>
nb::object run_selection(nb::handle matrix, const char* matrix_name, const char* layout,
                         nb::handle relevance, bool return_gains, Select&& select) {
  const CpuArray<float> m = array_arg<float>(matrix, matrix_name);
  const CpuArray<float> r = array_arg<float>(relevance, "relevance");
  const MatrixView view = matrix_arg(m, matrix_name, layout);
  const std::span<const float> rel = vector_arg(r, "relevance", "[n]");
  Selection s;
  {
    nb::gil_scoped_release release;
    s = select(view, rel);
  }
  nb::object indices = nb::cast(to_numpy(std::move(s.indices)));
  if (!return_gains) return indices;
  return nb::make_tuple(indices, to_numpy(std::move(s.gains)));
}

}  // namespace

void bind_diversity(nb::module_& m) {
  m.def(
      "mmr",
      [](nb::object embeddings, nb::object relevance, std::int64_t k, double lambda_,
         const std::string& similarity, bool normalize_relevance, bool return_gains) {
        MmrOptions o;
        o.k = selection_size(k);
        o.lambda = lambda_;
        o.similarity = similarity_kind(similarity);
        o.normalize_relevance = normalize_relevance;
        return run_selection(
            embeddings, "embeddings", "[n, dim]", relevance, return_gains,
            [&](const MatrixView& e, std::span<const float> r) { return mmr(e, r, o); });
      },
      nb::arg("embeddings"), nb::arg("relevance"), nb::arg("k") = 10, nb::arg("lambda_") = 0.5,
      nb::arg("similarity") = "cosine", nb::arg("normalize_relevance") = true,
      nb::arg("return_gains") = false,
      "Maximal Marginal Relevance: pick k of n candidates (embeddings [n, dim], one relevance\n"
      "score each), each step maximising lambda_ * rel - (1 - lambda_) * (max similarity to the\n"
      "picks so far; 0 before the first pick). Relevance is min-max scaled to [0, 1] first\n"
      "(constant relevance -> 1) unless normalize_relevance=False. Ties go to the lower index.\n"
      "Returns int64 indices in selection order, and the winning scores with return_gains=True.");
  m.def(
      "mmr_from_similarity",
      [](nb::object similarity, nb::object relevance, std::int64_t k, double lambda_,
         bool normalize_relevance, bool return_gains) {
        MmrOptions o;
        o.k = selection_size(k);
        o.lambda = lambda_;
        o.normalize_relevance = normalize_relevance;
        return run_selection(similarity, "similarity", "[n, n]", relevance, return_gains,
                             [&](const MatrixView& s, std::span<const float> r) {
                               return mmr_from_similarity(s, r, o);
                             });
      },
      nb::arg("similarity"), nb::arg("relevance"), nb::arg("k") = 10, nb::arg("lambda_") = 0.5,
      nb::arg("normalize_relevance") = true, nb::arg("return_gains") = false,
      "MMR on a given similarity matrix [n, n]; similarity[i, s] is sim(candidate i, pick s).");
  m.def(
      "dpp",
      [](nb::object embeddings, nb::object relevance, std::int64_t k, double alpha,
         const std::string& similarity, double epsilon, bool stop_at_nonpositive_gain,
         bool return_gains) {
        DppOptions o;
        o.k = selection_size(k);
        o.alpha = alpha;
        o.similarity = similarity_kind(similarity);
        o.epsilon = epsilon;
        o.stop_at_nonpositive_gain = stop_at_nonpositive_gain;
        return run_selection(
            embeddings, "embeddings", "[n, dim]", relevance, return_gains,
            [&](const MatrixView& e, std::span<const float> r) { return dpp(e, r, o); });
      },
      nb::arg("embeddings"), nb::arg("relevance"), nb::arg("k") = 10, nb::arg("alpha") = 1.0,
      nb::arg("similarity") = "cosine", nb::arg("epsilon") = 1e-10,
      nb::arg("stop_at_nonpositive_gain") = false, nb::arg("return_gains") = false,
      "Greedy MAP for a DPP with kernel L = diag(q) S diag(q), q = exp(alpha * relevance), S the\n"
      "cosine (or dot) similarity of embeddings [n, dim] (fast greedy algorithm of Chen, Zhang &\n"
      "Zhou 2018). Each step adds the candidate with the largest log-det gain\n"
      "2 * alpha * rel + log(residual); selection stops early when every residual is <= epsilon,\n"
      "or, with stop_at_nonpositive_gain, when the best gain is <= 0. Returns int64 indices, and\n"
      "the log-det gains with return_gains=True.");
  m.def(
      "dpp_from_similarity",
      [](nb::object similarity, nb::object relevance, std::int64_t k, double alpha, double epsilon,
         bool stop_at_nonpositive_gain, bool return_gains) {
        DppOptions o;
        o.k = selection_size(k);
        o.alpha = alpha;
        o.epsilon = epsilon;
        o.stop_at_nonpositive_gain = stop_at_nonpositive_gain;
        return run_selection(similarity, "similarity", "[n, n]", relevance, return_gains,
                             [&](const MatrixView& s, std::span<const float> r) {
                               return dpp_from_similarity(s, r, o);
                             });
      },
      nb::arg("similarity"), nb::arg("relevance"), nb::arg("k") = 10, nb::arg("alpha") = 1.0,
      nb::arg("epsilon") = 1e-10, nb::arg("stop_at_nonpositive_gain") = false,
      nb::arg("return_gains") = false,
      "Greedy DPP MAP on a given similarity matrix S [n, n] (symmetric positive semi-definite).");
}

}  // namespace rank_rerank::python
