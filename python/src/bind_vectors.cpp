// Dense vector primitives, top-k ranking and query-token weights.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>

#include <vector>

#include "bindings.hpp"
#include "convert.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/topk.hpp"
#include "rank_rerank/vectors.hpp"
#include "rank_rerank/token_weights.hpp"
#include "token_args.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace rank_rerank::python {

namespace {

using FloatArray = nb::ndarray<nb::numpy, float>;

MatrixView matrix_of(const FloatArg& a) { return {a.data, a.shape[0], a.shape[1]}; }

std::pair<nb::ndarray<nb::numpy, std::int64_t>, FloatArray> split_ranked(
    std::vector<Ranked>&& ranked) {
  std::vector<std::int64_t> indices(ranked.size());
  std::vector<float> scores(ranked.size());
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    indices[i] = ranked[i].index;
    scores[i] = ranked[i].score;
  }
  return {to_numpy(std::move(indices)), to_numpy(std::move(scores))};
}

// Copies a float array into a fresh buffer for the functions that normalise in place.
std::vector<float> copy_of(const FloatArg& a) { return {a.data, a.data + a.size()}; }

}  // namespace

void bind_vectors(nb::module_& m) {
  m.def(
      "dot",
      [](nb::handle a, nb::handle b) {
        const FloatArg x = float_arg(a, 1, "a"), y = float_arg(b, 1, "b");
        return dot(x.span(), y.span());
      },
      "a"_a, "b"_a, "Dot product of two 1-D vectors of the same length.");
  m.def(
      "cosine",
      [](nb::handle a, nb::handle b) {
        const FloatArg x = float_arg(a, 1, "a"), y = float_arg(b, 1, "b");
        return cosine(x.span(), y.span());
      },
      "a"_a, "b"_a, "Cosine similarity of two 1-D vectors; 0 when either is the zero vector.");
  m.def(
      "norm", [](nb::handle v) { return norm(float_arg(v, 1, "v").span()); }, "v"_a,
      "Euclidean (L2) norm of a 1-D vector.");
  m.def(
      "l2_normalize",
      [](nb::handle v) {
        std::vector<float> out = copy_of(float_arg(v, 1, "v"));
        l2_normalize(out);
        return to_numpy(std::move(out));
      },
      "v"_a, "A unit-length float32 copy of a 1-D vector (a zero vector is returned as is).");
  m.def(
      "dot_rows",
      [](nb::handle a, nb::handle b) {
        const FloatArg x = float_arg(a, 2, "a"), y = float_arg(b, 2, "b");
        return to_numpy(dot_rows(matrix_of(x), matrix_of(y)));
      },
      "a"_a, "b"_a, "Row-wise dot products of two [n, d] matrices: float32 [n].");
  m.def(
      "cosine_rows",
      [](nb::handle a, nb::handle b) {
        const FloatArg x = float_arg(a, 2, "a"), y = float_arg(b, 2, "b");
        return to_numpy(cosine_rows(matrix_of(x), matrix_of(y)));
      },
      "a"_a, "b"_a, "Row-wise cosine similarities of two [n, d] matrices: float32 [n].");
  m.def(
      "norm_rows",
      [](nb::handle a) { return to_numpy(norm_rows(matrix_of(float_arg(a, 2, "m")))); }, "m"_a,
      "L2 norm of every row of an [n, d] matrix: float32 [n].");
  m.def(
      "l2_normalize_rows",
      [](nb::handle a) {
        const FloatArg x = float_arg(a, 2, "m");
        std::vector<float> out = copy_of(x);
        l2_normalize_rows(MutableMatrixView{out.data(), x.shape[0], x.shape[1]});
        return to_numpy(std::move(out), {x.shape[0], x.shape[1]});
      },
      "m"_a, "A float32 copy of an [n, d] matrix with every non-zero row scaled to unit length.");

  m.def(
      "top_k",
      [](nb::handle scores, std::size_t k) {
        const FloatArg s = float_arg(scores, 1, "scores");
        std::vector<Ranked> ranked;
        {
          nb::gil_scoped_release release;
          ranked = top_k(s.span(), k);
        }
        return split_ranked(std::move(ranked));
      },
      "scores"_a, "k"_a,
      "The k best scores, best first, as (indices int64 [k], scores float32 [k]). Ties go to\n"
      "the lower index; NaN ranks after every number. k > len(scores) is an error.");
  m.def(
      "rank_all",
      [](nb::handle scores) {
        const FloatArg s = float_arg(scores, 1, "scores");
        std::vector<Ranked> ranked;
        {
          nb::gil_scoped_release release;
          ranked = rank_all(s.span());
        }
        return split_ranked(std::move(ranked));
      },
      "scores"_a, "Every score ranked as top_k orders them: (indices, scores).");

  m.def(
      "bm25_idf",
      [](nb::handle document_frequencies, std::int64_t n_docs) {
        const IndexArg df = index_arg(document_frequencies, "document_frequencies");
        return to_numpy(bm25_idf(df.values, n_docs));
      },
      "document_frequencies"_a, "n_docs"_a,
      "BM25 / Lucene idf ln(1 + (N - df + 0.5) / (df + 0.5)) of each document frequency.");
  m.def(
      "idf_weights",
      [](nb::handle token_ids, nb::handle document_frequencies, std::int64_t n_docs) {
        const IndexArg ids = index_arg(token_ids, "token_ids");
        const IndexArg df = index_arg(document_frequencies, "document_frequencies");
        return to_numpy(idf_weights(ids.values, df.values, n_docs));
      },
      "token_ids"_a, "document_frequencies"_a, "n_docs"_a,
      "Query-token weights for weighted MaxSim: the BM25 idf of each token id, its document\n"
      "frequency looked up in document_frequencies (indexed by token id); ids past the table\n"
      "count as never seen.");
  m.def(
      "bm25_weights",
      [](nb::handle term_frequencies, nb::handle document_frequencies, std::int64_t n_docs,
         double doc_length, double avg_doc_length, float k1, float b) {
        const FloatArg tf = float_arg(term_frequencies, 1, "term_frequencies");
        const IndexArg df = index_arg(document_frequencies, "document_frequencies");
        return to_numpy(
            bm25_weights(tf.span(), df.values, n_docs, doc_length, avg_doc_length, {k1, b}));
      },
      "term_frequencies"_a, "document_frequencies"_a, "n_docs"_a, "doc_length"_a,
      "avg_doc_length"_a, "k1"_a = 1.2f, "b"_a = 0.75f,
      "BM25 term weights idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)).");
  m.def(
      "attention_weights",
      [](nb::handle scores) {
        return to_numpy(attention_weights(float_arg(scores, 1, "scores").span()));
      },
      "scores"_a, "Scores scaled to sum to 1 (uniform when they sum to zero).");
}

}  // namespace rank_rerank::python
