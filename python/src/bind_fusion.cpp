// Python bindings for Matryoshka refinement, score blending and normalisation.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "array_args.hpp"
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
      [](nb::object query, nb::object docs, nb::object scores, std::int64_t head_dims, double alpha,
         std::optional<std::int64_t> top_k) {
        if (head_dims < 0)
          throw_invalid("head_dims must be >= 0, got " + std::to_string(head_dims));
        if (top_k && *top_k < 0) throw_invalid("top_k must be >= 0, got " + std::to_string(*top_k));
        const CpuArray<float> q = array_arg<float>(query, "query");
        const CpuArray<float> d = array_arg<float>(docs, "docs");
        const CpuArray<float> s = array_arg<float>(scores, "scores");
        const std::span<const float> qv = vector_arg(q, "query", "[dim]");
        const MatrixView dv = matrix_arg(d, "docs", "[n, dim]");
        const std::span<const float> sv = vector_arg(s, "scores", "[n]");
        MatryoshkaOptions o;
        o.head_dims = static_cast<std::size_t>(head_dims);
        o.alpha = alpha;
        if (top_k) o.top_k = static_cast<std::size_t>(*top_k);
        std::vector<std::int64_t> indices;
        std::vector<float> refined;
        {
          nb::gil_scoped_release release;
          const std::vector<Ranked> ranked = matryoshka_refine(qv, dv, sv, o);
          for (const Ranked& r : ranked) {
            indices.push_back(r.index);
            refined.push_back(r.score);
          }
        }
        return nb::make_tuple(to_numpy(std::move(indices)), to_numpy(std::move(refined)));
      },
      nb::arg("query"), nb::arg("docs"), nb::arg("scores"), nb::arg("head_dims"),
      nb::arg("alpha") = 0.5, nb::arg("top_k") = nb::none(),
      "Re-score first-stage candidates with the tail dimensions of Matryoshka embeddings:\n"
      "alpha * scores[i] + (1 - alpha) * cosine(query[head_dims:], docs[i, head_dims:]) (a zero\n"
      "tail has cosine 0). Returns (int64 indices, float32 refined scores) best first, ties by\n"
      "lower index, NaN last, top_k of them (all when None).");
  m.def(
      "blend_scores",
      [](nb::object a, nb::object b, double alpha) {
        const CpuArray<float> aa = array_arg<float>(a, "a");
        const CpuArray<float> ba = array_arg<float>(b, "b");
        const std::span<const float> av = vector_arg(aa, "a", "[n]");
        const std::span<const float> bv = vector_arg(ba, "b", "[n]");
        std::vector<float> out;
        {
          nb::gil_scoped_release release;
          out = blend_scores(av, bv, alpha);
        }
        return to_numpy(std::move(out));
      },
      nb::arg("a"), nb::arg("b"), nb::arg("alpha") = 0.5,
      "alpha * a + (1 - alpha) * b elementwise, alpha in [0, 1] (float32; NaN propagates).");
  m.def(
      "normalize_scores",
      [](nb::object scores, const std::string& method, double temperature) {
        const CpuArray<float> s = array_arg<float>(scores, "scores");
        const std::span<const float> sv = vector_arg(s, "scores", "[n]");
        const ScoreNormalization kind = normalization_kind(method);
        std::vector<float> out;
        {
          nb::gil_scoped_release release;
          out = normalize_scores(sv, kind, temperature);
        }
        return to_numpy(std::move(out));
      },
      nb::arg("scores"), nb::arg("method") = "min_max", nb::arg("temperature") = 1.0,
      "Normalise scores (float32, empty -> empty). 'min_max': (s - min) / (max - min) over the\n"
      "finite scores, constant input -> 0.5, +inf -> 1, -inf -> 0, NaN stays NaN. 'softmax':\n"
      "stable exp((s - max) / temperature) / sum; non-finite scores get 0. 'sigmoid':\n"
      "1 / (1 + exp(-s / temperature)), no overflow; NaN stays NaN.");
}

}  // namespace rank_rerank::python
