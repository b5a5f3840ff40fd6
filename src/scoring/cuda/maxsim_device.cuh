// Device-side pieces shared by the MaxSim kernels: NaN-keeping maximum, warp reductions, and the
// walk of one warp over its share of the packed documents.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "rank_rerank/error.hpp"
#include "scoring/cuda/gpu_runtime.hpp"

namespace rank_rerank::gpu_detail {

constexpr int kWarpsPerBlock = 4;
constexpr unsigned kFullMask = 0xffffffffu;

inline void check_cuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw Error(ErrorKind::runtime, std::string(what) + ": " + cudaGetErrorString(err));
}

// max that returns NaN when either input is NaN (PTX max.NaN, sm_80+): the CPU kernels keep
// NaN sticky in the running maxima, and this costs the same as fmaxf.
__device__ __forceinline__ float max_nan(float a, float b) {
  float r;
  asm("max.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  return r;
}

__device__ __forceinline__ float quad_sum(float v) {
  v += __shfl_xor_sync(kFullMask, v, 1);
  return v + __shfl_xor_sync(kFullMask, v, 2);
}
__device__ __forceinline__ double quad_sum(double v) {
  v += __shfl_xor_sync(kFullMask, v, 1);
  return v + __shfl_xor_sync(kFullMask, v, 2);
}

// Which query a warp scores and which chunks of documents it walks (its first chunk and, for
// fixed shares, the stride to its next). A block holds
// kWarpsPerBlock warps: `query_warps` of them score consecutive queries against the same
// documents (so those documents are read from DRAM once and from L1/L2 after), the rest take
// other document chunks.
struct WarpWork {
  std::int64_t query = 0;
  std::int64_t first_chunk = 0;
  std::int64_t chunk_stride = 0;
};

__device__ __forceinline__ WarpWork warp_work(int query_warps) {
  const int warp = static_cast<int>(threadIdx.x >> 5);
  const int lanes_per_block = kWarpsPerBlock / query_warps;
  WarpWork w;
  w.query = static_cast<std::int64_t>(blockIdx.x) * query_warps + warp % query_warps;
  w.first_chunk = static_cast<std::int64_t>(blockIdx.y) * lanes_per_block + warp / query_warps;
  w.chunk_stride = static_cast<std::int64_t>(gridDim.y) * lanes_per_block;
  return w;
}

// The warp's walk over documents, tile by tile: a tile is 16 consecutive rows of one document
// (rows past its end repeat its last row, which changes no maximum). Empty documents get their
// score (0) and invalid ones (offsets outside [0, rows] or decreasing) NaN as the walk passes
// them, so the loop body only sees documents with rows.
struct DocWalk {
  const std::int64_t* offsets;
  std::int64_t n_docs;
  std::int64_t total_rows;
  std::int64_t chunk_docs;
  std::int64_t chunk;
  std::int64_t chunk_stride;
  // Dynamic shares: the counter of chunks claimed after every warp's first, and lane 0's claim
  // of the warp's next chunk, made a whole chunk ahead so that the atomic's latency is hidden.
  unsigned long long* counter;
  std::int64_t claimed;
  std::int64_t doc;        // current document
  std::int64_t chunk_end;  // one past the last document of the current chunk
  std::int64_t row0;       // first row of the current tile
  std::int64_t row_end;    // one past the last row of the current document
};

// Adds `value` to the score of (query, doc) for query groups after the first; the same lane of
// the same warp does every group of a pair, in order, so the sum is deterministic.
__device__ __forceinline__ void add_score(float* out, std::int64_t index, float value, bool first) {
  out[index] = first ? value : out[index] + value;
}

// Lane 0 claims the next free chunk; every warp's first chunk is its static one, so claims
// start after all of those.
__device__ __forceinline__ void claim_chunk(DocWalk& w) {
  if ((threadIdx.x & 31) == 0)
    w.claimed = w.chunk_stride + static_cast<std::int64_t>(atomicAdd(w.counter, 1ull));
}

// Moves to the first document with rows at or after walk.doc, scoring the empty and invalid
// ones on the way. Returns false when the warp has no documents left.
__device__ inline bool walk_settle(DocWalk& w, float* out, std::int64_t out_base,
                                   bool first_group) {
  const bool writer = (threadIdx.x & 31) == 0;
  for (;;) {
    if (w.doc >= w.chunk_end) {
      if (w.counter) {
        w.chunk = __shfl_sync(kFullMask, w.claimed, 0);
        claim_chunk(w);
      } else {
        w.chunk += w.chunk_stride;
      }
      w.doc = w.chunk * w.chunk_docs;
      if (w.doc >= w.n_docs) return false;
      w.chunk_end = min(w.doc + w.chunk_docs, w.n_docs);
    }
    const std::int64_t begin = __ldg(w.offsets + w.doc);
    const std::int64_t end = __ldg(w.offsets + w.doc + 1);
    const bool valid = begin >= 0 && end >= begin && end <= w.total_rows;
    if (valid && end > begin) {
      w.row0 = begin;
      w.row_end = end;
      return true;
    }
    if (writer)
      add_score(out, out_base + w.doc, valid ? 0.0f : __int_as_float(0x7fc00000), first_group);
    ++w.doc;
  }
}

__device__ inline bool walk_begin(DocWalk& w, const ScoreLaunch& p, const WarpWork& work,
                                  std::int64_t chunk_docs, std::int64_t out_base,
                                  bool first_group) {
  w.offsets = p.doc_offsets;
  w.n_docs = static_cast<std::int64_t>(p.n_docs);
  w.total_rows = static_cast<std::int64_t>(p.docs.rows);
  w.chunk_docs = chunk_docs;
  w.chunk = work.first_chunk;
  w.chunk_stride = work.chunk_stride;
  w.counter = p.work_counter;
  w.claimed = 0;
  if (w.counter) claim_chunk(w);
  w.doc = w.chunk * chunk_docs;
  if (w.doc >= w.n_docs) return false;
  w.chunk_end = min(w.doc + chunk_docs, w.n_docs);
  return walk_settle(w, p.out, out_base, first_group);
}

// Steps to the next tile; returns false at the end of the warp's documents.
__device__ inline bool walk_next(DocWalk& w, float* out, std::int64_t out_base, bool first_group) {
  w.row0 += 16;
  if (w.row0 < w.row_end) return true;
  ++w.doc;
  return walk_settle(w, out, out_base, first_group);
}

// Launch geometry shared by the kernels: blocks along x cover queries (query_warps per block),
// blocks along y walk document chunks.
struct Geometry {
  dim3 grid;
  int query_warps = 1;
  std::int64_t chunk_docs = 1;
};
Geometry plan_geometry(std::size_t n_queries, std::size_t n_docs, int blocks_per_sm);

}  // namespace rank_rerank::gpu_detail
