// Tensor-core MaxSim for f16, bf16 and int8 documents with document tiles staged through shared
// memory: each warp keeps a ring of kStages 16-row tiles in flight (cp.async, 8- or 16-byte
// copies), so an SM has several times more bytes of reads outstanding than the register double
// buffer of maxsim_mma.cu allows, with fewer registers per warp (more warps per SM).
//
// Every lane copies exactly the bytes it later feeds to the tensor cores (the fragment layout of
// maxsim_mma_parts.cuh), into slots of its own: no lane reads what another lane copied, so the
// ring needs no barrier, only cp.async.wait_group, and warps run independently. int8 row scales
// ride along in the same stages. The walk over documents runs kStages - 1 tiles ahead of the
// tensor cores; a small queue in registers remembers which document each staged tile belongs to
// and whether it ends it.
#include <cuda_runtime.h>

#include <cstdint>

#include "scoring/cuda/maxsim_device.cuh"
#include "scoring/cuda/maxsim_kernels.hpp"
#include "scoring/cuda/maxsim_mma_parts.cuh"

namespace rank_rerank::gpu_detail {
namespace {

using namespace mma;

template <int BYTES>
__device__ __forceinline__ void cp_async(std::uint32_t dst, const void* src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], %2;" ::"r"(dst), "l"(src), "n"(BYTES)
               : "memory");
}
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;" ::: "memory");
}
// Waits until at most PENDING of the most recent groups are still in flight.
template <int PENDING>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(PENDING) : "memory");
}

// One stage (one 16-row tile) of one warp. Slot (r, c) of lane l, for row r (0: g, 1: g + 8)
// and copy c, sits at ((r * kCopies + c) * 32 + l) * kCopyBytes: the 32 lanes read a slot at
// consecutive addresses, free of bank conflicts. int8 scales follow: row g's of lane l at
// kTileBytes + 4 l, row g + 8's 128 bytes later.
template <int KIND, int KP>
struct StageLayout {
  using L = LaneLayout<KIND, KP>;
  static constexpr int kTileBytes = 2 * L::kCopies * 32 * L::kCopyBytes;
  static constexpr int kScaleBytes = KIND == kKindI8 ? 2 * 32 * 4 : 0;
  static constexpr int kBytes = kTileBytes + kScaleBytes;
  // About 16 KB per warp at 3 blocks per SM (12 KB at 4): 192 KB of the SM's 228 KB.
  static constexpr int kWarpBytes = KP >= 3 ? 16384 : 12288;
  static constexpr int kStages = kWarpBytes / kBytes < 2   ? 2
                                 : kWarpBytes / kBytes > 6 ? 6
                                                           : kWarpBytes / kBytes;
  static constexpr int kBlockBytes = kWarpsPerBlock * kStages * kBytes;
};

template <int KIND, int KP>
__device__ __forceinline__ void issue_tile(std::uint32_t at, const std::uint8_t* base,
                                           const ScoreLaunch& p, const DocWalk& w, int g, int t,
                                           int lane) {
  using L = LaneLayout<KIND, KP>;
  using S = StageLayout<KIND, KP>;
  std::int64_t ra, rb;
  tile_rows(w, g, ra, rb);
  const std::uint8_t* pa = base + static_cast<std::size_t>(ra) * L::kRowBytes;
  const std::uint8_t* pb = base + static_cast<std::size_t>(rb) * L::kRowBytes;
#pragma unroll
  for (int c = 0; c < L::kCopies; ++c) {
    const std::size_t from = static_cast<std::size_t>(L::kCopyBytes) * (4 * c + t);
    cp_async<L::kCopyBytes>(at + (c * 32 + lane) * L::kCopyBytes, pa + from);
    cp_async<L::kCopyBytes>(at + ((L::kCopies + c) * 32 + lane) * L::kCopyBytes, pb + from);
  }
  if constexpr (KIND == kKindI8) {
    cp_async<4>(at + S::kTileBytes + 4 * lane, p.docs.scales + ra);
    cp_async<4>(at + S::kTileBytes + 128 + 4 * lane, p.docs.scales + rb);
  }
}

template <int KIND, int KP>
__device__ __forceinline__ void read_stage(Tile<KIND, KP>& tile, float& scale_a, float& scale_b,
                                           const std::uint8_t* at, int lane) {
  using L = LaneLayout<KIND, KP>;
  using S = StageLayout<KIND, KP>;
#pragma unroll
  for (int c = 0; c < L::kCopies; ++c) {
    const std::uint8_t* a = at + (c * 32 + lane) * L::kCopyBytes;
    const std::uint8_t* b = at + ((L::kCopies + c) * 32 + lane) * L::kCopyBytes;
    if constexpr (L::kCopyBytes == 16) {
      tile_from_copy<KIND, KP>(tile, c, *reinterpret_cast<const uint4*>(a),
                               *reinterpret_cast<const uint4*>(b));
    } else {
      tile_from_copy<KIND, KP>(tile, c, *reinterpret_cast<const uint2*>(a),
                               *reinterpret_cast<const uint2*>(b));
    }
  }
  scale_a = scale_b = 1.0f;
  if constexpr (KIND == kKindI8) {
    scale_a = *reinterpret_cast<const float*>(at + S::kTileBytes + 4 * lane);
    scale_b = *reinterpret_cast<const float*>(at + S::kTileBytes + 128 + 4 * lane);
  }
}

