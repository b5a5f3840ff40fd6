// Instruction-set extensions that the CPU kernels choose between at run time, checked once per
// process. Every answer is false on CPUs other than x86-64 and on compilers without the
// builtins, so callers need no #ifdef of their own.
#pragma once

namespace rank_rerank::detail {

// AVX-512 F / BW / VL / DQ and AVX512_BF16 (vdpbf16ps, vcvtne2ps2bf16).
bool cpu_has_avx512_bf16() noexcept;

// AVX512_BF16 on a core where vdpbf16ps beats decoding bf16 to float32 and running float32
// FMAs: it does two multiply-adds per lane, so it must issue at more than half the FMA rate.
// AMD Zen 4 issues it at the FMA rate (MaxSim on one core: native 200 GFLOP/s against 95
// decoded); a Sapphire Rapids-class Xeon retires about one per two cycles, a quarter of the FMA
// rate (native 76, decoded 118). Other vendors' parts are unmeasured and answer false.
bool avx512_bf16_beats_decoding() noexcept;

// Intel AMX tiles with tdpbf16ps (AMX-BF16) / tdpbssd (AMX-INT8), plus AVX-512 F / BW / VL / DQ,
// and the operating system's permission to use them. Linux keeps the tile state off until a
// process asks for it (arch_prctl ARCH_REQ_XCOMP_PERM); the first call asks, for the whole
// process, and without that grant the first tile instruction would fault.
bool amx_bf16_available() noexcept;
bool amx_int8_available() noexcept;

}  // namespace rank_rerank::detail
