// Named tensors read from checkpoint files: safetensors (single or sharded) and the zip-based
// pytorch_model.bin that torch.save writes.
//
// Files are memory-mapped and tensors point into the mapping wherever the bytes can be used as
// they are (contiguous and aligned to the element size: the normal case for both formats).
// Otherwise the tensor is copied once into memory owned by the Weights object. Either way a
// tensor's bytes stay valid for as long as any copy of the Weights object that produced it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rank_rerank {

// Element types of checkpoint tensors, spelled as safetensors spells them. The sub-byte and 8-bit
// float formats are carried as raw bytes; nothing in rank-rerank computes with them.
enum class WeightDType : std::uint8_t {
  boolean,
  u8,
  i8,
  i16,
  u16,
  i32,
  u32,
  i64,
  u64,
  f16,
  bf16,
  f32,
  f64,
  c64,
  f8_e4m3,
  f8_e5m2,
  f8_e8m0,
  f8_e4m3fnuz,
  f8_e5m2fnuz,
  f4,
  f6_e2m3,
  f6_e3m2,
};

// "F32", "BF16", "BOOL", ...: the safetensors name.
std::string_view weight_dtype_name(WeightDType dtype) noexcept;
// Bits per element (4 and 6 for the micro-scaling formats, 8 or more otherwise).
std::size_t weight_dtype_bits(WeightDType dtype) noexcept;

// One tensor: row-major, contiguous, `bytes` aligned to the element size (or to 1 for sub-byte
// formats).
struct WeightTensor {
  std::string name;
  WeightDType dtype = WeightDType::f32;
  std::vector<std::int64_t> shape;  // empty for a scalar
  std::span<const std::byte> bytes;

  std::size_t numel() const noexcept;
  // The values of an f32 tensor, without a copy. Throws Error naming the tensor otherwise.
  std::span<const float> f32() const;
  // The values of an f32, f16, bf16 or f64 tensor converted to float (f16 and bf16 exactly,
  // f64 rounded to nearest). Throws Error naming the tensor for any other dtype.
  std::vector<float> to_f32() const;
  // Throws Error naming the tensor, the shape found and `expected` when they differ.
  void expect_shape(std::span<const std::int64_t> expected) const;
};

// A read-only set of named tensors. Copies share the same files and buffers.
class Weights {
 public:
  Weights();

  // Opens a checkpoint, choosing the reader by name:
  //   *.safetensors                  one safetensors file
  //   *.safetensors.index.json       sharded safetensors (weight_map -> shards beside the index)
  //   *.bin / *.pt / *.pth           a zip archive written by torch.save
  //   *.bin.index.json               sharded pytorch_model.bin
  //   a directory                    the first of model.safetensors, model.safetensors.index.json,
  //                                  pytorch_model.bin, pytorch_model.bin.index.json in it
  // Every structural problem (truncation, bad header, offsets outside the file or overlapping,
  // dtype x shape not matching the byte span, duplicate names, disallowed pickle content) throws
  // Error naming the file, the tensor and what was found versus expected.
  static Weights open(const std::filesystem::path& path);

  // A sharded checkpoint whose shards are located by `resolve_shard(file name from weight_map)`,
  // e.g. downloaded on demand. The index decides the format (safetensors or torch zip).
  static Weights open_sharded(
      const std::filesystem::path& index_path,
      const std::function<std::filesystem::path(const std::string&)>& resolve_shard);

  std::size_t size() const noexcept;
  bool contains(std::string_view name) const noexcept;
  // Null when absent.
  const WeightTensor* find(std::string_view name) const noexcept;
  // Throws Error naming the tensor and the checkpoint when absent.
  const WeightTensor& get(std::string_view name) const;
  // get(name) plus expect_shape(shape).
  const WeightTensor& get(std::string_view name, std::span<const std::int64_t> shape) const;
  // Tensor names in lexicographic order.
  std::vector<std::string> names() const;
  // safetensors "__metadata__" (string to string; merged across shards). Empty for torch files.
  const std::map<std::string, std::string, std::less<>>& metadata() const noexcept;
  // What was opened, for messages.
  const std::string& source() const noexcept;

 private:
  struct State;
  friend class WeightsBuilder;
  explicit Weights(std::shared_ptr<const State> state);
  std::shared_ptr<const State> state_;
};

}  // namespace rank_rerank
