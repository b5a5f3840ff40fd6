#include "backend/cuda/maxsim_candidates.hpp"

#include <cstring>

#include "backend/cuda/cuda_check.hpp"
#include "rank_rerank/gpu_maxsim.hpp"

namespace rank_rerank::backend::cuda {

std::vector<float> device_maxsim_candidates(const std::shared_ptr<DeviceContext>& context,
                                            DType dtype, const void* queries,
                                            std::span<const std::int64_t> query_offsets,
                                            const void* documents,
                                            std::span<const std::int64_t> document_offsets,
                                            std::span<const std::int64_t> candidate_offsets,
                                            std::size_t dim) {
  std::vector<float> scores(static_cast<std::size_t>(candidate_offsets.back()));
  if (scores.empty()) return scores;
  DeviceContext& c = *context;
  cudaStream_t stream = c.stream();
  const std::size_t offset_bytes = document_offsets.size_bytes();
  const std::shared_ptr<void> offsets = DeviceContext::allocate(context, offset_bytes);
  void* staged = c.stage(offset_bytes);
  std::memcpy(staged, document_offsets.data(), offset_bytes);
  check(cudaMemcpyAsync(offsets.get(), staged, offset_bytes, cudaMemcpyHostToDevice, stream),
        "copy document offsets");
  const std::size_t score_bytes = scores.size() * sizeof(float);
  const std::shared_ptr<void> device_scores = DeviceContext::allocate(context, score_bytes);
  auto* out = static_cast<float*>(device_scores.get());

  gpu::GpuOptions options;
  options.similarity = Similarity::dot;
  options.device = Device::cuda(c.device());
  options.stream = stream;
  const gpu::DeviceTokens all_documents{dtype, documents,
                                        static_cast<std::size_t>(document_offsets.back()), dim};
  const std::size_t query_row_bytes = row_bytes(dtype, dim);
  // One launch per query over its own documents: a single all-pairs launch would also score
  // every query against the other queries' documents.
  for (std::size_t q = 0; q + 1 < candidate_offsets.size(); ++q) {
    const std::int64_t first = candidate_offsets[q];
    const auto count = static_cast<std::size_t>(candidate_offsets[q + 1] - first);
    if (count == 0) continue;
    const std::int64_t rows = query_offsets[q + 1] - query_offsets[q];
    const gpu::DeviceTokens query{dtype,
                                  static_cast<const std::byte*>(queries) +
                                      static_cast<std::size_t>(query_offsets[q]) * query_row_bytes,
                                  static_cast<std::size_t>(rows), dim};
    const std::int64_t query_rows[2] = {0, rows};
    gpu::maxsim_device(
        query, query_rows,
        {all_documents, static_cast<const std::int64_t*>(offsets.get()) + first, count},
        out + first, options);
  }

  void* host = c.stage(score_bytes);
  check(cudaMemcpyAsync(host, out, score_bytes, cudaMemcpyDeviceToHost, stream),
        "copy scores to host");
  check(cudaStreamSynchronize(stream), "maxsim_candidates");
  std::memcpy(scores.data(), host, score_bytes);
  c.rewind();
  return scores;
}

}  // namespace rank_rerank::backend::cuda
