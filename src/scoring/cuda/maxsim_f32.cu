// MaxSim for float32 documents on the CUDA cores, in float32 like the CPU kernels (tensor cores
// would round to tf32 or f16, far from the CPU's 1e-5). A warp scores one query group: lane i
// holds query token i in registers; every document row is read once per warp (the same address
// in every lane, one transaction) and each lane folds its own dot product into its running max.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "scoring/cuda/maxsim_device.cuh"
#include "scoring/cuda/maxsim_kernels.hpp"

namespace rank_rerank::gpu_detail {
namespace {

__device__ __forceinline__ float query_value(const Rows& q, std::int64_t row, int k) {
  const std::size_t i = static_cast<std::size_t>(row) * q.dim + static_cast<std::size_t>(k);
  if (q.dtype == kF16) return __half2float(static_cast<const __half*>(q.data)[i]);
  if (q.dtype == kBF16) return __bfloat162float(static_cast<const __nv_bfloat16*>(q.data)[i]);
  return static_cast<const float*>(q.data)[i];
}

template <int KP>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    maxsim_f32_kernel(const ScoreLaunch p, int query_warps, std::int64_t chunk_docs) {
  constexpr int kDim = 32 * KP;
  const WarpWork work = warp_work(query_warps);
  if (work.query >= static_cast<std::int64_t>(p.n_queries)) return;
  const int lane = static_cast<int>(threadIdx.x & 31);
  const std::int64_t q_begin = p.query_offsets[work.query];
  const std::int64_t q_end = p.query_offsets[work.query + 1];
  const std::int64_t out_base = work.query * static_cast<std::int64_t>(p.n_docs);
  const auto* docs = static_cast<const float*>(p.docs.data);

  for (std::int64_t row0 = q_begin; row0 < q_end; row0 += 32) {
    const bool first_group = row0 == q_begin;
    const bool live = row0 + lane < q_end;
    const std::int64_t row = live ? row0 + lane : q_end - 1;
    float q[kDim];
    double n2 = 0.0;
    bool zero = true;
#pragma unroll
    for (int k = 0; k < kDim; ++k) {
      q[k] = query_value(p.queries, row, k);
      n2 += static_cast<double>(q[k]) * q[k];
      zero = zero && q[k] == 0.0f;
    }
    if (p.cosine) {
      const double inv = n2 > 0.0 ? 1.0 / sqrt(n2) : 0.0;
#pragma unroll
      for (int k = 0; k < kDim; ++k) q[k] = static_cast<float>(q[k] * inv);
    }
    const float weight = p.weights ? p.weights[row] : 1.0f;

    DocWalk walk;
    if (!walk_begin(walk, p, work, chunk_docs, out_base, first_group)) continue;
    float best = -INFINITY;
    for (;;) {
      const std::int64_t rows = min(walk.row_end - walk.row0, std::int64_t{16});
      for (std::int64_t r = 0; r < rows; ++r) {
        const float4* d = reinterpret_cast<const float4*>(docs + (walk.row0 + r) * kDim);
        float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        float sq[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
        for (int k = 0; k < kDim / 4; ++k) {
          const float4 v = __ldg(d + k);
          acc[0] = fmaf(q[4 * k], v.x, acc[0]);
          acc[1] = fmaf(q[4 * k + 1], v.y, acc[1]);
          acc[2] = fmaf(q[4 * k + 2], v.z, acc[2]);
          acc[3] = fmaf(q[4 * k + 3], v.w, acc[3]);
          if (p.cosine) {
            sq[0] = fmaf(v.x, v.x, sq[0]);
            sq[1] = fmaf(v.y, v.y, sq[1]);
            sq[2] = fmaf(v.z, v.z, sq[2]);
            sq[3] = fmaf(v.w, v.w, sq[3]);
          }
        }
        float sim = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        if (p.cosine) {
          const float s2 = (sq[0] + sq[1]) + (sq[2] + sq[3]);
          float inv = 1.0f / sqrtf(s2);
          if (!(s2 < INFINITY)) {
            // A finite row whose squares overflow float32: measured in float64, as on the CPU.
            const float* dr = docs + (walk.row0 + r) * kDim;
            double wide = 0.0;
            for (int k = 0; k < kDim; ++k) wide += static_cast<double>(dr[k]) * dr[k];
            inv = static_cast<float>(1.0 / sqrt(wide));
          }
          sim = s2 == 0.0f ? 0.0f : sim * inv;
        }
        best = max_nan(best, sim);
      }
      DocWalk next = walk;
      const bool more = walk_next(next, p.out, out_base, first_group);
      if (!more || next.doc != walk.doc) {
        const float m = p.cosine && zero ? 0.0f : best;
        // Summed in float64 like the CPU's reduction, so the order of the terms does not matter.
        double v = live ? static_cast<double>(weight) * m : 0.0;
#pragma unroll
        for (int s = 16; s > 0; s >>= 1) v += __shfl_xor_sync(kFullMask, v, s);
        if (lane == 0) add_score(p.out, out_base + walk.doc, static_cast<float>(v), first_group);
        best = -INFINITY;
      }
      if (!more) break;
      walk = next;
    }
  }
}

template <int KP>
void launch_kp(const ScoreLaunch& p) {
  static int blocks_per_sm = [] {
    int n = 0;
    check_cuda(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, maxsim_f32_kernel<KP>,
                                                             kWarpsPerBlock * 32, 0),
               "MaxSim occupancy query");
    return n > 0 ? n : 1;
  }();
  const Geometry geo = plan_geometry(p.n_queries, p.n_docs, blocks_per_sm);
  maxsim_f32_kernel<KP><<<geo.grid, kWarpsPerBlock * 32, 0, static_cast<cudaStream_t>(p.stream)>>>(
      p, geo.query_warps, geo.chunk_docs);
  check_cuda(cudaGetLastError(), "MaxSim kernel launch");
}

}  // namespace

void launch_maxsim_f32(const ScoreLaunch& p) {
  switch (p.docs.dim) {
    case 32:
      return launch_kp<1>(p);
    case 64:
      return launch_kp<2>(p);
    case 96:
      return launch_kp<3>(p);
    default:
      return launch_kp<4>(p);
  }
}

}  // namespace rank_rerank::gpu_detail
