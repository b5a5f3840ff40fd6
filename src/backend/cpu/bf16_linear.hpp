// Linear layers of the CPU backend's bfloat16 compute dtype: weights rounded to bf16 once, at
// upload, and packed into panels; the activations rounded to bf16 per call; products summed in
// float32. Everything else the backend computes stays float32.
//
// Packed layout (AMX's "VNNI" B layout, which vdpbf16ps reads as well): the output columns in
// panels of 16; within a panel, for each pair of input columns (2p, 2p + 1) one row of 64 bytes
// holding, per output column n, the pair W[n][2p], W[n][2p + 1]. `in` is padded with zeros to a
// multiple of 32 (one tile row of k values) and `out` to a multiple of 16.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "backend/backend.hpp"

namespace rank_rerank::backend::cpu {

enum class Bf16Kernel : std::uint8_t {
  amx,          // Intel AMX tdpbf16ps (Sapphire Rapids and later)
  avx512_bf16,  // AVX512_BF16 vdpbf16ps
  decoded_f32,  // weights rounded to bf16, decoded to float32, OpenBLAS sgemm (any CPU)
};

std::string_view bf16_kernel_name(Bf16Kernel kernel) noexcept;
bool bf16_kernel_available(Bf16Kernel kernel) noexcept;

// The fastest kernel on this CPU: AMX where usable; vdpbf16ps where it beats decoding (AMD, see
// detail::avx512_bf16_beats_decoding in core/cpu_features.hpp); else decoded.
Bf16Kernel best_bf16_kernel() noexcept;

// The kernel a bf16 CPU backend uses: the one the environment variable
// RANK_RERANK_CPU_BF16_KERNEL names ("amx", "avx512_bf16", "decoded_f32"; for tests and
// benchmarks, read when the backend is made), else best_bf16_kernel(). Throws Error (invalid)
// for another name, (unsupported) for a kernel this CPU or OS does not run.
Bf16Kernel bf16_kernel_from_environment();

inline constexpr std::size_t kPanelColumns = 16;  // output columns per panel
inline constexpr std::size_t kDepthStep = 32;     // input columns per tile row

constexpr std::size_t padded_depth(std::size_t in) noexcept {
  return (in + kDepthStep - 1) / kDepthStep * kDepthStep;
}

// W [out, in] (row-major, the torch Linear layout) rounded to bf16 (nearest even) and packed.
std::vector<std::uint16_t> pack_bf16_weight(const float* weight, std::size_t out, std::size_t in);

// y[r * ldy + c - c0] = act(bias[c] + sum over k of bf16(x[r * in + k]) * W[c][k]), for
// r < rows and c0 <= c < c1, with W packed by pack_bf16_weight (of width `in`), c0 a multiple of
// 16 and bias (indexed by output column, may be null) in float32. Single-threaded (the backend
// splits rows or columns over its threads); kernel is amx or avx512_bf16 and available. x is
// rounded into a buffer of the calling thread.
void linear_bf16(Bf16Kernel kernel, const float* x, std::size_t rows, std::size_t in,
                 const std::uint16_t* packed, std::size_t c0, std::size_t c1, float* y,
                 std::size_t ldy, const float* bias, Activation activation);

}  // namespace rank_rerank::backend::cpu
