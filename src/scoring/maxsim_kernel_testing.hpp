// Knobs for tests and benchmarks of the MaxSim kernels; the library never calls them itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "scoring/maxsim_prepared.hpp"

namespace rank_rerank::detail {

// Whether queries prepared from now on may use the native AVX-512 bf16 / int8 kernels
// (default: yes, where the CPU has them). With false they use the Highway paths (float32, or
// int16 multiply-adds for int8 documents), whose target tests choose with
// hwy::SetSupportedTargetsForTest.
void set_native_kernels_enabled(bool enabled) noexcept;

// Whether queries prepared from now on may use the AMX tile kernels (default: yes, where the CPU
// and OS allow them). With false the AVX-512 kernels above are next in line.
void set_amx_kernels_enabled(bool enabled) noexcept;

// Highway targets compiled into the kernels and supported by this CPU, best first.
std::vector<std::int64_t> kernel_targets();

// The kernel family a prepared query uses.
KernelPath kernel_path(const PreparedQuery& q) noexcept;

// Largest number of document rows one kernel call scores (longer documents are split and the
// results merged); lowered by tests to exercise the merge. 0 restores the default.
void set_rows_per_kernel_call(std::size_t rows) noexcept;

}  // namespace rank_rerank::detail
