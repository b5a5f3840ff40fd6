// Tensor-core MaxSim for f16, bf16, int8 and 1-bit documents with document tiles double-buffered
// in registers (warp-level mma.sync, float32 accumulation). Nothing but the running maxima is
// kept: the similarity tile lives in the accumulator registers for the few instructions it takes
// to fold it into them.
//
// A warp scores one query group (up to 32 query tokens: four 8-column n-tiles of m16n8k16)
// against 16-row tiles of documents. The query group stays in registers as the mma B operand for
// the whole walk; document rows go straight from global memory into A-operand registers
// (maxsim_mma_parts.cuh has the fragment layout), no shared memory: the four lanes of a quad read
// 64 contiguous bytes of a row. int8 rows are widened to f16 exactly; bit rows are expanded to
// +-1 f16 values; bit queries against bit documents use the 1-bit AND + popcount mma.
//
// The next tile's loads are issued before the current one is multiplied, so every warp keeps a
// tile of reads in flight. maxsim_staged.cu keeps several in flight through shared memory; the
// dispatcher at the end of this file picks the family per shape (use_staged).
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "scoring/cuda/maxsim_device.cuh"
#include "scoring/cuda/maxsim_kernels.hpp"
#include "scoring/cuda/maxsim_mma_parts.cuh"

