// Reading a document vectors file: safetensors parsed in place over a read-only mapping, then
// every promise of the format checked before anything is scored.
#include "rank_rerank/document_vectors.hpp"

#include <charconv>
#include <unordered_map>

#include "io/mapped_file.hpp"
#include "io/safetensors_format.hpp"
#include "pipeline/vectors_file_format.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank {

struct DocumentVectors::State {
  std::shared_ptr<const io::MappedFile> file;  // null when parsing caller-owned bytes
  std::string source;
  ModelIdentity model;
  DType dtype = DType::f32;
  std::size_t dim = 0;
  const std::byte* vectors = nullptr;
  std::size_t total_rows = 0;
  std::span<const std::int64_t> offsets;
  std::span<const std::int64_t> id_offsets;
  std::string_view id_bytes;
  std::unordered_map<std::string_view, std::size_t> index;
};

namespace {

using pipeline::vectors_file::kFormat;
using pipeline::vectors_file::kVersion;

[[noreturn]] void bad(const std::string& source, const std::string& what) {
  throw_invalid(source + ": not a valid document vectors file: " + what);
}

const std::string& metadata_value(const io::SafetensorsLayout& layout, const std::string& key,
                                  const std::string& source) {
  const auto it = layout.metadata.find(key);
  if (it == layout.metadata.end()) bad(source, "metadata key '" + key + "' is missing");
  return it->second;
}

std::size_t metadata_size(const io::SafetensorsLayout& layout, const std::string& key,
                          const std::string& source) {
  const std::string& text = metadata_value(layout, key, source);
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    bad(source, "metadata '" + key + "' must be a non-negative integer, found '" + text + "'");
  return value;
}

const io::SafetensorsEntry& tensor(const io::SafetensorsLayout& layout, std::string_view name,
                                   std::size_t rank, const std::string& source) {
  for (const io::SafetensorsEntry& e : layout.entries) {
    if (e.name != name) continue;
    if (e.shape.size() != rank)
      bad(source, "tensor '" + std::string(name) + "' must have rank " + std::to_string(rank) +
                      ", found rank " + std::to_string(e.shape.size()));
    return e;
  }
  bad(source, "tensor '" + std::string(name) + "' is missing");
}

// A span of int64 values inside the file; the writer aligns them to 8 bytes.
std::span<const std::int64_t> int64_span(std::span<const std::byte> file,
                                         const io::SafetensorsLayout& layout,
                                         const io::SafetensorsEntry& e, const std::string& source) {
  if (e.dtype != WeightDType::i64)
    bad(source,
        "tensor '" + e.name + "' must be I64, found " + std::string(weight_dtype_name(e.dtype)));
  const std::byte* begin = file.data() + layout.data_offset + e.begin;
  if (reinterpret_cast<std::uintptr_t>(begin) % alignof(std::int64_t) != 0)
    bad(source, "tensor '" + e.name + "' is not 8-byte aligned in the file");
  return {reinterpret_cast<const std::int64_t*>(begin), (e.end - e.begin) / sizeof(std::int64_t)};
}

// offsets[0] == 0, non-decreasing, offsets.back() == total.
void check_offsets(std::span<const std::int64_t> offsets, std::size_t total, const char* name,
                   const std::string& source) {
  if (offsets.empty()) bad(source, std::string(name) + " must have at least one entry");
  if (offsets.front() != 0)
    bad(source, std::string(name) + "[0] must be 0, found " + std::to_string(offsets.front()));
  for (std::size_t i = 1; i < offsets.size(); ++i)
    if (offsets[i] < offsets[i - 1])
      bad(source, std::string(name) + " decreases at entry " + std::to_string(i));
  if (static_cast<std::uint64_t>(offsets.back()) != total)
    bad(source, std::string(name) + " must end at " + std::to_string(total) + ", found " +
                    std::to_string(offsets.back()));
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF)
      len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += len;
  }
  return true;
}

DType vector_dtype(WeightDType d, const std::string& source) {
  switch (d) {
    case WeightDType::f32:
      return DType::f32;
    case WeightDType::f16:
      return DType::f16;
    case WeightDType::bf16:
      return DType::bf16;
    default:
      bad(source,
          "tensor 'vectors' must be F32, F16 or BF16, found " + std::string(weight_dtype_name(d)));
  }
}

