// MaxSim bindings: numpy-first names (maxsim, maxsim_packed, maxsim_padded, maxsim_all_pairs,
// maxsim_candidates) and the rank-refine crate's names (maxsim_vecs, maxsim_batch,
// maxsim_alignments, highlight_matches). Arguments are converted with the GIL held; the
// scoring itself runs without it.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <optional>

#include "bindings.hpp"
#include "convert.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/maxsim.hpp"
#include "token_args.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace rank_rerank::python {

namespace {

using OptionalDim = std::optional<std::size_t>;

std::optional<FloatArg> optional_weights(nb::handle weights) {
  if (weights.is_none()) return std::nullopt;
  return float_arg(weights, 1, "weights");
}

// An empty document given as [] has no dimension of its own: it takes the query's.
void adopt_query_dim(TokenArg& doc, const TokenArg& query) {
  if (doc.matrix.rows == 0 && doc.matrix.dim == 0) doc.matrix.dim = query.matrix.dim;
}

// Documents as a packed matrix + offsets, or (offsets None) as a sequence of matrices.
struct DocsArg {
  PackedArg packed;
  IndexArg offsets;
  PackedTokens view() const {
    return offsets.keep.is_valid() ? PackedTokens{packed.tokens.matrix, offsets.values}
                                   : packed.view();
  }
};
DocsArg docs_arg(nb::handle docs, nb::handle offsets, const std::string& dtype, nb::handle scales,
                 OptionalDim dim) {
  DocsArg out;
  if (offsets.is_none()) {
    out.packed = packed_list_arg(docs, dtype, scales, dim, "docs");
  } else {
    out.packed.tokens = token_arg(docs, dtype, scales, dim, "docs");
    out.offsets = index_arg(offsets, "doc_offsets");
  }
  return out;
}

DocsArg queries_arg(nb::handle queries, nb::handle offsets, const TokenMatrix& docs) {
  DocsArg out;
  if (offsets.is_none()) {
    out.packed = packed_query_list(queries, docs.dtype, docs.dim, "queries");
  } else {
    out.packed.tokens = query_arg(queries, docs.dtype, docs.dim, "queries");
    out.offsets = index_arg(offsets, "query_offsets");
  }
  return out;
}

// An empty list of documents (or queries) has no dimension; nothing is scored then.
bool nothing_to_score(const PackedTokens& p) { return p.size() == 0 && p.tokens.rows == 0; }

float score_one(nb::handle query, nb::handle doc, const std::string& similarity, nb::handle weights,
                const std::string& dtype, nb::handle scales, OptionalDim dim) {
  TokenArg d = token_arg(doc, dtype, scales, dim, "doc");
  const TokenArg q = query_arg(query, d.matrix.dtype, d.matrix.dim, "query");
  adopt_query_dim(d, q);
  const auto w = optional_weights(weights);
  const MaxSimOptions options = make_options(similarity, w ? &*w : nullptr, 1);
  nb::gil_scoped_release release;
  return maxsim(q.matrix, d.matrix, options);
}

nb::ndarray<nb::numpy, float> score_packed(nb::handle query, nb::handle tokens, nb::handle offsets,
                                           const std::string& similarity, nb::handle weights,
                                           const std::string& dtype, nb::handle scales,
                                           OptionalDim dim, std::size_t num_threads) {
  const DocsArg docs = docs_arg(tokens, offsets, dtype, scales, dim);
  const PackedTokens view = docs.view();
  const TokenArg q = query_arg(query, view.tokens.dtype, view.tokens.dim, "query");
  const auto w = optional_weights(weights);
  const MaxSimOptions options = make_options(similarity, w ? &*w : nullptr, num_threads);
  std::vector<float> out;
  {
    nb::gil_scoped_release release;
    if (nothing_to_score(view)) {
      // Still reject a bad query, as a non-empty call would.
      TokenMatrix probe = q.matrix;
      validate(probe, "query");
      if (probe.rows == 0)
        throw_invalid("query: the query has no tokens; MaxSim needs at least one");
    } else {
      out = maxsim_packed(q.matrix, view, options);
    }
  }
  return to_numpy(std::move(out));
}

// A sequence of separately stored documents, scored where they lie (no packing copy).
nb::ndarray<nb::numpy, float> score_batch(nb::handle query, nb::handle docs,
                                          const std::string& similarity, nb::handle weights,
                                          std::size_t num_threads, const std::string& dtype,
                                          nb::handle scales, OptionalDim dim) {
  std::vector<nb::object> scale_items;
  if (!scales.is_none()) {
    for (nb::handle s : nb::iter(scales)) scale_items.push_back(nb::borrow(s));
  }
  std::vector<TokenArg> items;
  for (nb::handle doc : nb::iter(docs)) {
    const std::size_t i = items.size();
    const std::string name = "docs[" + std::to_string(i) + "]";
    if (!scales.is_none() && i >= scale_items.size())
      throw_invalid("scales: has " + std::to_string(scale_items.size()) +
                    " entries but there are more documents");
    items.push_back(
        token_arg(doc, dtype, scales.is_none() ? nb::none() : scale_items[i], dim, name.c_str()));
  }
  if (!scales.is_none() && scale_items.size() != items.size())
    throw_invalid("scales: has " + std::to_string(scale_items.size()) + " entries for " +
                  std::to_string(items.size()) + " documents");
  DType doc_dtype = DType::f32;
  std::size_t doc_dim = 0;
  for (const TokenArg& t : items) {
    if (t.matrix.rows > 0) {
      doc_dtype = t.matrix.dtype;
      doc_dim = t.matrix.dim;
      break;
    }
  }
  const TokenArg q = query_arg(query, doc_dtype, doc_dim, "query");
  std::vector<TokenMatrix> views;
  views.reserve(items.size());
  for (TokenArg& t : items) {
    adopt_query_dim(t, q);
    views.push_back(t.matrix);
  }
  const auto w = optional_weights(weights);
  const MaxSimOptions options = make_options(similarity, w ? &*w : nullptr, num_threads);
  std::vector<float> out;
  {
    nb::gil_scoped_release release;
    out = maxsim_batch(q.matrix, views, options);
  }
  return to_numpy(std::move(out));
}

nb::ndarray<nb::numpy, float> score_padded(nb::handle query, nb::handle docs, nb::handle lengths,
                                           nb::handle mask, const std::string& padding,
                                           const std::string& similarity, nb::handle weights,
                                           const std::string& dtype, nb::handle scales,
                                           OptionalDim dim, std::size_t num_threads) {
  const TokenArg d = token_arg(docs, dtype, scales, dim, "docs", 3);
  const std::size_t n_docs = d.shape[0], max_len = d.shape[1];
  const TokenArg q = query_arg(query, d.matrix.dtype, d.matrix.dim, "query");
  if (!lengths.is_none() && !mask.is_none())
    throw_invalid("maxsim_padded: give lengths or mask, not both");
  PaddedTokens view{d.matrix, n_docs, max_len, {}, {}};
  IndexArg length_arg;
  MaskArg mask_values;
  std::vector<std::int64_t> full_lengths;
  if (!lengths.is_none()) {
    length_arg = index_arg(lengths, "lengths");
    view.lengths = length_arg.values;
  } else if (!mask.is_none()) {
    mask_values = mask_arg(mask, "mask");
    if (mask_values.shape[0] != n_docs || mask_values.shape[1] != max_len)
      throw_invalid("mask: shape (" + std::to_string(mask_values.shape[0]) + ", " +
                    std::to_string(mask_values.shape[1]) + ") does not match the documents' (" +
                    std::to_string(n_docs) + ", " + std::to_string(max_len) + ")");
    view.mask = mask_values.values;
  } else {
    full_lengths.assign(n_docs, static_cast<std::int64_t>(max_len));  // no padding at all
    view.lengths = full_lengths;
  }
  const auto w = optional_weights(weights);
  MaxSimOptions options = make_options(similarity, w ? &*w : nullptr, num_threads);
  options.padding = parse_padding(padding);
  std::vector<float> out;
  {
    nb::gil_scoped_release release;
    out = maxsim_padded(q.matrix, view, options);
  }
  return to_numpy(std::move(out));
}

nb::ndarray<nb::numpy, float> score_all_pairs(nb::handle queries, nb::handle docs,
                                              nb::handle query_offsets, nb::handle doc_offsets,
                                              const std::string& similarity, nb::handle weights,
                                              const std::string& dtype, nb::handle scales,
                                              OptionalDim dim, std::size_t num_threads) {
  const DocsArg d = docs_arg(docs, doc_offsets, dtype, scales, dim);
  const DocsArg q = queries_arg(queries, query_offsets, d.view().tokens);
  const auto w = optional_weights(weights);
  const MaxSimOptions options = make_options(similarity, w ? &*w : nullptr, num_threads);
  const std::size_t n_q = q.view().size(), n_d = d.view().size();
  std::vector<float> out;
  if (n_q > 0 && n_d > 0) {
    nb::gil_scoped_release release;
    out = maxsim_all_pairs(q.view(), d.view(), options);
  }
  out.resize(n_q * n_d);
  return to_numpy(std::move(out), {n_q, n_d});
}

nb::ndarray<nb::numpy, float> score_candidates(nb::handle queries, nb::handle docs,
                                               nb::handle candidates, nb::handle candidate_offsets,
                                               nb::handle query_offsets, nb::handle doc_offsets,
                                               const std::string& similarity, nb::handle weights,
                                               const std::string& dtype, nb::handle scales,
                                               OptionalDim dim, std::size_t num_threads) {
  const DocsArg d = docs_arg(docs, doc_offsets, dtype, scales, dim);
  const DocsArg q = queries_arg(queries, query_offsets, d.view().tokens);
  IndexArg ids, offsets;
  std::vector<std::int64_t> flat_ids, flat_offsets;
  if (candidate_offsets.is_none()) {
    // One sequence of document ids per query.
    flat_offsets.push_back(0);
    std::size_t qi = 0;
    for (nb::handle per_query : nb::iter(candidates)) {
      const std::string name = "candidates[" + std::to_string(qi++) + "]";
      const IndexArg list = index_arg(per_query, name.c_str());
      flat_ids.insert(flat_ids.end(), list.values.begin(), list.values.end());
      flat_offsets.push_back(static_cast<std::int64_t>(flat_ids.size()));
    }
  } else {
    ids = index_arg(candidates, "candidates");
    offsets = index_arg(candidate_offsets, "candidate_offsets");
  }
  const std::span<const std::int64_t> id_span =
      candidate_offsets.is_none() ? std::span<const std::int64_t>(flat_ids) : ids.values;
  const std::span<const std::int64_t> offset_span =
      candidate_offsets.is_none() ? std::span<const std::int64_t>(flat_offsets) : offsets.values;
  const auto w = optional_weights(weights);
  const MaxSimOptions options = make_options(similarity, w ? &*w : nullptr, num_threads);
  std::vector<float> out;
  {
    nb::gil_scoped_release release;
    out = maxsim_candidates(q.view(), d.view(), offset_span, id_span, options);
  }
  return to_numpy(std::move(out));
}

nb::list alignments(nb::handle query, nb::handle doc, const std::string& similarity,
                    const std::string& dtype, nb::handle scales, OptionalDim dim) {
  TokenArg d = token_arg(doc, dtype, scales, dim, "doc");
  const TokenArg q = query_arg(query, d.matrix.dtype, d.matrix.dim, "query");
  adopt_query_dim(d, q);
  const MaxSimOptions options = make_options(similarity, nullptr, 1);
  std::vector<Alignment> found;
  {
    nb::gil_scoped_release release;
    found = maxsim_alignments(q.matrix, d.matrix, options);
  }
  nb::list out;
  if (d.matrix.rows == 0) return out;  // nothing to align with, as rank-refine does
  for (std::size_t i = 0; i < found.size(); ++i)
    out.append(nb::make_tuple(i, found[i].doc_token, found[i].similarity));
  return out;
}

nb::list highlights(nb::handle query, nb::handle doc, float threshold,
                    const std::string& similarity, const std::string& dtype, nb::handle scales,
                    OptionalDim dim) {
  TokenArg d = token_arg(doc, dtype, scales, dim, "doc");
  const TokenArg q = query_arg(query, d.matrix.dtype, d.matrix.dim, "query");
  adopt_query_dim(d, q);
  const MaxSimOptions options = make_options(similarity, nullptr, 1);
  std::vector<std::int64_t> found;
  {
    nb::gil_scoped_release release;
    found = highlight_matches(q.matrix, d.matrix, threshold, options);
  }
  nb::list out;
  for (const std::int64_t j : found) out.append(j);
  return out;
}

}  // namespace

