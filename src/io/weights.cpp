// Weights, WeightTensor and WeightsBuilder; the readers themselves live in their own files.
#include <cstring>
#include <utility>

#include "io/half_float.hpp"
#include "io/weight_dtype.hpp"
#include "io/weights_builder.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank {

std::size_t WeightTensor::numel() const noexcept {
  std::size_t n = 1;
  for (const std::int64_t d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

std::span<const float> WeightTensor::f32() const {
  if (dtype != WeightDType::f32)
    throw_invalid("tensor '" + name + "': dtype " + std::string(weight_dtype_name(dtype)) +
                  " found, F32 expected");
  return {reinterpret_cast<const float*>(bytes.data()), numel()};
}

std::vector<float> WeightTensor::to_f32() const {
  const std::size_t n = numel();
  std::vector<float> out(n);
  switch (dtype) {
    case WeightDType::f32: {
      const std::span<const float> values = f32();
      std::copy(values.begin(), values.end(), out.begin());
      break;
    }
    case WeightDType::f16:
    case WeightDType::bf16: {
      const auto* bits = reinterpret_cast<const std::uint16_t*>(bytes.data());
      for (std::size_t i = 0; i < n; ++i)
        out[i] = dtype == WeightDType::f16 ? io::f16_to_f32(bits[i]) : io::bf16_to_f32(bits[i]);
      break;
    }
    case WeightDType::f64: {
      const auto* values = reinterpret_cast<const double*>(bytes.data());
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(values[i]);
      break;
    }
    default:
      throw_invalid("tensor '" + name + "': dtype " + std::string(weight_dtype_name(dtype)) +
                    " cannot be converted to float (F32, F16, BF16 or F64 expected)");
  }
  return out;
}

void WeightTensor::expect_shape(std::span<const std::int64_t> expected) const {
  if (!std::equal(shape.begin(), shape.end(), expected.begin(), expected.end()))
    throw_invalid("tensor '" + name + "': shape " + io::shape_string(shape) + " found, " +
                  io::shape_string(expected) + " expected");
}

Weights::Weights() : state_(std::make_shared<const State>()) {}
Weights::Weights(std::shared_ptr<const State> state) : state_(std::move(state)) {}

std::size_t Weights::size() const noexcept { return state_->tensors.size(); }

bool Weights::contains(std::string_view name) const noexcept { return find(name) != nullptr; }

const WeightTensor* Weights::find(std::string_view name) const noexcept {
  const auto it = state_->tensors.find(name);
  return it == state_->tensors.end() ? nullptr : &it->second;
}

const WeightTensor& Weights::get(std::string_view name) const {
  const WeightTensor* t = find(name);
  if (t == nullptr)
    throw_invalid("tensor '" + std::string(name) + "' not found in " + state_->source + " (" +
                  std::to_string(size()) + " tensors)");
  return *t;
}

const WeightTensor& Weights::get(std::string_view name, std::span<const std::int64_t> shape) const {
  const WeightTensor& t = get(name);
  t.expect_shape(shape);
  return t;
}

std::vector<std::string> Weights::names() const {
  std::vector<std::string> out;
  out.reserve(state_->tensors.size());
  for (const auto& entry : state_->tensors) out.push_back(entry.first);
  return out;
}

const std::map<std::string, std::string, std::less<>>& Weights::metadata() const noexcept {
  return state_->metadata;
}

const std::string& Weights::source() const noexcept { return state_->source; }

WeightsBuilder::WeightsBuilder(std::string source) : state_(std::make_shared<Weights::State>()) {
  state_->source = std::move(source);
}

void WeightsBuilder::keep_alive(std::shared_ptr<const void> owner) {
  state_->owners.push_back(std::move(owner));
}

std::span<std::byte> WeightsBuilder::allocate(std::size_t size) {
  // operator new[] aligns to __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16), enough for every dtype.
  std::shared_ptr<std::byte[]> buffer(new std::byte[size == 0 ? 1 : size]());
  std::span<std::byte> out(buffer.get(), size);
  state_->owners.push_back(std::move(buffer));
  return out;
}

void WeightsBuilder::add(std::string name, WeightDType dtype, std::vector<std::int64_t> shape,
                         std::span<const std::byte> bytes) {
  if (state_->tensors.contains(name))
    throw_invalid(state_->source + ": tensor '" + name + "' appears more than once");
  const auto address = reinterpret_cast<std::uintptr_t>(bytes.data());
  if (address % io::weight_dtype_alignment(dtype) != 0) {
    const std::span<std::byte> copy = allocate(bytes.size());
    std::memcpy(copy.data(), bytes.data(), bytes.size());
    bytes = copy;
  }
  WeightTensor tensor{name, dtype, std::move(shape), bytes};
  state_->tensors.emplace(std::move(name), std::move(tensor));
}

void WeightsBuilder::merge(const Weights& shard) {
  for (const auto& [name, tensor] : shard.state_->tensors) {
    if (state_->tensors.contains(name))
      throw_invalid(state_->source + ": tensor '" + name + "' of " + shard.source() +
                    " was already read from another shard");
    state_->tensors.emplace(name, tensor);
  }
  for (const auto& [key, value] : shard.state_->metadata)
    state_->metadata.insert_or_assign(key, value);
  state_->owners.push_back(shard.state_);
}

void WeightsBuilder::add_metadata(std::string key, std::string value) {
  state_->metadata.insert_or_assign(std::move(key), std::move(value));
}

Weights WeightsBuilder::finish() && { return Weights(std::move(state_)); }

}  // namespace rank_rerank
