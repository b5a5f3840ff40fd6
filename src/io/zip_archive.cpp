#include "io/zip_archive.hpp"

#include <algorithm>

#include "rank_rerank/error.hpp"

namespace rank_rerank::io {
namespace {

constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr std::uint32_t kZip64EndLocator = 0x07064b50;
constexpr std::uint32_t kZip64End = 0x06064b50;
constexpr std::uint16_t kZip64ExtraField = 0x0001;
constexpr std::size_t kEndRecordSize = 22;
constexpr std::size_t kMaxCommentSize = 0xffff;

// Little-endian reads with bounds checks against the whole archive.
class Cursor {
 public:
  Cursor(std::span<const std::byte> bytes, const std::string& source)
      : bytes_(bytes), source_(source) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw_invalid(source_ + ": " + message);
  }
  void require(std::uint64_t offset, std::uint64_t length, const char* what) const {
    if (offset > bytes_.size() || length > bytes_.size() - offset)
      fail(std::string(what) + " at byte " + std::to_string(offset) + " (" +
           std::to_string(length) + " bytes) runs past the end of the archive (" +
           std::to_string(bytes_.size()) + " bytes): truncated or corrupt");
  }
  std::uint64_t read(std::uint64_t offset, int width, const char* what) const {
    require(offset, static_cast<std::uint64_t>(width), what);
    std::uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i)
      v = (v << 8) | std::to_integer<std::uint64_t>(bytes_[offset + static_cast<std::size_t>(i)]);
    return v;
  }
  std::uint16_t u16(std::uint64_t offset, const char* what) const {
    return static_cast<std::uint16_t>(read(offset, 2, what));
  }
  std::uint32_t u32(std::uint64_t offset, const char* what) const {
    return static_cast<std::uint32_t>(read(offset, 4, what));
  }
  std::uint64_t u64(std::uint64_t offset, const char* what) const { return read(offset, 8, what); }
  std::string text(std::uint64_t offset, std::uint64_t length, const char* what) const {
    require(offset, length, what);
    return {reinterpret_cast<const char*>(bytes_.data()) + offset,
            static_cast<std::size_t>(length)};
  }
  std::size_t size() const noexcept { return bytes_.size(); }

 private:
  std::span<const std::byte> bytes_;
  const std::string& source_;
};

struct CentralDirectory {
  std::uint64_t count = 0;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

// The end record sits in the last 22 + comment bytes; search backwards for its signature.
std::uint64_t find_end_record(const Cursor& c) {
  if (c.size() < kEndRecordSize) c.fail("too short to be a zip archive: truncated");
  const std::size_t lowest =
      c.size() > kEndRecordSize + kMaxCommentSize ? c.size() - kEndRecordSize - kMaxCommentSize : 0;
  for (std::size_t at = c.size() - kEndRecordSize + 1; at-- > lowest;)
    if (c.u32(at, "end of central directory") == kEndOfCentralDirectory) return at;
  c.fail("no end-of-central-directory record: truncated or not a zip archive");
}

CentralDirectory read_central_directory_location(const Cursor& c) {
  const std::uint64_t end = find_end_record(c);
  CentralDirectory dir;
  dir.count = c.u16(end + 10, "end of central directory");
  dir.size = c.u32(end + 12, "end of central directory");
  dir.offset = c.u32(end + 16, "end of central directory");
  const bool zip64 = dir.count == 0xffff || dir.size == 0xffffffff || dir.offset == 0xffffffff;
  if (!zip64) return dir;
  if (end < 20 || c.u32(end - 20, "zip64 locator") != kZip64EndLocator)
    c.fail("end record asks for zip64 but the zip64 locator is missing");
  const std::uint64_t record = c.u64(end - 20 + 8, "zip64 locator");
  if (c.u32(record, "zip64 end record") != kZip64End)
    c.fail("zip64 end record not found at byte " + std::to_string(record));
  dir.count = c.u64(record + 32, "zip64 end record");
  dir.size = c.u64(record + 40, "zip64 end record");
  dir.offset = c.u64(record + 48, "zip64 end record");
  return dir;
}

// Sizes and offset saturated at 0xffffffff in the central header live in the zip64 extra field,
// in this order, each present only when saturated.
void apply_zip64_extra(const Cursor& c, std::uint64_t extra, std::uint64_t extra_size, ZipEntry& e,
                       std::uint64_t& local_offset) {
  std::uint64_t at = extra;
  while (at + 4 <= extra + extra_size) {
    const std::uint16_t id = c.u16(at, "extra field");
    const std::uint16_t length = c.u16(at + 2, "extra field");
    if (at + 4 + length > extra + extra_size)
      c.fail("extra field of '" + e.name + "' is truncated");
    if (id == kZip64ExtraField) {
      std::uint64_t field = at + 4;
      const std::uint64_t field_end = field + length;
      for (std::uint64_t* value : {&e.size, &e.compressed_size, &local_offset}) {
        if (*value != 0xffffffff) continue;
        if (field + 8 > field_end) c.fail("zip64 extra field of '" + e.name + "' is too short");
        *value = c.u64(field, "zip64 extra field");
        field += 8;
      }
    }
    at += 4 + length;
  }
}

}  // namespace