std::shared_ptr<DocumentVectors::State> parse_state(std::span<const std::byte> file,
                                                    std::string source) {
  const io::SafetensorsLayout layout = io::parse_safetensors(file, source);
  auto s = std::make_shared<DocumentVectors::State>();
  s->source = source;
  if (metadata_value(layout, "format", source) != kFormat)
    bad(source, "metadata 'format' must be '" + std::string(kFormat) + "', found '" +
                    metadata_value(layout, "format", source) + "'");
  if (metadata_value(layout, "version", source) != kVersion)
    bad(source, "version '" + metadata_value(layout, "version", source) +
                    "' is not supported (this build reads version " + std::string(kVersion) + ")");
  s->model.name = metadata_value(layout, "model.name", source);
  s->model.kind = metadata_value(layout, "model.kind", source);
  s->model.fingerprint = metadata_value(layout, "model.fingerprint", source);
  s->model.dim = metadata_size(layout, "model.dim", source);
  s->model.max_length = metadata_size(layout, "model.max_length", source);

  const io::SafetensorsEntry& vectors = tensor(layout, "vectors", 2, source);
  s->dtype = vector_dtype(vectors.dtype, source);
  s->total_rows = static_cast<std::size_t>(vectors.shape[0]);
  s->dim = static_cast<std::size_t>(vectors.shape[1]);
  if (s->dim != s->model.dim || s->dim == 0)
    bad(source, "tensor 'vectors' has " + std::to_string(s->dim) + " columns, metadata model.dim " +
                    std::to_string(s->model.dim) + " (both must agree and be positive)");
  s->vectors = file.data() + layout.data_offset + vectors.begin;
  if (s->total_rows > 0 && reinterpret_cast<std::uintptr_t>(s->vectors) % 4 != 0)
    bad(source, "tensor 'vectors' is not 4-byte aligned in the file");

  s->offsets = int64_span(file, layout, tensor(layout, "offsets", 1, source), source);
  s->id_offsets = int64_span(file, layout, tensor(layout, "id_offsets", 1, source), source);
  const io::SafetensorsEntry& id_bytes = tensor(layout, "id_bytes", 1, source);
  if (id_bytes.dtype != WeightDType::u8)
    bad(source,
        "tensor 'id_bytes' must be U8, found " + std::string(weight_dtype_name(id_bytes.dtype)));
  s->id_bytes = {reinterpret_cast<const char*>(file.data() + layout.data_offset + id_bytes.begin),
                 id_bytes.end - id_bytes.begin};
  if (s->offsets.size() != s->id_offsets.size())
    bad(source, "offsets has " + std::to_string(s->offsets.size()) + " entries, id_offsets " +
                    std::to_string(s->id_offsets.size()) + " (both must be documents + 1)");
  if (s->offsets.size() - 1 > kMaxVectorsFileDocuments)
    bad(source, "more than " + std::to_string(kMaxVectorsFileDocuments) + " documents");
  check_offsets(s->offsets, s->total_rows, "offsets", source);
  check_offsets(s->id_offsets, s->id_bytes.size(), "id_offsets", source);

  const std::size_t n = s->offsets.size() - 1;
  s->index.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto begin = static_cast<std::size_t>(s->id_offsets[i]);
    const auto end = static_cast<std::size_t>(s->id_offsets[i + 1]);
    const std::string_view id = s->id_bytes.substr(begin, end - begin);
    if (id.empty() || id.size() > kMaxDocumentIdBytes)
      bad(source, "id " + std::to_string(i) + " must have 1 to " +
                      std::to_string(kMaxDocumentIdBytes) + " bytes, found " +
                      std::to_string(id.size()));
    if (!valid_utf8(id)) bad(source, "id " + std::to_string(i) + " is not valid UTF-8");
    if (!s->index.emplace(id, i).second)
      bad(source, "id '" + std::string(id) + "' appears more than once");
  }
  return s;
}

}  // namespace

std::string ModelIdentity::mismatch(const ModelIdentity& other) const {
  auto differ = [&](const std::string& what, const std::string& mine, const std::string& theirs) {
    return what + " differs: the vectors were written by '" + name + "' (" + what + " " + mine +
           "), the scoring model is '" + other.name + "' (" + what + " " + theirs + ")";
  };
  if (kind != other.kind) return differ("kind", kind, other.kind);
  if (fingerprint != other.fingerprint)
    return differ("fingerprint", fingerprint, other.fingerprint);
  if (dim != other.dim) return differ("dim", std::to_string(dim), std::to_string(other.dim));
  if (max_length != other.max_length)
    return differ("max_length", std::to_string(max_length), std::to_string(other.max_length));
  return {};
}

DocumentVectors DocumentVectors::open(const std::filesystem::path& path) {
  std::shared_ptr<const io::MappedFile> file = io::MappedFile::open(path);
  std::shared_ptr<State> s = parse_state(file->bytes(), path.string());
  s->file = std::move(file);
  return DocumentVectors(std::move(s));
}

DocumentVectors DocumentVectors::parse(std::span<const std::byte> file, std::string_view source) {
  return DocumentVectors(parse_state(file, std::string(source)));
}

std::size_t DocumentVectors::size() const noexcept { return state_->offsets.size() - 1; }
std::size_t DocumentVectors::dim() const noexcept { return state_->dim; }
DType DocumentVectors::dtype() const noexcept { return state_->dtype; }
std::size_t DocumentVectors::total_rows() const noexcept { return state_->total_rows; }
const ModelIdentity& DocumentVectors::model() const noexcept { return state_->model; }
const std::string& DocumentVectors::source() const noexcept { return state_->source; }

std::string_view DocumentVectors::id(std::size_t i) const {
  if (i >= size())
    throw_invalid("DocumentVectors::id: index " + std::to_string(i) + " out of range for " +
                  std::to_string(size()) + " documents");
  const auto begin = static_cast<std::size_t>(state_->id_offsets[i]);
  const auto end = static_cast<std::size_t>(state_->id_offsets[i + 1]);
  return state_->id_bytes.substr(begin, end - begin);
}

std::optional<std::size_t> DocumentVectors::find(std::string_view id) const noexcept {
  const auto it = state_->index.find(id);
  if (it == state_->index.end()) return std::nullopt;
  return it->second;
}

std::vector<std::int64_t> DocumentVectors::positions(std::span<const std::string_view> ids) const {
  std::vector<std::int64_t> out;
  out.reserve(ids.size());
  for (std::string_view id : ids) {
    const std::optional<std::size_t> at = find(id);
    if (!at) throw_invalid("document id '" + std::string(id) + "' is not in " + state_->source);
    out.push_back(static_cast<std::int64_t>(*at));
  }
  return out;
}

PackedTokens DocumentVectors::packed() const noexcept {
  return {{state_->dtype, state_->vectors, state_->total_rows, state_->dim}, state_->offsets};
}

DocumentVectors::DocumentVectors(std::shared_ptr<const State> state) : state_(std::move(state)) {}
DocumentVectors::DocumentVectors(DocumentVectors&&) noexcept = default;
DocumentVectors& DocumentVectors::operator=(DocumentVectors&&) noexcept = default;
DocumentVectors::~DocumentVectors() = default;

}  // namespace rank_rerank
