// MaxSim of one query against one document, packed documents and padded documents: the API
// layer over the kernel contract (maxsim_kernel.hpp). Layouts, padding, weights and threads
// live here; SIMD lives in the kernels.
#include "rank_rerank/maxsim.hpp"

#include <string>

#include "rank_rerank/error.hpp"
#include "scoring/maxsim_common.hpp"
#include "scoring/maxsim_kernel.hpp"

namespace rank_rerank {

using detail::PreparedQuery;

namespace {

bool is_cosine(const MaxSimOptions& options) { return options.similarity == Similarity::cosine; }

// Row maxima of one padded document whose valid rows are given by a mask: the kernel runs on
// each contiguous run of valid rows and the maxima are merged (NaN stays sticky). Returns
// false when the document has no valid row.
bool masked_row_max(const PreparedQuery& prepared, const TokenMatrix& rows,
                    std::span<const std::uint8_t> mask, std::span<float> row_max,
                    std::span<float> run_max) {
  bool any = false;
  std::size_t j = 0;
  while (j < rows.rows) {
    if (mask[j] == 0) {
      ++j;
      continue;
    }
    std::size_t end = j;
    while (end < rows.rows && mask[end] != 0) ++end;
    float* target = any ? run_max.data() : row_max.data();
    detail::max_similarity(prepared, rows.slice(j, end), target, nullptr, nullptr);
    if (any) {
      for (std::size_t i = 0; i < row_max.size(); ++i) detail::merge_max(row_max[i], run_max[i]);
    }
    any = true;
    j = end;
  }
  return any;
}

}  // namespace

float maxsim(const TokenMatrix& query, const TokenMatrix& doc, const MaxSimOptions& options) {
  detail::check_query(query, "query");
  validate(doc, "doc");
  detail::check_same_dim(query, "query", doc, "doc");
  detail::check_weights(options, query.rows, "query_weights");
  // Prepared before the empty-document shortcut so unsupported dtype pairs always throw.
  const PreparedQuery prepared(query, doc.dtype, is_cosine(options));
  if (doc.rows == 0) return 0.0f;
  std::vector<float> row_max(query.rows);
  detail::max_similarity(prepared, doc, row_max.data(), nullptr, nullptr);
  return detail::reduce_score(row_max, options.query_weights, false);
}

namespace {

// Scores docs_at(0 .. n) against one prepared query on the OpenMP team, in chunks of similar
// cost; an empty document scores 0.
template <class DocAt>
void score_each(const PreparedQuery& prepared, std::size_t n, DocAt docs_at, std::span<float> out,
                const MaxSimOptions& options) {
  const std::size_t q_rows = prepared.rows();
  const std::size_t threads = detail::resolve_threads(options);
  const auto bounds = detail::balanced_chunks(
      n, threads, [&](std::size_t i) { return detail::pair_cost(q_rows, docs_at(i).rows); });
  detail::parallel_chunks(
      bounds, threads, [&] { return std::vector<float>(q_rows); },
      [&](std::size_t begin, std::size_t end, std::vector<float>& row_max) {
        for (std::size_t i = begin; i < end; ++i) {
          const TokenMatrix doc = docs_at(i);
          if (doc.rows == 0) {
            out[i] = 0.0f;
            continue;
          }
          detail::max_similarity(prepared, doc, row_max.data(), nullptr, nullptr);
          out[i] = detail::reduce_score(row_max, options.query_weights, false);
        }
      });
}

}  // namespace

void maxsim_packed(const TokenMatrix& query, const PackedTokens& docs, std::span<float> out,
                   const MaxSimOptions& options) {
  detail::check_query(query, "query");
  validate(docs, "docs");
  detail::check_same_dim(query, "query", docs.tokens, "docs");
  detail::check_weights(options, query.rows, "query_weights");
  if (out.size() != docs.size())
    throw_invalid("out: has " + std::to_string(out.size()) +
                  " entries, expected one per document (" + std::to_string(docs.size()) + ")");
  const PreparedQuery prepared(query, docs.tokens.dtype, is_cosine(options));
  score_each(
      prepared, docs.size(), [&](std::size_t i) { return docs.item(i); }, out, options);
}

std::vector<float> maxsim_batch(const TokenMatrix& query, std::span<const TokenMatrix> docs,
                                const MaxSimOptions& options) {
  detail::check_query(query, "query");
  detail::check_weights(options, query.rows, "query_weights");
  // The first non-empty document fixes the dtype (empty ones are never read); with none,
  // the query's own dtype keeps every valid query accepted.
  const TokenMatrix* first = nullptr;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    const std::string name = "docs[" + std::to_string(i) + "]";
    validate(docs[i], name);
    detail::check_same_dim(query, "query", docs[i], name);
    if (docs[i].rows == 0) continue;
    if (!first) first = &docs[i];
    if (docs[i].dtype != first->dtype)
      throw_invalid(name + ": stored as " + std::string(dtype_name(docs[i].dtype)) +
                    " but earlier documents as " + std::string(dtype_name(first->dtype)) +
                    "; every document must share one dtype");
  }
  std::vector<float> out(docs.size());
  const PreparedQuery prepared(query, first ? first->dtype : query.dtype, is_cosine(options));
  score_each(
      prepared, docs.size(), [&](std::size_t i) { return docs[i]; }, out, options);
  return out;
}

