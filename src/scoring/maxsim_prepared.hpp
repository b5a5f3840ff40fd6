// What PreparedQuery holds, shared by the dispatcher (maxsim_kernel.cpp) and the SIMD kernels
// (kernels/). Query rows are stored transposed in groups of kQueryGroup rows, so that SIMD lanes
// run over query tokens: one vector load gives the same dimension of up to 16 query rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hwy/aligned_allocator.h"
#include "scoring/maxsim_kernel.hpp"

namespace rank_rerank::detail {

// Query rows per transposed group: the widest vector (AVX-512) holds 16 float lanes; narrower
// targets read a group as 2 (AVX2) or 16 (scalar) vectors.
inline constexpr std::size_t kQueryGroup = 16;

// Which kernel family scores the documents of a prepared query.
enum class KernelPath : std::uint8_t {
  highway_float,  // documents decoded to float32 blocks, float32 FMA tiles (every target)
  highway_bits,   // bit queries x bit documents: XOR + popcount tiles (every target)
  native_bf16,    // AVX512_BF16 vdpbf16ps on bf16 documents, query rounded to bf16
  native_int8,    // AVX512_VNNI vpdpbusd on int8 documents, query quantized to int8
  amx_bf16,       // AMX tdpbf16ps on bf16 documents (dot, dim % 32 == 0), query as native_bf16
  amx_int8,       // AMX tdpbssd on int8 documents (dot, dim % 64 == 0), query as native_int8
  highway_int8,   // int16 multiply-add pairs (vpmaddwd) on int8 documents, query as native_int8,
                  // on the x86 Highway targets; other targets decode as highway_float
};

struct PreparedQuery::Impl {
  std::size_t rows = 0;
  std::size_t dim = 0;
  DType doc_dtype = DType::f32;
  bool cosine = false;
  KernelPath path = KernelPath::highway_float;
  std::size_t groups = 0;  // ceil(rows / kQueryGroup)

  // Cosine only: query rows that are the zero vector (similarity 0 with any document token),
  // and whether every row is.
  std::vector<std::uint8_t> zero_rows;
  bool all_rows_zero = false;

  // Float32 query (normalised when cosine), transposed:
  //   transposed[(g * dim + k) * kQueryGroup + lane] = q[g * kQueryGroup + lane][k]
  // Padding lanes are zero. Every path but highway_bits uses it (native_bf16 for an odd last
  // dimension).
  hwy::AlignedFreeUniquePtr<float[]> transposed;

  // native_bf16 and amx_bf16: dimension pairs (2p, 2p + 1) of the query rounded to bf16, packed in
  // one 32-bit word (low half = dimension 2p), transposed like `transposed` with dim / 2 pairs.
  hwy::AlignedFreeUniquePtr<std::uint32_t[]> bf16_pairs;

  // native_int8, amx_int8 and highway_int8: the query quantized to int8 with a per-row scale
  // (max|q| / 127, round half to even); int8_scales holds the scales, padded to
  // groups * kQueryGroup rows. native_int8 and amx_int8 read the values from int8_quads:
  // dimensions (4p .. 4p + 3) packed in one 32-bit word, ceil(dim / 4) quads per row (missing
  // dimensions are 0), transposed like `transposed`, and add int8_corrections per row,
  // -128 * sum_k q_k, which cancels the +128 offset of the document bytes.
  hwy::AlignedFreeUniquePtr<std::uint32_t[]> int8_quads;
  std::vector<float> int8_scales;
  std::vector<std::int32_t> int8_corrections;

  // highway_int8: dimensions (2p, 2p + 1) of the same int8 query values as two int16 in one
  // 32-bit word (low half = dimension 2p), ceil(dim / 2) pairs per row (a missing dimension is 0),
  // transposed like `transposed`.
  hwy::AlignedFreeUniquePtr<std::uint32_t[]> int16_pairs;

  // highway_bits: the query's packed bits as 32-bit words (bytes in memory order, bits past dim
  // cleared), ceil(dim / 32) words per row, transposed like `transposed`.
  hwy::AlignedFreeUniquePtr<std::uint32_t[]> bit_words;

  std::size_t padded_rows() const noexcept { return groups * kQueryGroup; }
};

// Running per-row state of one max_similarity call, indexed by query row (padded_rows()).
struct RowState {
  float* row_max = nullptr;        // -inf initially; NaN once a NaN similarity was seen
  std::int32_t* argmax = nullptr;  // -1 initially; null when not wanted
  float* token_best = nullptr;     // one per document row; null when not wanted
};

}  // namespace rank_rerank::detail
