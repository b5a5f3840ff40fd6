// Public entry points to the Ward linkage and the maxclust cut: argument checks around the
// detail implementation.
#include <cmath>
#include <string>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/pooling.hpp"
#include "scoring/postprocess/ward_linkage.hpp"

namespace rank_rerank {
namespace {

// n such that n(n-1)/2 == m, or 0 when m is not a triangular number.
std::size_t observations_for(std::size_t m) {
  const auto n =
      static_cast<std::size_t>((1.0 + std::sqrt(1.0 + 8.0 * static_cast<double>(m))) / 2.0);
  for (std::size_t c = n > 1 ? n - 1 : 1; c <= n + 1; ++c)
    if (c * (c - 1) / 2 == m) return c;
  return 0;
}

void check_linkage(std::span<const double> z, std::size_t n) {
  std::vector<bool> used(2 * n - 1, false);
  for (std::size_t r = 0; r + 1 < n; ++r) {
    const double* row = z.data() + 4 * r;
    const std::string where = "fcluster_maxclust: linkage row " + std::to_string(r);
    if (std::isnan(row[2])) throw_invalid(where + " has a NaN height");
    for (int c = 0; c < 2; ++c) {
      const double id = row[c];
      if (!(id >= 0.0) || id != std::floor(id) || id >= static_cast<double>(n + r))
        throw_invalid(where + " refers to cluster " + std::to_string(id) +
                      ", which is not formed before that row (valid ids: 0 .. " +
                      std::to_string(n + r - 1) + ")");
      const auto k = static_cast<std::size_t>(id);
      if (used[k]) throw_invalid(where + " uses cluster " + std::to_string(k) + " a second time");
      used[k] = true;
    }
  }
}

}  // namespace

std::vector<double> ward_linkage(std::span<const double> condensed) {
  const std::size_t n = observations_for(condensed.size());
  if (n < 2)
    throw_invalid(
        "ward_linkage: condensed distances must hold n(n-1)/2 values for some n >= 2, got " +
        std::to_string(condensed.size()) + " values");
  for (std::size_t i = 0; i < condensed.size(); ++i)
    if (!std::isfinite(condensed[i]))
      throw_invalid("ward_linkage: distances must be finite, got " + std::to_string(condensed[i]) +
                    " at index " + std::to_string(i));
  std::vector<double> square(n * n, 0.0);
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j, ++k)
      square[i * n + j] = square[j * n + i] = condensed[k];
  std::vector<double> z(4 * (n - 1));
  detail::ward_linkage_square(square.data(), n, z.data());
  return z;
}

std::vector<std::int32_t> fcluster_maxclust(std::span<const double> linkage,
                                            std::size_t max_clusters) {
  if (linkage.empty() || linkage.size() % 4 != 0)
    throw_invalid("fcluster_maxclust: linkage must have shape (n - 1, 4) with n >= 2, got " +
                  std::to_string(linkage.size()) + " values");
  if (max_clusters == 0) throw_invalid("fcluster_maxclust: max_clusters must be >= 1, got 0");
  const std::size_t n = linkage.size() / 4 + 1;
  check_linkage(linkage, n);
  std::vector<std::int32_t> labels(n);
  detail::maxclust_labels(linkage.data(), n, max_clusters, labels.data());
  return labels;
}

}  // namespace rank_rerank
