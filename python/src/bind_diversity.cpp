// Python bindings for MMR and greedy DPP selection.
#include <nanobind/stl/string.h>

#include <cstdint>
#include <string>

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

// Indices, or (indices, gains) when asked for.
nb::object selection_result(Selection&& s, bool return_gains) {
  auto indices = nb::cast(to_numpy(std::move(s.indices)));
  if (!return_gains) return indices;
  return nb::make_tuple(indices, to_numpy(std::move(s.gains)));
}

template <class Fn>
Selection released(Fn&& fn) {
  nb::gil_scoped_release release;
  return fn();
}

}  // namespace

void bind_diversity(nb::module_& m) {
  m.def(
      "mmr",
      [](FloatMatrix embeddings, FloatVector relevance, std::int64_t k, double lambda_,
         const std::string& similarity, bool normalize_relevance, bool return_gains) {
        MmrOptions o;
        o.k = selection_size(k);
        o.lambda = lambda_;
        o.similarity = similarity_kind(similarity);
        o.normalize_relevance = normalize_relevance;
        return selection_result(
            released([&] {
              return mmr(matrix_view(embeddings), {relevance.data(), relevance.shape(0)}, o);
            }),
            return_gains);
      },
      nb::arg("embeddings"), nb::arg("relevance"), nb::arg("k") = 10, nb::arg("lambda_") = 0.5,
      nb::arg("similarity") = "cosine", nb::arg("normalize_relevance") = true,
      nb::arg("return_gains") = false,
      "Maximal Marginal Relevance: pick k of n candidates (embeddings [n, d] float32, one\n"
      "relevance score each), each step maximising lambda_ * rel - (1 - lambda_) * (max\n"
      "similarity to the picks so far). Relevance is min-max scaled to [0, 1] first unless\n"
      "normalize_relevance=False. Returns int64 indices in selection order (and the winning\n"
      "scores with return_gains=True).");
  m.def(
      "mmr_from_similarity",
      [](FloatMatrix similarity, FloatVector relevance, std::int64_t k, double lambda_,
         bool normalize_relevance, bool return_gains) {
        MmrOptions o;
        o.k = selection_size(k);
        o.lambda = lambda_;
        o.normalize_relevance = normalize_relevance;
        return selection_result(released([&] {
                                  return mmr_from_similarity(matrix_view(similarity),
                                                             {relevance.data(), relevance.shape(0)},
                                                             o);
                                }),
                                return_gains);
      },
      nb::arg("similarity"), nb::arg("relevance"), nb::arg("k") = 10, nb::arg("lambda_") = 0.5,
      nb::arg("normalize_relevance") = true, nb::arg("return_gains") = false,
      "MMR on a given similarity matrix [n, n] (similarity[i, s] = sim(candidate i, pick s)).");
  m.def(
      "dpp",
      [](FloatMatrix embeddings, FloatVector relevance, std::int64_t k, double alpha,
         const std::string& similarity, double epsilon, bool stop_at_nonpositive_gain,
         bool return_gains) {
        DppOptions o;
        o.k = selection_size(k);
        o.alpha = alpha;
        o.similarity = similarity_kind(similarity);
        o.epsilon = epsilon;
        o.stop_at_nonpositive_gain = stop_at_nonpositive_gain;
        return selection_result(
            released([&] {
              return dpp(matrix_view(embeddings), {relevance.data(), relevance.shape(0)}, o);
            }),
            return_gains);
      },
      nb::arg("embeddings"), nb::arg("relevance"), nb::arg("k") = 10, nb::arg("alpha") = 1.0,
      nb::arg("similarity") = "cosine", nb::arg("epsilon") = 1e-10,
      nb::arg("stop_at_nonpositive_gain") = false, nb::arg("return_gains") = false,
      "Greedy MAP for a DPP with kernel L = diag(q) S diag(q), q = exp(alpha * relevance), S the\n"
      "cosine (or dot) similarity of the embeddings [n, d] (fast greedy algorithm of Chen et al.\n"
      "2018). Each step adds the candidate with the largest log-det gain; stops early when every\n"
      "residual is <= epsilon, or (stop_at_nonpositive_gain) when the best gain is <= 0. Returns\n"
      "int64 indices (and the log-det gains with return_gains=True).");
  m.def(
      "dpp_from_similarity",
      [](FloatMatrix similarity, FloatVector relevance, std::int64_t k, double alpha,
         double epsilon, bool stop_at_nonpositive_gain, bool return_gains) {
        DppOptions o;
        o.k = selection_size(k);
        o.alpha = alpha;
        o.epsilon = epsilon;
        o.stop_at_nonpositive_gain = stop_at_nonpositive_gain;
        return selection_result(released([&] {
                                  return dpp_from_similarity(matrix_view(similarity),
                                                             {relevance.data(), relevance.shape(0)},
                                                             o);
                                }),
                                return_gains);
      },
      nb::arg("similarity"), nb::arg("relevance"), nb::arg("k") = 10, nb::arg("alpha") = 1.0,
      nb::arg("epsilon") = 1e-10, nb::arg("stop_at_nonpositive_gain") = false,
      nb::arg("return_gains") = false,
      "Greedy DPP MAP on a given similarity matrix S [n, n] (symmetric positive semi-definite).");
}

}  // namespace rank_rerank::python
