// Token pooling per document (hierarchical, sequential, adaptive) and the packed batch.
//
// Hierarchical pooling follows PyLate's pool_embeddings_hierarchical step by step: the distance
// matrix it would hand to scipy (see WardVariant), scipy's Ward linkage and maxclust cut
// (ward_linkage.cpp), then float32 cluster means accumulated in token order and divided by the
// member count, as PyLate's scatter_add_ / division does. Gram matrices come from the
// single-threaded SIMD dot_rows: documents already run in parallel.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/pooling.hpp"
#include "rank_rerank/threading.hpp"
#include "scoring/postprocess/dot_kernels.hpp"
#include "scoring/postprocess/ward_linkage.hpp"

namespace rank_rerank {
namespace {

// Scratch buffers reused across the documents one thread pools.
struct Workspace {
  std::vector<float> transposed;
  std::vector<float> similarity;
  std::vector<double> x;
  std::vector<double> gram;
  std::vector<double> product;
  std::vector<double> dist;
  std::vector<double> linkage;
  std::vector<std::int32_t> labels;
  std::vector<float> sums;
  std::vector<std::int32_t> counts;

  std::size_t bytes() const {
    return 4 * (transposed.capacity() + similarity.capacity() + labels.capacity() +
                sums.capacity() + counts.capacity()) +
           8 * (x.capacity() + gram.capacity() + product.capacity() + dist.capacity() +
                linkage.capacity());
  }
};

// Each thread keeps its scratch between documents and calls (fresh pages cost more than the
// clustering of a short document), except after a long document: scratch beyond this size is
// given back.
constexpr std::size_t kKeptScratchBytes = std::size_t{16} << 20;

Workspace& thread_workspace() {
  thread_local Workspace ws;
  return ws;
}

void release_if_large(Workspace& ws) {
  if (ws.bytes() > kKeptScratchBytes) ws = Workspace{};
}

void append_rows(const float* rows, std::size_t count, std::size_t dim, std::vector<float>& out) {
  out.insert(out.end(), rows, rows + count * dim);
}

// d_ij = float32(1 - float32(x_i . x_j)) for i < j, widened to double: the condensed matrix
// PyLate > 1.4.0 builds with torch.mm and hands to scipy.
void cosine_distances(const float* x, std::size_t n, std::size_t dim, Workspace& ws) {
  const std::size_t ldn = detail::padded_columns<float>(n);
  ws.transposed.assign(dim * ldn, 0.0f);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t t = 0; t < dim; ++t) ws.transposed[t * ldn + i] = x[i * dim + t];
  ws.similarity.resize(n * n);
  detail::dot_rows(x, dim, n, ws.transposed.data(), ldn, n, dim, ws.similarity.data(), n, true);
  ws.dist.resize(n * n);
  for (std::size_t i = 0; i < n; ++i) {
    ws.dist[i * n + i] = 0.0;
    for (std::size_t j = i + 1; j < n; ++j) {
      const double d = static_cast<double>(1.0f - ws.similarity[i * n + j]);
      ws.dist[i * n + j] = d;
      ws.dist[j * n + i] = d;
    }
  }
}

// Copies the upper triangle of the n x n matrix m (row stride ld) onto the lower one.
void mirror_upper(double* m, std::size_t n, std::size_t ld) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < i; ++j) m[i * ld + j] = m[j * ld + i];
}

// Euclidean distances between the rows of 1 - S, S = X X^T (what PyLate <= 1.4.0 clustered):
// ||S_i - S_j||^2 = Q_ii + Q_jj - 2 Q_ij with Q = S S^T = X (X^T X) X^T. Evaluated in float64,
// in O(n^2 d) whichever of n and d is larger, never forming the O(n^3) product naively.
void similarity_row_distances(const float* x, std::size_t n, std::size_t dim, Workspace& ws) {
  ws.x.assign(x, x + n * dim);
  const double* xd = ws.x.data();
  const std::size_t ldn = detail::padded_columns<double>(n);
  const std::size_t ldd = detail::padded_columns<double>(dim);
  ws.product.resize(n * n);
  // Scratch: X^T [dim, ldn]; then X [n, ldd], G = X^T X [dim, ldd] and X G [n, dim] when
  // n >= dim, else S = X X^T [n, ldn]. Zeroed, so padding columns read as zeros.
  const std::size_t tail = n >= dim ? n * ldd + dim * ldd + n * dim : n * ldn;
  ws.gram.assign(dim * ldn + tail, 0.0);
  double* xt = ws.gram.data();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t t = 0; t < dim; ++t) xt[t * ldn + i] = xd[i * dim + t];
  if (n >= dim) {
    double* xp = xt + dim * ldn;
    double* g = xp + n * ldd;
    double* xg = g + dim * ldd;
    for (std::size_t i = 0; i < n; ++i) std::copy(xd + i * dim, xd + (i + 1) * dim, xp + i * ldd);
    detail::dot_rows(xt, ldn, dim, xp, ldd, dim, n, g, ldd, true);
    mirror_upper(g, dim, ldd);
    detail::dot_rows(xd, dim, n, g, ldd, dim, dim, xg, dim, false);  // G^T = G
    detail::dot_rows(xg, dim, n, xt, ldn, n, dim, ws.product.data(), n, true);
  } else {
    double* s = xt + dim * ldn;
    detail::dot_rows(xd, dim, n, xt, ldn, n, dim, s, ldn, true);
    mirror_upper(s, n, ldn);
    detail::dot_rows(s, ldn, n, s, ldn, n, n, ws.product.data(), n, true);  // S^T = S
  }
  const double* q = ws.product.data();
  ws.dist.resize(n * n);
  for (std::size_t i = 0; i < n; ++i) {
    ws.dist[i * n + i] = 0.0;
    for (std::size_t j = i + 1; j < n; ++j) {
      const double d2 = q[i * n + i] + q[j * n + j] - 2.0 * q[i * n + j];
      const double d = std::sqrt(std::max(d2, 0.0));
      ws.dist[i * n + j] = d;
      ws.dist[j * n + i] = d;
    }
  }
}

