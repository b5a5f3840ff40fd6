#include "model/dense.hpp"

#include <array>
#include <utility>

#include "model/pretrained.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::model {

backend::Activation activation_from_torch_class(std::string_view name, const std::string& where) {
  static constexpr std::array<std::pair<std::string_view, backend::Activation>, 5> kClasses{{
      {"Identity", backend::Activation::identity},
      {"Tanh", backend::Activation::tanh},
      {"ReLU", backend::Activation::relu},
      {"GELU", backend::Activation::gelu_erf},
      {"Sigmoid", backend::Activation::sigmoid},
  }};
  const std::size_t dot = name.rfind('.');
  const std::string_view leaf = dot == std::string_view::npos ? name : name.substr(dot + 1);
  for (const auto& [cls, activation] : kClasses)
    if (leaf == cls) return activation;
  throw_unsupported(where + ": activation_function '" + std::string(name) +
                    "' is not supported (supported: torch.nn Identity, Tanh, ReLU, GELU, "
                    "Sigmoid)");
}

std::vector<DenseLayer> DenseLayer::load(
    std::string_view path_or_id, const std::string& folder, const HubOptions& hub,
    std::span<const std::shared_ptr<backend::Backend>> backends) {
  const JsonConfig config = JsonConfig::load(hf_resolve(path_or_id, folder + "/config.json", hub));
  DenseLayer d;
  const std::int64_t in = config.get<std::int64_t>("in_features");
  const std::int64_t out = config.get<std::int64_t>("out_features");
  if (in <= 0 || out <= 0)
    throw_invalid(config.where() + ": in_features and out_features must be positive, found " +
                  std::to_string(in) + " and " + std::to_string(out));
  d.in_ = static_cast<std::size_t>(in);
  d.out_ = static_cast<std::size_t>(out);
  d.activation_ = activation_from_torch_class(
      config.get_or<std::string>("activation_function", "torch.nn.modules.activation.Tanh"),
      config.where());
  d.residual_ = config.get_or<bool>("use_residual", false);
  const Weights weights = load_folder_weights(path_or_id, folder, hub);
  std::vector<DenseLayer> layers;
  for (const std::shared_ptr<backend::Backend>& backend : backends) {
    DenseLayer& layer = layers.emplace_back(d);
    layer.weight_ =
        backend->upload_linear_weight(weights.get("linear.weight", std::array{out, in}), weights);
    if (config.get_or<bool>("bias", true))
      layer.bias_ = backend->upload(weights.get("linear.bias", std::array{out}), weights);
    if (d.residual_ && in != out)
      layer.residual_weight_ = backend->upload_linear_weight(
          weights.get("residual.weight", std::array{out, in}), weights);
  }
  return layers;
}

DenseLayer DenseLayer::from_weight(const Weights& weights, const std::string& name,
                                   std::size_t in_features, backend::Backend& backend) {
  const WeightTensor& w = weights.get(name);
  if (w.shape.size() != 2 || w.shape[1] != static_cast<std::int64_t>(in_features) ||
      w.shape[0] <= 0)
    throw_invalid(weights.source() + ": " + name + " must have shape [dim, " +
                  std::to_string(in_features) + "], found " + std::to_string(w.shape.size()) +
                  "-d tensor" +
                  (w.shape.size() == 2
                       ? " [" + std::to_string(w.shape[0]) + ", " + std::to_string(w.shape[1]) + "]"
                       : std::string()));
  DenseLayer d;
  d.in_ = in_features;
  d.out_ = static_cast<std::size_t>(w.shape[0]);
  d.weight_ = backend.upload_linear_weight(w, weights);
  return d;
}

backend::Buffer DenseLayer::forward(backend::Backend& backend, backend::ConstPtr x,
                                    std::size_t rows) const {
  backend::Buffer y = backend.allocate(rows * out_);
  backend.linear(x, rows, in_, weight_.data(), bias_.data(), out_, activation_, y.data());
  if (residual_) {
    if (in_ == out_) {
      backend.add(y.data(), x, rows * out_);
    } else {
      backend::Buffer r = backend.allocate(rows * out_);
      backend.linear(x, rows, in_, residual_weight_.data(), nullptr, out_,
                     backend::Activation::identity, r.data());
      backend.add(y.data(), r.data(), rows * out_);
    }
  }
  return y;
}

}  // namespace rank_rerank::model
