#include "core/cpu_features.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <sys/syscall.h>
#include <unistd.h>

#include <cpuid.h>
#endif

namespace rank_rerank::detail {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

namespace {

bool cpu_has_avx512_core() noexcept {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

// CPUID leaf 7, EDX: AMX-BF16 is bit 22, AMX-TILE bit 24, AMX-INT8 bit 25.
constexpr unsigned kAmxBf16 = 1u << 22;
constexpr unsigned kAmxTile = 1u << 24;
constexpr unsigned kAmxInt8 = 1u << 25;

unsigned amx_cpuid_bits() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
  return edx;
}

bool request_amx_permission() noexcept {
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

bool amx_usable(unsigned feature) noexcept {
  static const unsigned granted = [] {
    const unsigned bits = amx_cpuid_bits();
    return (bits & kAmxTile) && cpu_has_avx512_core() && request_amx_permission() ? bits : 0u;
  }();
  return (granted & feature) != 0;
}

}  // namespace

bool cpu_has_avx512_bf16() noexcept {
  static const bool available = cpu_has_avx512_core() && __builtin_cpu_supports("avx512bf16");
  return available;
}

bool avx512_bf16_beats_decoding() noexcept {
  static const bool beats = cpu_has_avx512_bf16() && __builtin_cpu_is("amd");
  return beats;
}

bool amx_bf16_available() noexcept { return amx_usable(kAmxBf16); }
bool amx_int8_available() noexcept { return amx_usable(kAmxInt8); }

#else

bool cpu_has_avx512_bf16() noexcept { return false; }
bool avx512_bf16_beats_decoding() noexcept { return false; }
bool amx_bf16_available() noexcept { return false; }
bool amx_int8_available() noexcept { return false; }

#endif

}  // namespace rank_rerank::detail