void bind_maxsim(nb::module_& m) {
  m.def("maxsim", &score_one, "query"_a, "doc"_a, "similarity"_a = "dot", "weights"_a = nb::none(),
        nb::kw_only(), "dtype"_a = "auto", "scales"_a = nb::none(), "dim"_a = nb::none(),
        "MaxSim of one query [nq, d] against one document [nd, d]: sum over query tokens of the\n"
        "best similarity with any document token, times the token's weight.\n\n"
        "similarity: 'dot' or 'cosine'. weights: one per query token (default 1).\n"
        "dtype: how the document is stored: 'auto' (float32, float16, bfloat16 or int8 from the\n"
        "array), 'bfloat16' (uint16 bit patterns), 'int8' (needs scales, one per row) or 'bit'\n"
        "(numpy.packbits rows, dim= dimensions). An empty document scores 0; an empty query is\n"
        "an error; NaN anywhere makes the score NaN.");
  m.def("maxsim_packed", &score_packed, "query"_a, "tokens"_a, "offsets"_a, "similarity"_a = "dot",
        "weights"_a = nb::none(), nb::kw_only(), "dtype"_a = "auto", "scales"_a = nb::none(),
        "dim"_a = nb::none(), "num_threads"_a = 0,
        "MaxSim of one query against documents packed back to back: document i is\n"
        "tokens[offsets[i]:offsets[i+1]]. Returns float32 scores [n_docs]. Storage keywords as\n"
        "for maxsim; num_threads 0 uses get_num_threads().");
  m.def("maxsim_padded", &score_padded, "query"_a, "docs"_a, "lengths"_a = nb::none(),
        "mask"_a = nb::none(), "padding"_a = "ignore", "similarity"_a = "dot",
        "weights"_a = nb::none(), nb::kw_only(), "dtype"_a = "auto", "scales"_a = nb::none(),
        "dim"_a = nb::none(), "num_threads"_a = 0,
        "MaxSim of one query against a padded batch docs [n_docs, max_len, d]. Valid tokens come\n"
        "from lengths [n_docs] (a prefix) or mask [n_docs, max_len] (non-zero = valid); with\n"
        "neither, every position is valid. padding='ignore' never lets padding win a max;\n"
        "padding='zero_floor' reproduces PyLate's rank.rerank / colbert_scores with a document\n"
        "mask: a document with padding contributes max(0, best) per query token. int8 scales\n"
        "have shape [n_docs, max_len].");
  m.def("maxsim_all_pairs", &score_all_pairs, "queries"_a, "docs"_a, nb::kw_only(),
        "query_offsets"_a = nb::none(), "doc_offsets"_a = nb::none(), "similarity"_a = "dot",
        "weights"_a = nb::none(), "dtype"_a = "auto", "scales"_a = nb::none(), "dim"_a = nb::none(),
        "num_threads"_a = 0,
        "Every query against every document: float32 [n_queries, n_docs]. queries and docs are\n"
        "sequences of [tokens, d] arrays, or packed matrices with query_offsets / doc_offsets.\n"
        "weights covers all queries' tokens back to back.");
  m.def("maxsim_candidates", &score_candidates, "queries"_a, "docs"_a, "candidates"_a,
        nb::kw_only(), "candidate_offsets"_a = nb::none(), "query_offsets"_a = nb::none(),
        "doc_offsets"_a = nb::none(), "similarity"_a = "dot", "weights"_a = nb::none(),
        "dtype"_a = "auto", "scales"_a = nb::none(), "dim"_a = nb::none(), "num_threads"_a = 0,
        "Each query against its own candidate documents (reranking). candidates is a sequence\n"
        "of document-id lists, one per query, or flat ids with candidate_offsets [n_queries+1].\n"
        "Returns float32 scores aligned with the flattened candidate ids.");
  m.def("maxsim_alignments", &alignments, "query"_a, "doc"_a, "similarity"_a = "dot", nb::kw_only(),
        "dtype"_a = "auto", "scales"_a = nb::none(), "dim"_a = nb::none(),
        "For each query token, the best-matching document token: a list of\n"
        "(query_index, doc_index, similarity) tuples (ties go to the lower doc index); empty for\n"
        "an empty document.");
  m.def("highlight_matches", &highlights, "query"_a, "doc"_a, "threshold"_a, "similarity"_a = "dot",
        nb::kw_only(), "dtype"_a = "auto", "scales"_a = nb::none(), "dim"_a = nb::none(),
        "Indices (ascending) of the document tokens whose best similarity with any query token\n"
        "is >= threshold.");
  m.def(
      "maxsim_vecs",
      [](nb::handle query, nb::handle doc) {
        return score_one(query, doc, "dot", nb::none(), "auto", nb::none(), std::nullopt);
      },
      "query"_a, "doc"_a,
      "MaxSim (dot) of query [nq, d] and doc [nd, d], given as arrays or lists of lists.");
  m.def(
      "maxsim_cosine_vecs",
      [](nb::handle query, nb::handle doc) {
        return score_one(query, doc, "cosine", nb::none(), "auto", nb::none(), std::nullopt);
      },
      "query"_a, "doc"_a, "MaxSim with cosine similarity of query [nq, d] and doc [nd, d].");
  m.def("maxsim_batch", &score_batch, "query"_a, "docs"_a, "similarity"_a = "dot",
        "weights"_a = nb::none(), "num_threads"_a = 0, nb::kw_only(), "dtype"_a = "auto",
        "scales"_a = nb::none(), "dim"_a = nb::none(),
        "MaxSim of one query against a sequence of documents [nd_i, d], each read where it lies\n"
        "(no copy for arrays already in a supported layout); float32 scores [n_docs]. scales is\n"
        "a sequence of per-document scale arrays for int8 documents.");
}

}  // namespace rank_rerank::python
