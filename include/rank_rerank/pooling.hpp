// Token pooling: fewer vectors per document for late-interaction indexes (Clavié et al. 2024).
//
// Hierarchical pooling reproduces PyLate's ColBERT.pool_embeddings_hierarchical: per document
// the first `protected_tokens` vectors are kept untouched; the other n vectors are clustered with
// Ward linkage (scipy.cluster.hierarchy.linkage, method="ward"), the tree is cut into at most
// max(n / pool_factor, 1) clusters (fcluster criterion="maxclust") and each cluster is replaced by
// the mean of its members, not re-normalised. Clusters come out in scipy's fcluster label order
// (a depth-first walk of the linkage tree). The linkage is scipy's nearest-neighbour chain with
// the same tie-breaking and the same floating-point operations, so given the same distances the
// tree, the labels and the pooled vectors are identical. See docs/scoring.md for the details and
// for the edge cases in which PyLate itself fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rank_rerank/tensor.hpp"

namespace rank_rerank {

// Which distances the Ward linkage sees; the two PyLate generations differ.
enum class WardVariant : std::uint8_t {
  // PyLate after 1.4.0 (read in 1.6.0): the condensed matrix of cosine distances
  // d_ij = float32(1 - float32(x_i . x_j)) is handed to linkage; protected tokens come first,
  // then the pooled vectors. Documents with max(n / pool_factor, 1) >= n are returned unchanged.
  cosine_distances,
  // PyLate 1.4.0 and earlier: the square matrix 1 - X X^T is handed to linkage, which scipy
  // treats as n observations of n features, so Ward runs on the Euclidean distances between the
  // rows of 1 - S (computed here from a Gram matrix in float64, O(n^2 d)). The pooled vectors
  // come first and the protected tokens are appended after them.
  similarity_rows,
};

enum class PoolingMethod : std::uint8_t {
  hierarchical,  // Ward clustering as above
  sequential,    // means of consecutive windows of pool_factor tokens (the last may be shorter)
  adaptive,      // the seed crate's rule: sequential when pool_factor >= 4, else hierarchical
};

struct PoolingOptions {
  // Target ratio of input to output vectors; must be >= 1 (1 returns the document unchanged,
  // as PyLate's encode does).
  std::size_t pool_factor = 2;
  // Leading vectors (the [CLS] / [D] markers) copied through unpooled; must not exceed the
  // document's token count.
  std::size_t protected_tokens = 1;
  PoolingMethod method = PoolingMethod::hierarchical;
  WardVariant variant = WardVariant::cosine_distances;
  // Worker threads for the packed batch (documents run in parallel); 0 = library default.
  std::size_t num_threads = 0;
};

// Pooled vectors of one document, row-major [rows, cols].
struct PooledMatrix {
  std::vector<float> values;
  std::size_t rows = 0;
  std::size_t cols = 0;
  MatrixView view() const noexcept { return {values.data(), rows, cols}; }
};

// Pooled vectors of many documents, packed: document i owns rows [offsets[i], offsets[i+1]).
struct PooledPacked {
  std::vector<float> values;
  std::size_t cols = 0;
  std::vector<std::int64_t> offsets;
  std::size_t rows() const noexcept { return cols == 0 ? 0 : values.size() / cols; }
};

// Pools one document [tokens, dim]. Throws Error (invalid_argument) for pool_factor 0,
// protected_tokens > tokens, a non-finite value or dim 0.
PooledMatrix pool_tokens(const MatrixView& doc, const PoolingOptions& options = {});

// Pools every document of a packed float32 batch; documents are independent and run on
// options.num_threads threads. Results do not depend on the thread count.
PooledPacked pool_tokens_packed(const PackedTokens& docs, const PoolingOptions& options = {});

// ---- The clustering steps, exposed so they can be checked against scipy directly ----------

// scipy.cluster.hierarchy.linkage(condensed, method="ward"): `condensed` holds the n(n-1)/2
// pairwise distances (row-major upper triangle, as scipy.spatial.distance.squareform gives).
// Returns the (n-1) x 4 linkage matrix row-major: [cluster a, cluster b, height, size] with
// a < b, rows sorted by height (stable), new clusters numbered n, n+1, ... Needs n >= 2 and
// finite distances (negative ones are accepted, as scipy's linkage accepts them).
std::vector<double> ward_linkage(std::span<const double> condensed);

// scipy.cluster.hierarchy.fcluster(Z, max_clusters, criterion="maxclust"): 1-based flat cluster
// labels of the n = rows(Z) + 1 observations, numbered in scipy's depth-first order. Needs
// max_clusters >= 1 and a well-formed Z (every cluster used once, after it is formed, heights
// not NaN). Unlike scipy it accepts negative heights.
std::vector<std::int32_t> fcluster_maxclust(std::span<const double> linkage,
                                            std::size_t max_clusters);

}  // namespace rank_rerank