// The queue entry of a staged tile: 2 * document + (1 if the tile ends the document), or -1 for
// a stage left empty at the end of the walk.
__device__ __forceinline__ std::int64_t queue_entry(const DocWalk& w) {
  return 2 * w.doc + (w.row0 + 16 >= w.row_end ? 1 : 0);
}

template <int KIND, int KP>
__global__ void __launch_bounds__(kWarpsPerBlock * 32, KP >= 3 ? 3 : 4)
    maxsim_staged_kernel(const ScoreLaunch p, int query_warps, std::int64_t chunk_docs) {
  using S = StageLayout<KIND, KP>;
  constexpr int kStages = S::kStages;
  extern __shared__ uint4 stage_memory[];
  const WarpWork work = warp_work(query_warps);
  if (work.query >= static_cast<std::int64_t>(p.n_queries)) return;
  const int warp = static_cast<int>(threadIdx.x >> 5);
  const int lane = static_cast<int>(threadIdx.x & 31), g = lane >> 2, t = lane & 3;
  const std::int64_t q_begin = p.query_offsets[work.query];
  const std::int64_t q_end = p.query_offsets[work.query + 1];
  const std::int64_t out_base = work.query * static_cast<std::int64_t>(p.n_docs);
  const auto* base = static_cast<const std::uint8_t*>(p.docs.data);
  const std::uint8_t* stages =
      reinterpret_cast<const std::uint8_t*>(stage_memory) + warp * kStages * S::kBytes;
  const auto stages_at = static_cast<std::uint32_t>(__cvta_generic_to_shared(stages));

  for (std::int64_t row0 = q_begin; row0 < q_end; row0 += 32) {
    const bool first_group = row0 == q_begin;
    QueryGroup<KIND, KP> qg;
    load_group<KIND, KP>(qg, p, row0, static_cast<int>(min(std::int64_t{32}, q_end - row0)), g, t);
    DocWalk walk;
    bool more = walk_begin(walk, p, work, chunk_docs, out_base, first_group);
    if (!more) continue;
    float mx[4][2];
#pragma unroll
    for (int j = 0; j < 4; ++j) mx[j][0] = mx[j][1] = -INFINITY;

    // Fill the ring; queue[0] is always the oldest staged tile.
    std::int64_t queue[kStages];
#pragma unroll
    for (int s = 0; s < kStages; ++s) {
      queue[s] = -1;
      if (more) {
        issue_tile<KIND, KP>(stages_at + s * S::kBytes, base, p, walk, g, t, lane);
        queue[s] = queue_entry(walk);
        more = walk_next(walk, p.out, out_base, first_group);
      }
      cp_async_commit();
    }
    int stage = 0;
    for (;;) {
      cp_async_wait<kStages - 1>();
      const std::int64_t head = queue[0];
      if (head < 0) break;
      Tile<KIND, KP> cur;
      float scale_a, scale_b;
      read_stage<KIND, KP>(cur, scale_a, scale_b, stages + stage * S::kBytes, lane);
      const RowScale s = row_scale<KIND, KP>(cur, p, scale_a, scale_b, t);
      score_tile<KIND, KP>(cur, qg, s, p, t, mx);
      if (head & 1) finish_doc<KIND, KP>(mx, qg, p.out, out_base + (head >> 1), first_group);
        // Refill the stage just consumed (this lane's own reads of it are done).
#pragma unroll
      for (int q = 0; q + 1 < kStages; ++q) queue[q] = queue[q + 1];
      queue[kStages - 1] = -1;
      if (more) {
        issue_tile<KIND, KP>(stages_at + stage * S::kBytes, base, p, walk, g, t, lane);
        queue[kStages - 1] = queue_entry(walk);
        more = walk_next(walk, p.out, out_base, first_group);
      }
      cp_async_commit();
      stage = stage + 1 == kStages ? 0 : stage + 1;
    }
  }
}

template <int KIND, int KP>
void launch_kind(const ScoreLaunch& p) {
  constexpr int kSmem = StageLayout<KIND, KP>::kBlockBytes;
  // Per launch: the attribute belongs to the current device.
  check_cuda(cudaFuncSetAttribute(maxsim_staged_kernel<KIND, KP>,
                                  cudaFuncAttributeMaxDynamicSharedMemorySize, kSmem),
             "MaxSim shared memory size");
  static int blocks_per_sm = [] {
    int n = 0;
    check_cuda(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, maxsim_staged_kernel<KIND, KP>,
                                                             kWarpsPerBlock * 32, kSmem),
               "MaxSim occupancy query");
    return n > 0 ? n : 1;
  }();
  const Geometry geo = plan_geometry(p.n_queries, p.n_docs, blocks_per_sm);
  maxsim_staged_kernel<KIND, KP>
      <<<geo.grid, kWarpsPerBlock * 32, kSmem, static_cast<cudaStream_t>(p.stream)>>>(
          p, geo.query_warps, geo.chunk_docs);
  check_cuda(cudaGetLastError(), "MaxSim kernel launch");
}

template <int KIND>
void launch_dims(const ScoreLaunch& p) {
  with_dim_panels(p.docs.dim, [&](auto panels) { launch_kind<KIND, decltype(panels)::value>(p); });
}

}  // namespace

void launch_maxsim_staged(const ScoreLaunch& p) {
  switch (p.docs.dtype) {
    case kF16:
      return launch_dims<kKindF16>(p);
    case kBF16:
      return launch_dims<kKindBF16>(p);
    default:
      return launch_dims<kKindI8>(p);
  }
}

}  // namespace rank_rerank::gpu_detail
