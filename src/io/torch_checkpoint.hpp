// pytorch_model.bin as torch.save writes it since torch 1.6: a zip archive holding
// <archive>/data.pkl (the pickled state dict) and <archive>/data/<key> (one entry per storage).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace rank_rerank {
class WeightsBuilder;
}

namespace rank_rerank::io {

// Reads the archive in `file` (which `builder` must keep alive) and adds its tensors. Contiguous
// tensors point into `file`; strided views (transposes, slices with steps, expanded dimensions)
// are copied into contiguous owned memory, so every WeightTensor is row-major. Throws Error naming
// `source` and the tensor for anything malformed: storage size versus declared element count,
// views reaching past their storage, missing entries, non-little-endian archives, disallowed
// pickle content. The legacy (pre-1.6, non-zip) format is refused with a message saying so.
void read_torch_checkpoint(std::span<const std::byte> file, const std::string& source,
                           WeightsBuilder& builder);

}  // namespace rank_rerank::io
