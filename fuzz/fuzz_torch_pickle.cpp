// Any bytes as the data.pkl of a torch archive: the restricted unpickler must either return
// tensor records or throw rank_rerank::Error, and never execute, loop or exhaust memory.
#include <cstddef>
#include <cstdint>

#include "io/pickle_state_dict.hpp"
#include "rank_rerank/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    rank_rerank::io::read_state_dict_pickle({reinterpret_cast<const std::byte*>(data), size},
                                            "fuzz");
  } catch (const rank_rerank::Error&) {
  }
  return 0;
}
