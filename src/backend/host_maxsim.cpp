// Late interaction over host rows, shared by the backends (see backend.hpp).
#include <algorithm>
#include <numeric>

#include "backend/backend.hpp"
#include "rank_rerank/maxsim.hpp"

namespace rank_rerank::backend {

std::vector<float> host_maxsim_candidates(const float* queries,
                                          std::span<const std::int64_t> query_offsets,
                                          const float* documents,
                                          std::span<const std::int64_t> document_offsets,
                                          std::span<const std::int64_t> candidate_offsets,
                                          std::size_t dim, int num_threads) {
  const PackedTokens q{{DType::f32, queries, static_cast<std::size_t>(query_offsets.back()), dim},
                       query_offsets};
  const PackedTokens d{
      {DType::f32, documents, static_cast<std::size_t>(document_offsets.back()), dim},
      document_offsets};
  // Candidates are the documents in order, query by query.
  std::vector<std::int64_t> ids(document_offsets.size() - 1);
  std::iota(ids.begin(), ids.end(), std::int64_t{0});
  MaxSimOptions options;
  options.num_threads = static_cast<std::size_t>(std::max(0, num_threads));
  return maxsim_candidates(q, d, candidate_offsets, ids, options);
}

}  // namespace rank_rerank::backend
