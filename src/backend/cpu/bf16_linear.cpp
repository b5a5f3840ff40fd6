// Kernel choice, weight packing and the per-thread activation buffer of the bf16 linear layers.
#include "backend/cpu/bf16_linear.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>

#include "backend/cpu/bf16_gemm_kernels.hpp"
#include "backend/cpu/cpu_kernels.hpp"
#include "core/cpu_features.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/quantize.hpp"

namespace rank_rerank::backend::cpu {

namespace {

constexpr std::array kKernels{Bf16Kernel::amx, Bf16Kernel::avx512_bf16, Bf16Kernel::decoded_f32};

}  // namespace

std::string_view bf16_kernel_name(Bf16Kernel kernel) noexcept {
  switch (kernel) {
    case Bf16Kernel::amx:
      return "amx";
    case Bf16Kernel::avx512_bf16:
      return "avx512_bf16";
    case Bf16Kernel::decoded_f32:
      break;
  }
  return "decoded_f32";
}

bool bf16_kernel_available(Bf16Kernel kernel) noexcept {
  switch (kernel) {
    case Bf16Kernel::amx:
      // The activations are rounded with vcvtneps2bf16, which every AMX CPU has.
      return detail::amx_bf16_available() && detail::cpu_has_avx512_bf16();
    case Bf16Kernel::avx512_bf16:
      return detail::cpu_has_avx512_bf16();
    case Bf16Kernel::decoded_f32:
      break;
  }
  return true;
}

Bf16Kernel best_bf16_kernel() noexcept {
  if (bf16_kernel_available(Bf16Kernel::amx)) return Bf16Kernel::amx;
  if (detail::avx512_bf16_beats_decoding()) return Bf16Kernel::avx512_bf16;
  return Bf16Kernel::decoded_f32;
}

Bf16Kernel bf16_kernel_from_environment() {
  const char* forced = std::getenv("RANK_RERANK_CPU_BF16_KERNEL");
  if (forced == nullptr || *forced == '\0') return best_bf16_kernel();
  for (const Bf16Kernel kernel : kKernels) {
    if (bf16_kernel_name(kernel) != forced) continue;
    if (!bf16_kernel_available(kernel))
      throw_unsupported("RANK_RERANK_CPU_BF16_KERNEL=" + std::string(forced) +
                        ": this CPU (or its operating system) does not run that kernel");
    return kernel;
  }
  throw_invalid("RANK_RERANK_CPU_BF16_KERNEL=" + std::string(forced) +
                ": expected amx, avx512_bf16 or decoded_f32");
}

std::vector<std::uint16_t> pack_bf16_weight(const float* weight, std::size_t out, std::size_t in) {
  const std::size_t depth = padded_depth(in);
  const std::size_t panels = (out + kPanelColumns - 1) / kPanelColumns;
  std::vector<std::uint16_t> packed(panels * depth * kPanelColumns, 0);
  for (std::size_t n = 0; n < out; ++n) {
    std::uint16_t* panel = packed.data() + n / kPanelColumns * depth * kPanelColumns;
    const std::size_t lane = n % kPanelColumns;
    for (std::size_t k = 0; k < in; ++k)
      panel[(k / 2 * kPanelColumns + lane) * 2 + k % 2] = float_to_bf16(weight[n * in + k]);
  }
  return packed;
}

void linear_bf16(Bf16Kernel kernel, const float* x, std::size_t rows, std::size_t in,
                 const std::uint16_t* packed, std::size_t c0, std::size_t c1, float* y,
                 std::size_t ldy, const float* bias, Activation activation) {
  if (rows == 0 || c0 >= c1) return;
  // The kernels pass over all their rows once per group of output columns, so the rows go in
  // chunks of at most 512 KiB of bf16 (a share of an L2 that two hyperthreads split), which stay
  // in L2 while the weights stream past once per chunk. Without chunks, one thread's 4096 rows
  // x 384 (3 MiB) came from L3 for every group: on the Xeon the AMX kernel of session 5 then ran
  // MiniLM at 1 thread barely faster than float32 (967 ms against 1060).
  constexpr std::size_t kChunkBytes = 512 * 1024;
  const std::size_t depth = padded_depth(in);
  const std::size_t chunk =
      std::max<std::size_t>(1, kChunkBytes / (depth * sizeof(std::uint16_t)) / kRowBlock) *
      kRowBlock;
  // Grows to the largest chunk this thread has seen and stays: a linear layer runs every few
  // hundred microseconds, and a fresh allocation each time would be paid in page faults.
  thread_local std::vector<std::uint16_t> buffer;
  for (std::size_t r0 = 0; r0 < rows; r0 += chunk) {
    Bf16Rows a;
    a.rows = std::min(chunk, rows - r0);
    a.padded_rows = (a.rows + kRowBlock - 1) / kRowBlock * kRowBlock;
    a.depth = depth;
    if (buffer.size() < a.padded_rows * depth) buffer.resize(a.padded_rows * depth);
    round_rows_to_bf16(x + r0 * in, a.rows, in, a.padded_rows, depth, buffer.data());
    a.data = buffer.data();
    if (kernel == Bf16Kernel::amx) {
      gemm_bf16_amx(a, packed, c0, c1, y + r0 * ldy, ldy, bias, activation);
    } else {
      gemm_bf16_avx512(a, packed, c0, c1, y + r0 * ldy, ldy);
      bias_activation(y + r0 * ldy, a.rows, c1 - c0, ldy, bias == nullptr ? nullptr : bias + c0,
                      activation);
    }
  }
}

}  // namespace rank_rerank::backend::cpu
