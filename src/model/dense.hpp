// Dense projection modules (sentence-transformers / PyLate `Dense`, Stanford ColBERT `linear`):
// y = act(x W^T + b) (+ x, or + x R^T, with use_residual).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.hpp"
#include "rank_rerank/hub.hpp"
#include "rank_rerank/json_config.hpp"
#include "rank_rerank/weights.hpp"

namespace rank_rerank::model {

// The activation a Dense config names by torch class ("torch.nn.modules.linear.Identity",
// "torch.nn.modules.activation.Tanh", ...). Throws Error (unsupported) naming `where`.
backend::Activation activation_from_torch_class(std::string_view name, const std::string& where);

class DenseLayer {
 public:
  // A module folder: <folder>/config.json (in_features, out_features, bias,
  // activation_function (default Tanh, as sentence-transformers), use_residual) and its
  // checkpoint (linear.weight, linear.bias, residual.weight), read once and uploaded to each
  // backend: one layer per backend, in order.
  static std::vector<DenseLayer> load(std::string_view path_or_id, const std::string& folder,
                                      const HubOptions& hub,
                                      std::span<const std::shared_ptr<backend::Backend>> backends);
  // A bias-free identity projection stored as `name` [out, in] in a checkpoint (Stanford's
  // linear.weight).
  static DenseLayer from_weight(const Weights& weights, const std::string& name,
                                std::size_t in_features, backend::Backend& backend);

  // [rows, out_features] in backend memory.
  backend::Buffer forward(backend::Backend& backend, backend::ConstPtr x, std::size_t rows) const;

  std::size_t in_features() const noexcept { return in_; }
  std::size_t out_features() const noexcept { return out_; }

 private:
  std::size_t in_ = 0, out_ = 0;
  backend::Activation activation_ = backend::Activation::identity;
  bool residual_ = false;
  backend::ConstBuffer weight_, bias_, residual_weight_;
};

}  // namespace rank_rerank::model
