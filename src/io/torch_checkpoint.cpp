#include "io/torch_checkpoint.hpp"

#include <cstring>
#include <limits>

#include "io/pickle_state_dict.hpp"
#include "io/weight_dtype.hpp"
#include "io/weights_builder.hpp"
#include "io/zip_archive.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::io {
namespace {

bool starts_with(std::span<const std::byte> file, std::string_view prefix) {
  return file.size() >= prefix.size() &&
         std::memcmp(file.data(), prefix.data(), prefix.size()) == 0;
}

// torch names every entry "<archive>/...", with <archive> taken from the file name at save time.
std::string archive_prefix(const ZipArchive& zip, const std::string& source) {
  std::string prefix;
  for (const ZipEntry& e : zip.entries()) {
    const std::size_t slash = e.name.find('/');
    if (slash == std::string::npos || e.name.substr(slash + 1) != "data.pkl") continue;
    if (!prefix.empty())
      throw_invalid(source + ": more than one data.pkl ('" + prefix + "data.pkl', '" + e.name +
                    "')");
    prefix = e.name.substr(0, slash + 1);
  }
  if (prefix.empty())
    throw_invalid(source + ": zip archive without <archive>/data.pkl: not written by torch.save");
  return prefix;
}

std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::string& message) {
  if (b != 0 && a > std::numeric_limits<std::uint64_t>::max() / b) throw_invalid(message);
  return a * b;
}

class TensorReader {
 public:
  TensorReader(const ZipArchive& zip, std::string prefix, const std::string& source,
               WeightsBuilder& builder)
      : zip_(zip), prefix_(std::move(prefix)), source_(source), builder_(builder) {}

  void add(const PickledTensor& t) {
    const std::string what = source_ + ": tensor '" + t.name + "'";
    const std::size_t element = weight_dtype_bits(t.dtype) / 8;
    const ZipEntry* entry = zip_.find(prefix_ + "data/" + t.storage_key);
    if (entry == nullptr)
      throw_invalid(what + ": its storage '" + t.storage_key + "' has no entry " + prefix_ +
                    "data/" + t.storage_key);
    const std::span<const std::byte> storage = zip_.data(*entry);
    const std::uint64_t declared =
        checked_mul(t.storage_numel, element, what + ": storage element count overflows");
    if (storage.size() != declared)
      throw_invalid(
          what + ": storage '" + t.storage_key + "' declares " + std::to_string(t.storage_numel) +
          " " + std::string(weight_dtype_name(t.dtype)) + " elements (" + std::to_string(declared) +
          " bytes) but its entry has " + std::to_string(storage.size()) + " bytes");

    // The view touches elements offset + sum((size_i - 1) * stride_i); all must be in the storage.
    std::uint64_t numel = 1;
    std::uint64_t last = t.storage_offset;
    for (std::size_t d = 0; d < t.shape.size(); ++d) {
      const auto size = static_cast<std::uint64_t>(t.shape[d]);
      numel = checked_mul(numel, size, what + ": shape overflows");
      if (size > 0) {
        const std::uint64_t reach = checked_mul(size - 1, static_cast<std::uint64_t>(t.stride[d]),
                                                what + ": stride overflows");
        if (reach > std::numeric_limits<std::uint64_t>::max() - last)
          throw_invalid(what + ": stride overflows");
        last += reach;
      }
    }
    if (numel > 0 && last >= t.storage_numel)
      throw_invalid(what + ": shape " + shape_string(t.shape) + ", stride " +
                    shape_string(t.stride) + " at offset " + std::to_string(t.storage_offset) +
                    " reaches element " + std::to_string(last) + " of a storage of " +
                    std::to_string(t.storage_numel));
    if (numel == 0 && t.storage_offset > t.storage_numel)
      throw_invalid(what + ": offset " + std::to_string(t.storage_offset) +
                    " lies past its storage of " + std::to_string(t.storage_numel) + " elements");

    const std::span<const std::byte> first =
        storage.subspan(static_cast<std::size_t>(t.storage_offset) * element);
    if (is_contiguous(t)) {
      builder_.add(t.name, t.dtype, t.shape,
                   first.first(static_cast<std::size_t>(numel) * element));
      return;
    }
    const std::span<std::byte> copy = builder_.allocate(static_cast<std::size_t>(numel) * element);
    gather(t, first, element, copy);
    builder_.add(t.name, t.dtype, t.shape, copy);
  }

 private:
  // Row-major strides, where dimensions of size 1 may carry any stride.
  static bool is_contiguous(const PickledTensor& t) {
    std::int64_t expected = 1;
    for (std::size_t d = t.shape.size(); d-- > 0;) {
      if (t.shape[d] == 0) return true;
      if (t.shape[d] != 1 && t.stride[d] != expected) return false;
      expected *= t.shape[d];
    }
    return true;
  }

  // Copies a strided view element by element in row-major order.
  static void gather(const PickledTensor& t, std::span<const std::byte> first, std::size_t element,
                     std::span<std::byte> out) {
    const std::size_t rank = t.shape.size();
    std::vector<std::int64_t> index(rank, 0);
    std::size_t source = 0;  // element offset of `index` from `first`
    for (std::size_t written = 0; written < out.size(); written += element) {
      std::memcpy(out.data() + written, first.data() + source * element, element);
      for (std::size_t d = rank; d-- > 0;) {
        source += static_cast<std::size_t>(t.stride[d]);
        if (++index[d] < t.shape[d]) break;
        source -= static_cast<std::size_t>(t.stride[d] * t.shape[d]);
        index[d] = 0;
      }
    }
  }

  const ZipArchive& zip_;
  std::string prefix_;
  const std::string& source_;
  WeightsBuilder& builder_;
};

}  // namespace

void read_torch_checkpoint(std::span<const std::byte> file, const std::string& source,
                           WeightsBuilder& builder) {
  if (!starts_with(file, "PK\x03\x04")) {
    if (starts_with(file, "\x80"))
      throw_unsupported(source +
                        ": legacy (pre-1.6, non-zip) torch.save format is not supported; "
                        "re-save it with a current torch or convert it to safetensors");
    throw_invalid(source + ": not a zip archive written by torch.save (bad magic bytes)");
  }
  const ZipArchive zip(file, source);
  const std::string prefix = archive_prefix(zip, source);
  if (const ZipEntry* order = zip.find(prefix + "byteorder")) {
    const auto bytes = zip.data(*order);
    const std::string_view value(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (value != "little")
      throw_unsupported(source + ": byte order '" + std::string(value) +
                        "'; only little-endian archives are read");
  }
  const std::vector<PickledTensor> tensors =
      read_state_dict_pickle(zip.data(*zip.find(prefix + "data.pkl")), source + " data.pkl");
  TensorReader reader(zip, prefix, source, builder);
  for (const PickledTensor& t : tensors) reader.add(t);
}

}  // namespace rank_rerank::io
