// Launchers of the MaxSim kernels, one per family; launch_maxsim (gpu_launch.cu) picks one.
#pragma once

#include "scoring/cuda/gpu_runtime.hpp"

namespace rank_rerank::gpu_detail {

// f16, bf16, i8 and bit documents (tensor cores); picks the register or the staged family.
void launch_maxsim_mma(const ScoreLaunch& launch);
// f16, bf16 and i8 documents, tiles staged through shared memory (maxsim_staged.cu).
void launch_maxsim_staged(const ScoreLaunch& launch);
// f32 documents (float32 FMA, the CPU's precision).
void launch_maxsim_f32(const ScoreLaunch& launch);

}  // namespace rank_rerank::gpu_detail
