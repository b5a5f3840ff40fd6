#include "io/safetensors_format.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "io/strict_json.hpp"
#include "io/weight_dtype.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::io {
namespace {

using nlohmann::json;

class HeaderReader {
 public:
  explicit HeaderReader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw_invalid(std::string(source_) + ": " + message);
  }
  [[noreturn]] void fail_tensor(const std::string& name, const std::string& message) const {
    fail("tensor '" + name + "': " + message);
  }

  // A JSON value that must be a non-negative integer fitting in `limit`.
  std::uint64_t unsigned_value(const json& value, const std::string& name, const char* field,
                               std::uint64_t limit) const {
    if (value.is_number_unsigned()) {
      const auto v = value.get<std::uint64_t>();
      if (v <= limit) return v;
      fail_tensor(name, std::string(field) + " value " + std::to_string(v) + " is too large");
    }
    if (value.is_number_integer())
      fail_tensor(name, std::string(field) + " value " + std::to_string(value.get<std::int64_t>()) +
                            " is negative");
    fail_tensor(name, std::string(field) + " holds " + std::string(json_type_name(value)) +
                          ", a non-negative integer expected");
  }

  SafetensorsEntry entry(const std::string& name, const json& info) const {
    if (!info.is_object())
      fail_tensor(name, "header entry is " + std::string(json_type_name(info)) +
                            ", an object {dtype, shape, data_offsets} expected");
    SafetensorsEntry e;
    e.name = name;

    const auto dtype = info.find("dtype");
    if (dtype == info.end()) fail_tensor(name, "missing 'dtype'");
    if (!dtype->is_string())
      fail_tensor(name,
                  "'dtype' is " + std::string(json_type_name(*dtype)) + ", a string expected");
    const auto parsed = weight_dtype_from_name(dtype->get_ref<const std::string&>());
    if (!parsed)
      fail_tensor(name, "unknown dtype '" + dtype->get<std::string>() + "' (expected one of " +
                            weight_dtype_names() + ")");
    e.dtype = *parsed;

    const auto shape = info.find("shape");
    if (shape == info.end()) fail_tensor(name, "missing 'shape'");
    if (!shape->is_array())
      fail_tensor(name,
                  "'shape' is " + std::string(json_type_name(*shape)) + ", an array expected");
    constexpr auto kMaxDim = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    for (const json& d : *shape)
      e.shape.push_back(static_cast<std::int64_t>(unsigned_value(d, name, "shape", kMaxDim)));

    const auto offsets = info.find("data_offsets");
    if (offsets == info.end()) fail_tensor(name, "missing 'data_offsets'");
    if (!offsets->is_array() || offsets->size() != 2)
      fail_tensor(name, "'data_offsets' must be an array [begin, end]");
    constexpr auto kMaxOffset = static_cast<std::uint64_t>(std::numeric_limits<std::size_t>::max());
    e.begin = unsigned_value((*offsets)[0], name, "data_offsets", kMaxOffset);
    e.end = unsigned_value((*offsets)[1], name, "data_offsets", kMaxOffset);
    if (e.end < e.begin)
      fail_tensor(name, "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                            "] end before they begin");
    check_size(e);
    return e;
  }

  // dtype x shape must account for exactly the bytes the offsets span.
  void check_size(const SafetensorsEntry& e) const {
    std::size_t numel = 1;
    for (const std::int64_t d : e.shape) {
      const auto dim = static_cast<std::size_t>(d);
      if (dim != 0 && numel > std::numeric_limits<std::size_t>::max() / dim)
        fail_tensor(e.name, "shape " + shape_string(e.shape) + " has too many elements");
      numel *= dim;
    }
    const std::size_t bits = weight_dtype_bits(e.dtype);
    if (numel > std::numeric_limits<std::size_t>::max() / bits)
      fail_tensor(e.name, "shape " + shape_string(e.shape) + " has too many elements");
    if (numel * bits % 8 != 0)
      fail_tensor(e.name, "shape " + shape_string(e.shape) + " of " +
                              std::string(weight_dtype_name(e.dtype)) +
                              " is not a whole number of bytes");
    const std::size_t expected = numel * bits / 8;
    if (e.end - e.begin != expected)
      fail_tensor(e.name, "data_offsets [" + std::to_string(e.begin) + ", " +
                              std::to_string(e.end) + "] span " + std::to_string(e.end - e.begin) +
                              " bytes, but " + std::string(weight_dtype_name(e.dtype)) + " " +
                              shape_string(e.shape) + " needs " + std::to_string(expected));
  }

