// What the restricted unpickler (pickle_state_dict.cpp) knows by name: every pickle opcode, for
// messages, and the short allowlist of globals a torch state dict needs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rank_rerank/weights.hpp"

namespace rank_rerank::io {

// "BINUNICODE (0x58)", or "unknown opcode 0xff".
std::string opcode_label(unsigned char op);

// The only functions REDUCE may call.
enum class PickleCallable {
  ordered_dict,
  rebuild_tensor_v2,
  rebuild_parameter,
  rebuild_parameter_with_state
};

// "collections.OrderedDict" and the torch._utils rebuild functions; empty for anything else.
std::optional<PickleCallable> allowed_callable(std::string_view qualified_name) noexcept;
// "torch.FloatStorage" -> F32 and the other typed storages; empty for anything else.
std::optional<WeightDType> torch_storage_dtype(std::string_view qualified_name) noexcept;

}  // namespace rank_rerank::io