// Means of the rows sharing each label 1..clusters, in label order.
void append_cluster_means(const float* x, std::size_t n, std::size_t dim, std::int32_t clusters,
                          Workspace& ws, std::vector<float>& out) {
  const auto k = static_cast<std::size_t>(clusters);
  ws.sums.assign(k * dim, 0.0f);
  ws.counts.assign(k, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<std::size_t>(ws.labels[i] - 1);
    float* sum = ws.sums.data() + c * dim;
    const float* row = x + i * dim;
    for (std::size_t t = 0; t < dim; ++t) sum[t] += row[t];
    ++ws.counts[c];
  }
  for (std::size_t c = 0; c < k; ++c) {
    const auto count = static_cast<float>(ws.counts[c]);
    const float* sum = ws.sums.data() + c * dim;
    for (std::size_t t = 0; t < dim; ++t) out.push_back(sum[t] / count);
  }
}

// Ward clustering of n >= 2 rows into at most `clusters` groups; appends the means.
void append_ward_means(const float* x, std::size_t n, std::size_t dim, std::size_t clusters,
                       WardVariant variant, Workspace& ws, std::vector<float>& out) {
  if (variant == WardVariant::cosine_distances)
    cosine_distances(x, n, dim, ws);
  else
    similarity_row_distances(x, n, dim, ws);
  ws.linkage.resize(4 * (n - 1));
  detail::ward_linkage_square(ws.dist.data(), n, ws.linkage.data());
  ws.labels.resize(n);
  const std::int32_t formed =
      detail::maxclust_labels(ws.linkage.data(), n, clusters, ws.labels.data());
  append_cluster_means(x, n, dim, formed, ws, out);
}

void pool_hierarchical(const float* doc, std::size_t rows, std::size_t dim,
                       const PoolingOptions& options, Workspace& ws, std::vector<float>& out) {
  const std::size_t kept = options.protected_tokens;
  const std::size_t n = rows - kept;
  const float* rest = doc + kept * dim;
  const std::size_t clusters = std::max<std::size_t>(n / options.pool_factor, 1);
  if (options.variant == WardVariant::cosine_distances) {
    if (clusters >= n) {
      append_rows(doc, rows, dim, out);
      return;
    }
    append_rows(doc, kept, dim, out);
    append_ward_means(rest, n, dim, clusters, options.variant, ws, out);
    return;
  }
  // PyLate <= 1.4.0 puts the pooled vectors first. It fails outright (scipy gets no pair) when
  // n <= 1; such documents keep their vectors, in that same order.
  if (n <= 1)
    append_rows(rest, n, dim, out);
  else
    append_ward_means(rest, n, dim, clusters, options.variant, ws, out);
  append_rows(doc, kept, dim, out);
}

void pool_sequential(const float* doc, std::size_t rows, std::size_t dim,
                     const PoolingOptions& options, std::vector<float>& out) {
  const std::size_t kept = options.protected_tokens;
  append_rows(doc, kept, dim, out);
  std::vector<float> sum(dim);
  for (std::size_t start = kept; start < rows; start += options.pool_factor) {
    const std::size_t end = std::min(rows, start + options.pool_factor);
    std::fill(sum.begin(), sum.end(), 0.0f);
    for (std::size_t i = start; i < end; ++i)
      for (std::size_t t = 0; t < dim; ++t) sum[t] += doc[i * dim + t];
    const auto count = static_cast<float>(end - start);
    for (std::size_t t = 0; t < dim; ++t) out.push_back(sum[t] / count);
  }
}

