// Backend::maxsim_candidates on the CUDA backend's device: the fused GPU MaxSim kernels
// (rank_rerank/gpu_maxsim.hpp) read the query and document rows where the encoder left them, and
// only the scores are copied to the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "backend/cuda/device_memory.hpp"
#include "rank_rerank/tensor.hpp"

namespace rank_rerank::backend::cuda {

// The op for rows of `dtype` (f32, f16 or bf16) in `context`'s device memory, enqueued on its
// stream; dim must be one gpu::supports_dim accepts. Returns when the scores are on the host.
std::vector<float> device_maxsim_candidates(const std::shared_ptr<DeviceContext>& context,
                                            DType dtype, const void* queries,
                                            std::span<const std::int64_t> query_offsets,
                                            const void* documents,
                                            std::span<const std::int64_t> document_offsets,
                                            std::span<const std::int64_t> candidate_offsets,
                                            std::size_t dim);

}  // namespace rank_rerank::backend::cuda