std::vector<float> maxsim_packed(const TokenMatrix& query, const PackedTokens& docs,
                                 const MaxSimOptions& options) {
  std::vector<float> out(docs.size());
  maxsim_packed(query, docs, out, options);
  return out;
}

std::vector<float> maxsim_padded(const TokenMatrix& query, const PaddedTokens& docs,
                                 const MaxSimOptions& options) {
  detail::check_query(query, "query");
  if (docs.n_docs == 0) {
    // Nothing to score; lengths and mask are both legitimately empty then.
    validate(docs.tokens, "docs");
    if (docs.tokens.rows != 0)
      throw_invalid("docs: n_docs is 0 but the padded tokens have " +
                    std::to_string(docs.tokens.rows) + " rows");
  } else {
    validate(docs, "docs");
  }
  detail::check_same_dim(query, "query", docs.tokens, "docs");
  detail::check_weights(options, query.rows, "query_weights");
  const PreparedQuery prepared(query, docs.tokens.dtype, is_cosine(options));
  const bool zero_floor = options.padding == PaddingPolicy::zero_floor;
  const std::size_t q_rows = query.rows;
  const std::size_t max_len = docs.max_len;
  const bool by_lengths = !docs.lengths.empty();
  std::vector<float> out(docs.n_docs);

  struct Scratch {
    std::vector<float> row_max, run_max;
  };
  const auto bounds =
      detail::balanced_chunks(docs.n_docs, detail::resolve_threads(options), [&](std::size_t i) {
        return detail::pair_cost(q_rows,
                                 by_lengths ? static_cast<std::size_t>(docs.lengths[i]) : max_len);
      });
  detail::parallel_chunks(
      bounds, detail::resolve_threads(options),
      [&] {
        return Scratch{std::vector<float>(q_rows), std::vector<float>(q_rows)};
      },
      [&](std::size_t begin, std::size_t end, Scratch& s) {
        for (std::size_t i = begin; i < end; ++i) {
          const TokenMatrix rows = docs.tokens.slice(i * max_len, (i + 1) * max_len);
          bool any_valid = false;
          bool any_padding = false;
          if (by_lengths) {
            const auto n = static_cast<std::size_t>(docs.lengths[i]);
            any_valid = n > 0;
            any_padding = n < max_len;
            if (any_valid)
              detail::max_similarity(prepared, rows.slice(0, n), s.row_max.data(), nullptr,
                                     nullptr);
          } else {
            const auto mask = docs.mask.subspan(i * max_len, max_len);
            for (const std::uint8_t m : mask) any_padding = any_padding || m == 0;
            any_valid = masked_row_max(prepared, rows, mask, s.row_max, s.run_max);
          }
          out[i] = any_valid ? detail::reduce_score(s.row_max, options.query_weights,
                                                    zero_floor && any_padding)
                             : 0.0f;
        }
      });
  return out;
}

}  // namespace rank_rerank