void pool_document(const float* doc, std::size_t rows, std::size_t dim,
                   const PoolingOptions& options, Workspace& ws, std::vector<float>& out) {
  if (options.pool_factor == 1) {
    append_rows(doc, rows, dim, out);
    return;
  }
  const bool sequential = options.method == PoolingMethod::sequential ||
                          (options.method == PoolingMethod::adaptive && options.pool_factor >= 4);
  if (sequential)
    pool_sequential(doc, rows, dim, options, out);
  else
    pool_hierarchical(doc, rows, dim, options, ws, out);
}

void check_options(const PoolingOptions& options, const char* fn) {
  if (options.pool_factor == 0)
    throw_invalid(std::string(fn) + ": pool_factor must be >= 1, got 0");
  if (options.method != PoolingMethod::hierarchical &&
      options.method != PoolingMethod::sequential && options.method != PoolingMethod::adaptive)
    throw_invalid(std::string(fn) + ": unknown pooling method");
  if (options.variant != WardVariant::cosine_distances &&
      options.variant != WardVariant::similarity_rows)
    throw_invalid(std::string(fn) + ": unknown Ward variant");
}

// Checks one document's shape against the options and that every value is finite.
void check_document(const float* doc, std::size_t rows, std::size_t dim,
                    const PoolingOptions& options, const std::string& what) {
  if (options.protected_tokens > rows)
    throw_invalid(what + ": protected_tokens = " + std::to_string(options.protected_tokens) +
                  " exceeds the document's " + std::to_string(rows) + " tokens");
  for (std::size_t i = 0; i < rows * dim; ++i)
    if (!std::isfinite(doc[i]))
      throw_invalid(what + ": token " + std::to_string(i / dim) + " has a non-finite value (" +
                    std::to_string(doc[i]) + ") at dimension " + std::to_string(i % dim));
}

}  // namespace

PooledMatrix pool_tokens(const MatrixView& doc, const PoolingOptions& options) {
  check_options(options, "pool_tokens");
  if (doc.cols == 0)
    throw_invalid("pool_tokens: dimension must be positive, got shape (" +
                  std::to_string(doc.rows) + ", 0)");
  if (doc.rows > 0 && doc.data == nullptr) throw_invalid("pool_tokens: document data is null");
  check_document(doc.data, doc.rows, doc.cols, options, "pool_tokens");
  PooledMatrix result;
  result.cols = doc.cols;
  Workspace& ws = thread_workspace();
  pool_document(doc.data, doc.rows, doc.cols, options, ws, result.values);
  release_if_large(ws);
  result.rows = result.values.size() / doc.cols;
  return result;
}

PooledPacked pool_tokens_packed(const PackedTokens& docs, const PoolingOptions& options) {
  check_options(options, "pool_tokens_packed");
  validate(docs, "pool_tokens_packed: docs");
  if (docs.tokens.dtype != DType::f32)
    throw_unsupported("pool_tokens_packed: documents must be float32, got " +
                      std::string(dtype_name(docs.tokens.dtype)));
  const std::size_t n_docs = docs.size();
  const std::size_t dim = docs.tokens.dim;
  const auto* base = static_cast<const float*>(docs.tokens.data);
  for (std::size_t i = 0; i < n_docs; ++i) {
    const auto begin = static_cast<std::size_t>(docs.offsets[i]);
    const auto end = static_cast<std::size_t>(docs.offsets[i + 1]);
    check_document(base + begin * dim, end - begin, dim, options,
                   "pool_tokens_packed: document " + std::to_string(i));
  }

  std::vector<std::vector<float>> pooled(n_docs);
  const std::size_t wanted = options.num_threads != 0 ? options.num_threads : default_num_threads();
  const int threads = static_cast<int>(std::max<std::size_t>(1, std::min(wanted, n_docs)));
#pragma omp parallel num_threads(threads)
  {
    Workspace& ws = thread_workspace();
#pragma omp for schedule(dynamic)
    for (std::size_t i = 0; i < n_docs; ++i) {
      const auto begin = static_cast<std::size_t>(docs.offsets[i]);
      const auto end = static_cast<std::size_t>(docs.offsets[i + 1]);
      pool_document(base + begin * dim, end - begin, dim, options, ws, pooled[i]);
    }
    release_if_large(ws);
  }

  PooledPacked result;
  result.cols = dim;
  result.offsets.resize(n_docs + 1, 0);
  std::size_t total = 0;
  for (std::size_t i = 0; i < n_docs; ++i) {
    total += pooled[i].size();
    result.offsets[i + 1] = static_cast<std::int64_t>(total / dim);
  }
  result.values.reserve(total);
  for (auto& p : pooled) result.values.insert(result.values.end(), p.begin(), p.end());
  return result;
}

}  // namespace rank_rerank
