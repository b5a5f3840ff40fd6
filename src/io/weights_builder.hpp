// Assembles a Weights object: the readers (safetensors, torch zip, shard index) add tensors here.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rank_rerank/weights.hpp"

namespace rank_rerank {

struct Weights::State {
  std::string source;
  std::map<std::string, WeightTensor, std::less<>> tensors;
  std::map<std::string, std::string, std::less<>> metadata;
  // Whatever tensor bytes point into: mapped files, copied buffers, the states of merged shards.
  std::vector<std::shared_ptr<const void>> owners;
};

class WeightsBuilder {
 public:
  explicit WeightsBuilder(std::string source);

  // Keeps `owner` alive as long as the finished Weights.
  void keep_alive(std::shared_ptr<const void> owner);
  // Adds a tensor whose bytes live in something kept alive. Bytes not aligned to the element size
  // are copied into an owned buffer so that typed access stays well-defined. Throws Error on a
  // duplicate name.
  void add(std::string name, WeightDType dtype, std::vector<std::int64_t> shape,
           std::span<const std::byte> bytes);
  // An owned, zero-initialised buffer of `size` bytes (aligned for any element type) that lives
  // as long as the finished Weights.
  std::span<std::byte> allocate(std::size_t size);
  // Adds every tensor and metadata entry of `shard`; a tensor name already present throws Error
  // naming it and both sources.
  void merge(const Weights& shard);
  void add_metadata(std::string key, std::string value);

  Weights finish() &&;

 private:
  std::shared_ptr<Weights::State> state_;
};

}  // namespace rank_rerank
