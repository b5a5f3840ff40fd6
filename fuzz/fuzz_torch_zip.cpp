// Any bytes as a pytorch_model.bin: zip parsing, the unpickler and the storage checks together.
// Accepted tensors must lie inside the input or in memory the reader owns.
#include <cstddef>
#include <cstdint>
#include <numeric>

#include "io/torch_checkpoint.hpp"
#include "io/weights_builder.hpp"
#include "rank_rerank/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rank_rerank::WeightsBuilder builder("fuzz");
  try {
    rank_rerank::io::read_torch_checkpoint({reinterpret_cast<const std::byte*>(data), size}, "fuzz",
                                           builder);
    const rank_rerank::Weights weights = std::move(builder).finish();
    // Touch every byte so the sanitizers see any span that is out of bounds.
    for (const std::string& name : weights.names()) {
      const auto bytes = weights.get(name).bytes;
      volatile unsigned sum =
          std::accumulate(bytes.begin(), bytes.end(), 0u,
                          [](unsigned s, std::byte b) { return s + std::to_integer<unsigned>(b); });
      (void)sum;
    }
  } catch (const rank_rerank::Error&) {
  }
  return 0;
}
