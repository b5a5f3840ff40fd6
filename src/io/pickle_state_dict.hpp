// A restricted unpickler for the data.pkl of a torch.save archive holding a state dict.
//
// It is a small stack machine that knows only the opcodes torch.save emits (protocols 2 to 5) and
// builds only plain values (None, bool, int, float, str, tuple, list, dict) plus tensor records.
// The only callables are collections.OrderedDict and torch._utils._rebuild_tensor_v2 /
// _rebuild_parameter / _rebuild_parameter_with_state, and the only globals besides them are the
// torch.*Storage type tags inside persistent ids ('storage', type, key, location, numel). Nothing
// is ever executed: any other opcode or global is an error that names it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rank_rerank/weights.hpp"

namespace rank_rerank::io {

struct PickledTensor {
  std::string name;         // state-dict key
  std::string storage_key;  // archive entry data/<storage_key>
  WeightDType dtype = WeightDType::f32;
  std::uint64_t storage_numel = 0;   // elements the storage declares
  std::uint64_t storage_offset = 0;  // in elements
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> stride;  // in elements
};

// Runs the restricted unpickler over `pickle` and returns the state dict's tensors in order.
// The top-level object must be a dict (or OrderedDict) of str -> tensor. Throws Error naming
// `source`, the byte position and the offending opcode, global or key.
std::vector<PickledTensor> read_state_dict_pickle(std::span<const std::byte> pickle,
                                                  std::string_view source);

}  // namespace rank_rerank::io
