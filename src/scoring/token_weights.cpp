#include "rank_rerank/token_weights.hpp"

#include <cmath>
#include <string>

#include "rank_rerank/error.hpp"

namespace rank_rerank {

namespace {

void check_n_docs(std::int64_t n_docs) {
  if (n_docs < 0) throw_invalid("n_docs: must not be negative, got " + std::to_string(n_docs));
}

// Formula only; arguments already checked.
double idf_unchecked(std::int64_t df, std::int64_t n_docs) {
  const double n = static_cast<double>(n_docs);
  const double f = static_cast<double>(df);
  return std::log1p((n - f + 0.5) / (f + 0.5));
}

void check_df(std::int64_t df, std::int64_t n_docs, const std::string& where) {
  if (df < 0 || df > n_docs)
    throw_invalid(where + " = " + std::to_string(df) +
                  " is outside [0, n_docs = " + std::to_string(n_docs) + "]");
}

}  // namespace

float bm25_idf(std::int64_t document_frequency, std::int64_t n_docs) {
  check_n_docs(n_docs);
  check_df(document_frequency, n_docs, "document_frequency");
  return static_cast<float>(idf_unchecked(document_frequency, n_docs));
}

std::vector<float> bm25_idf(std::span<const std::int64_t> document_frequencies,
                            std::int64_t n_docs) {
  check_n_docs(n_docs);
  std::vector<float> out(document_frequencies.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    check_df(document_frequencies[i], n_docs, "document_frequencies[" + std::to_string(i) + "]");
    out[i] = static_cast<float>(idf_unchecked(document_frequencies[i], n_docs));
  }
  return out;
}

std::vector<float> idf_weights(std::span<const std::int64_t> token_ids,
                               std::span<const std::int64_t> document_frequencies,
                               std::int64_t n_docs) {
  check_n_docs(n_docs);
  std::vector<float> out(token_ids.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::int64_t id = token_ids[i];
    if (id < 0)
      throw_invalid("token_ids[" + std::to_string(i) + "] = " + std::to_string(id) +
                    " is negative");
    std::int64_t df = 0;
    if (static_cast<std::uint64_t>(id) < document_frequencies.size()) {
      df = document_frequencies[static_cast<std::size_t>(id)];
      check_df(df, n_docs, "document_frequencies[" + std::to_string(id) + "]");
    }
    out[i] = static_cast<float>(idf_unchecked(df, n_docs));
  }
  return out;
}

std::vector<float> bm25_weights(std::span<const float> term_frequencies,
                                std::span<const std::int64_t> document_frequencies,
                                std::int64_t n_docs, double doc_length, double avg_doc_length,
                                const Bm25Parameters& params) {
  check_n_docs(n_docs);
  if (term_frequencies.size() != document_frequencies.size())
    throw_invalid("bm25_weights: term_frequencies has " + std::to_string(term_frequencies.size()) +
                  " entries but document_frequencies has " +
                  std::to_string(document_frequencies.size()) + "; they must be aligned");
  if (!(doc_length >= 0.0) || std::isinf(doc_length))
    throw_invalid("doc_length: must be a finite number >= 0, got " + std::to_string(doc_length));
  if (!(avg_doc_length > 0.0) || std::isinf(avg_doc_length))
    throw_invalid("avg_doc_length: must be a finite number > 0, got " +
                  std::to_string(avg_doc_length));
  if (!(params.k1 >= 0.0f) || std::isinf(params.k1))
    throw_invalid("k1: must be a finite number >= 0, got " + std::to_string(params.k1));
  if (!(params.b >= 0.0f && params.b <= 1.0f))
    throw_invalid("b: must lie in [0, 1], got " + std::to_string(params.b));
  const double k1 = params.k1;
  const double b = params.b;
  const double length_norm = k1 * (1.0 - b + b * doc_length / avg_doc_length);
  std::vector<float> out(term_frequencies.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double tf = term_frequencies[i];
    if (!(tf >= 0.0) || std::isinf(tf))
      throw_invalid("term_frequencies[" + std::to_string(i) + "] = " + std::to_string(tf) +
                    " must be a finite number >= 0");
    check_df(document_frequencies[i], n_docs, "document_frequencies[" + std::to_string(i) + "]");
    // tf == 0 with k1 == 0 and a zero length norm would be 0/0; such a term contributes 0.
    const double denominator = tf + length_norm;
    const double saturation = denominator > 0.0 ? tf * (k1 + 1.0) / denominator : 0.0;
    out[i] = static_cast<float>(idf_unchecked(document_frequencies[i], n_docs) * saturation);
  }
  return out;
}

std::vector<float> attention_weights(std::span<const float> scores) {
  std::vector<float> out(scores.size());
  if (out.empty()) return out;
  double sum = 0.0;
  for (const float s : scores) sum += s;
  if (std::abs(sum) < 1e-9) {
    const float uniform = 1.0f / static_cast<float>(out.size());
    for (float& w : out) w = uniform;
    return out;
  }
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<float>(static_cast<double>(scores[i]) / sum);
  return out;
}

}  // namespace rank_rerank
