// Ward agglomerative clustering and the maxclust tree cut, arithmetic-for-arithmetic the same as
// scipy.cluster.hierarchy (linkage method="ward" via its nearest-neighbour chain, fcluster
// criterion="maxclust"), on raw buffers so token pooling can reuse its workspaces.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rank_rerank::detail {

// Ward linkage of n >= 2 observations from their full symmetric n x n distance matrix `dist`
// (row-major; the diagonal is never read). `dist` is used as scratch and overwritten. Writes the
// n - 1 rows of the linkage matrix to `z` (row-major (n - 1) x 4: smaller cluster id, larger
// cluster id, merge height, merged size), sorted by height with scipy's labels.
void ward_linkage_square(double* dist, std::size_t n, double* z);

// fcluster(Z, max_clusters, criterion="maxclust") for the n - 1 rows of `z`: writes n 1-based
// labels to `labels`. Returns the number of clusters formed (<= max_clusters; max_clusters >= 1).
std::int32_t maxclust_labels(const double* z, std::size_t n, std::size_t max_clusters,
                             std::int32_t* labels);

}  // namespace rank_rerank::detail
