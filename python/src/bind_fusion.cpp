// Python bindings for Matryoshka refinement, score blending and normalisation.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "convert.hpp"
#include "rank_rerank/fusion.hpp"

namespace nb = nanobind;

namespace rank_rerank::python {
namespace {

ScoreNormalization normalization_kind(const std::string& name) {
  if (name == "min_max") return ScoreNormalization::min_max;
  if (name == "softmax") return ScoreNormalization::softmax;
  if (name == "sigmoid") return ScoreNormalization::sigmoid;
  throw_invalid("method must be 'min_max', 'softmax' or 'sigmoid', got '" + name + "'");
}

}  // namespace

void bind_fusion(nb::module_& m) {
  m.def(
      "matryoshka_refine",
      [](FloatVector query, FloatMatrix docs, FloatVector scores, std::int64_t head_dims,
         double alpha, std::optional<std::int64_t> top_k) {
        if (head_dims < 0)
          throw_invalid("head_dims must be >= 0, got " + std::to_string(head_dims));
        if (top_k && *top_k < 0) throw_invalid("top_k must be >= 0, got " + std::to_string(*top_k));
        MatryoshkaOptions o;
        o.head_dims = static_cast<std::size_t>(head_dims);
        o.alpha = alpha;
        if (top_k) o.top_k = static_cast<std::size_t>(*top_k);
        std::vector<Ranked> ranked;
        {
          nb::gil_scoped_release release;
          ranked = matryoshka_refine({query.data(), query.shape(0)}, matrix_view(docs),
                                     {scores.data(), scores.shape(0)}, o);
        }
        std::vector<std::int64_t> indices(ranked.size());
        std::vector<float> refined(ranked.size());
        for (std::size_t i = 0; i < ranked.size(); ++i) {
          indices[i] = ranked[i].index;
          refined[i] = ranked[i].score;
        }
        return nb::make_tuple(to_numpy(std::move(indices)), to_numpy(std::move(refined)));
      },
      nb::arg("query"), nb::arg("docs"), nb::arg("scores"), nb::arg("head_dims"),
      nb::arg("alpha") = 0.5, nb::arg("top_k") = nb::none(),
      "Re-score first-stage candidates with the tail dimensions of Matryoshka embeddings:\n"
      "alpha * scores[i] + (1 - alpha) * cosine(query[head_dims:], docs[i, head_dims:]).\n"
      "Returns (indices, refined scores) best first (ties by index, NaN last), top_k of them.");
  m.def(
      "blend_scores",
      [](FloatVector a, FloatVector b, double alpha) {
        return to_numpy(blend_scores({a.data(), a.shape(0)}, {b.data(), b.shape(0)}, alpha));
      },
      nb::arg("a"), nb::arg("b"), nb::arg("alpha") = 0.5,
      "alpha * a + (1 - alpha) * b, elementwise (float32).");
  m.def(
      "normalize_scores",
      [](FloatVector scores, const std::string& method, double temperature) {
        return to_numpy(normalize_scores({scores.data(), scores.shape(0)},
                                         normalization_kind(method), temperature));
      },
      nb::arg("scores"), nb::arg("method") = "min_max", nb::arg("temperature") = 1.0,
      "Normalise scores: 'min_max' to [0, 1] (constant input -> 0.5, +-inf -> 1 / 0, NaN kept),\n"
      "'softmax' (stable; non-finite scores get 0), or 'sigmoid'. temperature divides the\n"
      "scores for softmax and sigmoid.");
}

}  // namespace rank_rerank::python
