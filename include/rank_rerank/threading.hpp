// Thread count used by the parallel scoring functions.
#pragma once

#include <cstddef>

namespace rank_rerank {

// Default worker count when an options struct says 0. Initially the number of hardware
// threads available to the process (respecting OMP_NUM_THREADS).
std::size_t default_num_threads() noexcept;
// Sets the default; 0 restores the hardware default.
void set_default_num_threads(std::size_t n) noexcept;

}  // namespace rank_rerank