  void read_metadata(const json& value, SafetensorsLayout& layout) const {
    if (value.is_null()) return;
    if (!value.is_object())
      fail("__metadata__ is " + std::string(json_type_name(value)) + ", an object expected");
    for (const auto& [key, v] : value.items()) {
      if (!v.is_string())
        fail("__metadata__['" + key + "'] is " + std::string(json_type_name(v)) +
             ", a string expected");
      layout.metadata.emplace(key, v.get<std::string>());
    }
  }

  // Sorted by position, each span must start where the previous ended, from 0 to the end of the
  // data section: the reference implementation accepts nothing else.
  void check_packing(std::vector<SafetensorsEntry> entries, std::size_t data_size) const {
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::size_t position = 0;
    const SafetensorsEntry* previous = nullptr;
    for (const SafetensorsEntry& e : entries) {
      if (e.end > data_size)
        fail_tensor(e.name, "data_offsets [" + std::to_string(e.begin) + ", " +
                                std::to_string(e.end) +
                                "] reach past the end of the data section (" +
                                std::to_string(data_size) + " bytes)");
      if (e.begin < position)
        fail("tensors '" + previous->name + "' and '" + e.name + "' overlap (bytes [" +
             std::to_string(e.begin) + ", " + std::to_string(position) + ") of the data section)");
      if (e.begin > position)
        fail("bytes [" + std::to_string(position) + ", " + std::to_string(e.begin) +
             ") of the data section belong to no tensor (before tensor '" + e.name +
             "'); safetensors packs tensors back to back");
      position = e.end;
      previous = &e;
    }
    if (position != data_size)
      fail("the data section has " + std::to_string(data_size) + " bytes but the tensors cover " +
           std::to_string(position));
  }

 private:
  std::string_view source_;
};

}  // namespace

SafetensorsLayout parse_safetensors(std::span<const std::byte> file, std::string_view source) {
  const HeaderReader reader(source);
  if (file.size() < 8)
    reader.fail("file has " + std::to_string(file.size()) +
                " bytes, fewer than the 8-byte header length: truncated or not safetensors");
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i)
    header_size =
        (header_size << 8) | std::to_integer<std::uint64_t>(file[static_cast<std::size_t>(i)]);
  if (header_size > kMaxSafetensorsHeader)
    reader.fail("header length " + std::to_string(header_size) + " exceeds the " +
                std::to_string(kMaxSafetensorsHeader) + "-byte limit: corrupt or not safetensors");
  if (header_size > file.size() - 8)
    reader.fail("header length " + std::to_string(header_size) +
                " runs past the end of the file (" + std::to_string(file.size() - 8) +
                " bytes follow the length): truncated");

  SafetensorsLayout layout;
  layout.data_offset = 8 + static_cast<std::size_t>(header_size);
  const std::string_view text(reinterpret_cast<const char*>(file.data()) + 8,
                              static_cast<std::size_t>(header_size));
  const json header = parse_json_strict(text, std::string(source) + " header");
  if (!header.is_object())
    reader.fail("header is " + std::string(json_type_name(header)) + ", an object expected");

  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__")
      reader.read_metadata(info, layout);
    else
      layout.entries.push_back(reader.entry(name, info));
  }
  reader.check_packing(layout.entries, file.size() - layout.data_offset);
  return layout;
}

}  // namespace rank_rerank::io
