// Activation names as transformers' ACT2FN spells them.
#include <array>
#include <utility>

#include "backend/backend.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::backend {
namespace {

constexpr std::array<std::pair<std::string_view, Activation>, 8> kHfNames{{
    {"gelu", Activation::gelu_erf},
    {"gelu_new", Activation::gelu_tanh},
    {"gelu_pytorch_tanh", Activation::gelu_tanh},
    {"gelu_fast", Activation::gelu_tanh},
    {"relu", Activation::relu},
    {"tanh", Activation::tanh},
    {"sigmoid", Activation::sigmoid},
    {"linear", Activation::identity},
}};

}  // namespace

Activation activation_from_hf_name(std::string_view name, const std::string& where) {
  for (const auto& [known, activation] : kHfNames)
    if (known == name) return activation;
  std::string names;
  for (const auto& entry : kHfNames)
    names += (names.empty() ? "" : ", ") + std::string(entry.first);
  throw_unsupported(where + ": activation '" + std::string(name) +
                    "' is not supported (known: " + names + ")");
}

std::string_view activation_name(Activation activation) noexcept {
  switch (activation) {
    case Activation::identity:
      return "identity";
    case Activation::gelu_erf:
      return "gelu";
    case Activation::gelu_tanh:
      return "gelu_tanh";
    case Activation::relu:
      return "relu";
    case Activation::tanh:
      return "tanh";
    case Activation::sigmoid:
      return "sigmoid";
  }
  return "unknown";
}

}  // namespace rank_rerank::backend
