// A reader for the zip archives torch.save writes: entries stored uncompressed (torch aligns
// them so tensors can be mapped in place), zip64 where needed. Compressed or encrypted entries are
// listed but refused when read, with a message saying so.
//
// Own code rather than libzip/minizip: both decompress into caller buffers, while the point here is
// to hand out spans into the memory-mapped file, and the stored-entry subset is ~200 lines of
// bounds-checked parsing. CRCs are not verified: that would read every byte of every tensor up
// front, defeating the lazy mapping; the structural checks still catch truncation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rank_rerank::io {

struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;  // 0 = stored
  std::uint16_t flags = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;
  std::uint64_t data_offset = 0;  // from the start of the archive
};

class ZipArchive {
 public:
  // Reads the central directory and every local header. Throws Error naming `source` when the
  // bytes are not a zip archive, are truncated, or an entry points outside the archive.
  ZipArchive(std::span<const std::byte> bytes, std::string source);

  const std::vector<ZipEntry>& entries() const noexcept { return entries_; }
  // Null when there is no entry of that name.
  const ZipEntry* find(std::string_view name) const noexcept;
  // The bytes of a stored entry. Throws Error (unsupported) for compressed or encrypted entries.
  std::span<const std::byte> data(const ZipEntry& entry) const;

 private:
  std::span<const std::byte> bytes_;
  std::string source_;
  std::vector<ZipEntry> entries_;
};

}  // namespace rank_rerank::io