namespace rank_rerank::gpu_detail {
namespace {

using namespace mma;

template <int KIND, int KP>
__device__ __forceinline__ void load_tile(Tile<KIND, KP>& tile, const std::uint8_t* base,
                                          std::int64_t ra, std::int64_t rb, int t) {
  using L = LaneLayout<KIND, KP>;
  if constexpr (KIND == kKindBitFloat || KIND == kKindBitBit) {
    const auto* pa = reinterpret_cast<const std::uint32_t*>(base + 4 * KP * ra);
    const auto* pb = reinterpret_cast<const std::uint32_t*>(base + 4 * KP * rb);
#pragma unroll
    for (int p = 0; p < KP; ++p) {
      tile.a[p] = __ldg(pa + p);
      tile.b[p] = __ldg(pb + p);
    }
  } else {
    const std::uint8_t* pa = base + static_cast<std::size_t>(ra) * L::kRowBytes;
    const std::uint8_t* pb = base + static_cast<std::size_t>(rb) * L::kRowBytes;
#pragma unroll
    for (int c = 0; c < L::kCopies; ++c) {
      const std::size_t at = static_cast<std::size_t>(L::kCopyBytes) * (4 * c + t);
      if constexpr (L::kCopyBytes == 16) {
        tile_from_copy<KIND, KP>(tile, c, __ldg(reinterpret_cast<const uint4*>(pa + at)),
                                 __ldg(reinterpret_cast<const uint4*>(pb + at)));
      } else {
        tile_from_copy<KIND, KP>(tile, c, __ldg(reinterpret_cast<const uint2*>(pa + at)),
                                 __ldg(reinterpret_cast<const uint2*>(pb + at)));
      }
    }
  }
}

template <int KIND, int KP>
__global__ void __launch_bounds__(kWarpsPerBlock * 32, KP >= 3 ? 2 : 3)
    maxsim_mma_kernel(const ScoreLaunch p, int query_warps, std::int64_t chunk_docs) {
  const WarpWork work = warp_work(query_warps);
  if (work.query >= static_cast<std::int64_t>(p.n_queries)) return;
  const int lane = static_cast<int>(threadIdx.x & 31), g = lane >> 2, t = lane & 3;
  const std::int64_t q_begin = p.query_offsets[work.query];
  const std::int64_t q_end = p.query_offsets[work.query + 1];
  const std::int64_t out_base = work.query * static_cast<std::int64_t>(p.n_docs);
  const auto* base = static_cast<const std::uint8_t*>(p.docs.data);

  for (std::int64_t row0 = q_begin; row0 < q_end; row0 += 32) {
    const bool first_group = row0 == q_begin;
    QueryGroup<KIND, KP> qg;
    load_group<KIND, KP>(qg, p, row0, static_cast<int>(min(std::int64_t{32}, q_end - row0)), g, t);
    DocWalk walk;
    if (!walk_begin(walk, p, work, chunk_docs, out_base, first_group)) continue;
    float mx[4][2];
#pragma unroll
    for (int j = 0; j < 4; ++j) mx[j][0] = mx[j][1] = -INFINITY;

    Tile<KIND, KP> cur;
    std::int64_t ra, rb;
    tile_rows(walk, g, ra, rb);
    load_tile<KIND, KP>(cur, base, ra, rb, t);
    for (;;) {
      DocWalk next = walk;
      const bool more = walk_next(next, p.out, out_base, first_group);
      Tile<KIND, KP> ahead;
      std::int64_t na = 0, nb = 0;
      if (more) {
        tile_rows(next, g, na, nb);
        load_tile<KIND, KP>(ahead, base, na, nb, t);
      }
      float scale_a = 1.0f, scale_b = 1.0f;
      if constexpr (KIND == kKindI8) {
        scale_a = __ldg(p.docs.scales + ra);
        scale_b = __ldg(p.docs.scales + rb);
      }
      const RowScale s = row_scale<KIND, KP>(cur, p, scale_a, scale_b, t);
      score_tile<KIND, KP>(cur, qg, s, p, t, mx);
      if (!more || next.doc != walk.doc)
        finish_doc<KIND, KP>(mx, qg, p.out, out_base + walk.doc, first_group);
      if (!more) break;
      walk = next;
      cur = ahead;
      ra = na;
      rb = nb;
    }
  }
}

template <int KIND, int KP>
void launch_kind(const ScoreLaunch& p) {
  static int blocks_per_sm = [] {
    int n = 0;
    check_cuda(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, maxsim_mma_kernel<KIND, KP>,
                                                             kWarpsPerBlock * 32, 0),
               "MaxSim occupancy query");
    return n > 0 ? n : 1;
  }();
  const Geometry geo = plan_geometry(p.n_queries, p.n_docs, blocks_per_sm);
  maxsim_mma_kernel<KIND, KP>
      <<<geo.grid, kWarpsPerBlock * 32, 0, static_cast<cudaStream_t>(p.stream)>>>(
          p, geo.query_warps, geo.chunk_docs);
  check_cuda(cudaGetLastError(), "MaxSim kernel launch");
}

template <int KIND>
void launch_dims(const ScoreLaunch& p) {
  with_dim_panels(p.docs.dim, [&](auto panels) { launch_kind<KIND, decltype(panels)::value>(p); });
}

// Which family scores f16 / bf16 / int8 documents. RANK_RERANK_GPU_MAXSIM_KERNEL=registers or
// =staged overrides the choice by shape (benchmarks time both; tests check both); bit documents
// always use the register kernels.
enum class Family { by_shape, registers, staged };

Family forced_family() {
  const char* v = std::getenv("RANK_RERANK_GPU_MAXSIM_KERNEL");
  if (v == nullptr || *v == '\0') return Family::by_shape;
  if (std::strcmp(v, "registers") == 0) return Family::registers;
  if (std::strcmp(v, "staged") == 0) return Family::staged;
  throw Error(
      ErrorKind::invalid_argument,
      std::string("RANK_RERANK_GPU_MAXSIM_KERNEL: expected 'registers' or 'staged', got '") + v +
          "'");
}

bool use_staged(const ScoreLaunch& p) {
  if (p.docs.dtype == kBit) return false;
  const Family forced = forced_family();
  if (forced != Family::by_shape) return forced == Family::staged;
  // Measured on an H100 (docs/performance.md, GPU MaxSim): staged takes 25% less time with 32
  // queries (more warps per SM; the query warps of a block copy each document tile from L1) and
  // 18% less on int8 with one query; the register double buffer takes 6% less for one f16 query
  // and ties on variable lengths, so single f16 / bf16 queries keep it.
  return p.docs.dtype == kI8 || p.n_queries > 1;
}

}  // namespace

void launch_maxsim_mma(const ScoreLaunch& p) {
  if (use_staged(p)) return launch_maxsim_staged(p);
  switch (p.docs.dtype) {
    case kF16:
      return launch_dims<kKindF16>(p);
    case kBF16:
      return launch_dims<kKindBF16>(p);
    case kI8:
      return launch_dims<kKindI8>(p);
    default:
      if (p.queries.dtype == kBit) return launch_dims<kKindBitBit>(p);
      return launch_dims<kKindBitFloat>(p);
  }
}

}  // namespace rank_rerank::gpu_detail