ZipArchive::ZipArchive(std::span<const std::byte> bytes, std::string source)
    : bytes_(bytes), source_(std::move(source)) {
  const Cursor c(bytes_, source_);
  const CentralDirectory dir = read_central_directory_location(c);
  c.require(dir.offset, dir.size, "central directory");
  // Each central header takes at least 46 bytes: a count beyond that is corruption, not a reason
  // to reserve memory.
  if (dir.count > dir.size / 46) c.fail("central directory claims more entries than fit in it");
  entries_.reserve(static_cast<std::size_t>(dir.count));

  std::uint64_t at = dir.offset;
  for (std::uint64_t i = 0; i < dir.count; ++i) {
    if (c.u32(at, "central directory entry") != kCentralHeader)
      c.fail("central directory entry " + std::to_string(i) + " has a bad signature");
    ZipEntry e;
    e.flags = c.u16(at + 8, "central directory entry");
    e.method = c.u16(at + 10, "central directory entry");
    e.compressed_size = c.u32(at + 20, "central directory entry");
    e.size = c.u32(at + 24, "central directory entry");
    const std::uint16_t name_size = c.u16(at + 28, "central directory entry");
    const std::uint16_t extra_size = c.u16(at + 30, "central directory entry");
    const std::uint16_t comment_size = c.u16(at + 32, "central directory entry");
    std::uint64_t local = c.u32(at + 42, "central directory entry");
    e.name = c.text(at + 46, name_size, "entry name");
    apply_zip64_extra(c, at + 46 + name_size, extra_size, e, local);

    // The local header repeats the name and carries its own extra field (torch pads with it to
    // align the data), so the data starts after both.
    if (c.u32(local, "local header") != kLocalHeader)
      c.fail("local header of '" + e.name + "' not found at byte " + std::to_string(local));
    const std::uint16_t local_name = c.u16(local + 26, "local header");
    const std::uint16_t local_extra = c.u16(local + 28, "local header");
    e.data_offset = local + 30 + local_name + local_extra;
    c.require(e.data_offset, e.compressed_size, ("data of '" + e.name + "'").c_str());
    entries_.push_back(std::move(e));
    at += 46 + static_cast<std::uint64_t>(name_size) + extra_size + comment_size;
  }
}

const ZipEntry* ZipArchive::find(std::string_view name) const noexcept {
  const auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const ZipEntry& e) { return e.name == name; });
  return it == entries_.end() ? nullptr : &*it;
}

std::span<const std::byte> ZipArchive::data(const ZipEntry& entry) const {
  if (entry.flags & 0x1) throw_unsupported(source_ + ": entry '" + entry.name + "' is encrypted");
  if (entry.method != 0)
    throw_unsupported(source_ + ": entry '" + entry.name + "' is compressed (zip method " +
                      std::to_string(entry.method) +
                      "); torch.save stores entries uncompressed and only that is read");
  if (entry.compressed_size != entry.size)
    throw_invalid(source_ + ": stored entry '" + entry.name + "' has compressed size " +
                  std::to_string(entry.compressed_size) + " but size " +
                  std::to_string(entry.size));
  return bytes_.subspan(static_cast<std::size_t>(entry.data_offset),
                        static_cast<std::size_t>(entry.size));
}

}  // namespace rank_rerank::io
