// Writing a document vectors file: a safetensors header (JSON, padded with spaces so the data
// section starts 8-byte aligned), then the int64 tensors first so every tensor stays aligned,
// then the vectors, then the id bytes.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <unordered_set>

#include "pipeline/vectors_file_format.hpp"
#include "rank_rerank/document_vectors.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/quantize.hpp"

namespace rank_rerank {

namespace {

struct Section {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  const void* data;
  std::size_t bytes;
};

const char* safetensors_dtype(DType d) {
  switch (d) {
    case DType::f32:
      return "F32";
    case DType::f16:
      return "F16";
    case DType::bf16:
      return "BF16";
    default:
      throw_invalid("write_document_vectors: storage must be f32, f16 or bf16, found " +
                    std::string(dtype_name(d)));
  }
}

void check_inputs(const PackedEmbeddings& vectors, std::span<const std::string> ids) {
  const std::string what = "write_document_vectors: ";
  if (vectors.offsets.empty() || vectors.offsets.front() != 0)
    throw_invalid(what + "vectors.offsets must start with 0");
  for (std::size_t i = 1; i < vectors.offsets.size(); ++i)
    if (vectors.offsets[i] < vectors.offsets[i - 1])
      throw_invalid(what + "vectors.offsets decreases at entry " + std::to_string(i));
  if (vectors.dim == 0) throw_invalid(what + "vectors.dim must be positive");
  const auto rows = static_cast<std::size_t>(vectors.offsets.back());
  if (vectors.values.size() != rows * vectors.dim)
    throw_invalid(what + "vectors.values has " + std::to_string(vectors.values.size()) +
                  " values, offsets and dim say " + std::to_string(rows) + " x " +
                  std::to_string(vectors.dim));
  if (ids.size() != vectors.offsets.size() - 1)
    throw_invalid(what + std::to_string(ids.size()) + " ids for " +
                  std::to_string(vectors.offsets.size() - 1) + " documents");
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty() || ids[i].size() > kMaxDocumentIdBytes)
      throw_invalid(what + "id " + std::to_string(i) + " must have 1 to " +
                    std::to_string(kMaxDocumentIdBytes) + " bytes, found " +
                    std::to_string(ids[i].size()));
    if (!seen.insert(ids[i]).second)
      throw_invalid(what + "id '" + ids[i] + "' appears more than once");
  }
}

}  // namespace

void write_document_vectors(const std::filesystem::path& path, const PackedEmbeddings& vectors,
                            std::span<const std::string> ids, const ModelIdentity& model,
                            DType storage) {
  const char* dtype = safetensors_dtype(storage);
  check_inputs(vectors, ids);
  if (model.dim != vectors.dim)
    throw_invalid("write_document_vectors: model.dim " + std::to_string(model.dim) +
                  " differs from vectors.dim " + std::to_string(vectors.dim));
  const auto rows = static_cast<std::size_t>(vectors.offsets.back());

  QuantizedTokens converted;
  const void* vector_data = vectors.values.data();
  if (storage != DType::f32) {
    converted = quantize({vectors.values.data(), rows, vectors.dim}, storage);
    vector_data = converted.bytes.data();
  }
  std::vector<std::int64_t> id_offsets{0};
  std::string id_bytes;
  for (const std::string& id : ids) {
    id_bytes += id;
    id_offsets.push_back(static_cast<std::int64_t>(id_bytes.size()));
  }

  const auto n1 = static_cast<std::int64_t>(vectors.offsets.size());
  const std::vector<Section> sections = {
      {"id_offsets", "I64", {n1}, id_offsets.data(), id_offsets.size() * 8},
      {"offsets", "I64", {n1}, vectors.offsets.data(), vectors.offsets.size() * 8},
      {"vectors",
       dtype,
       {static_cast<std::int64_t>(rows), static_cast<std::int64_t>(vectors.dim)},
       vector_data,
       rows * row_bytes(storage, vectors.dim)},
      {"id_bytes",
       "U8",
       {static_cast<std::int64_t>(id_bytes.size())},
       id_bytes.data(),
       id_bytes.size()},
  };
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", std::string(pipeline::vectors_file::kFormat)},
                            {"version", std::string(pipeline::vectors_file::kVersion)},
                            {"model.name", model.name},
                            {"model.kind", model.kind},
                            {"model.fingerprint", model.fingerprint},
                            {"model.dim", std::to_string(model.dim)},
                            {"model.max_length", std::to_string(model.max_length)}};
  std::size_t offset = 0;
  for (const Section& s : sections) {
    header[s.name] = {
        {"dtype", s.dtype}, {"shape", s.shape}, {"data_offsets", {offset, offset + s.bytes}}};
    offset += s.bytes;
  }
  std::string text = header.dump();
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');

  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(ErrorKind::runtime, "cannot write " + tmp.string());
    const std::uint64_t header_len = text.size();
    unsigned char len_bytes[8];
    for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(header_len >> (8 * i));
    out.write(reinterpret_cast<const char*>(len_bytes), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const Section& s : sections)
      out.write(static_cast<const char*>(s.data), static_cast<std::streamsize>(s.bytes));
    out.flush();
    if (!out) throw Error(ErrorKind::runtime, "writing " + tmp.string() + " failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Error(ErrorKind::runtime, "cannot rename " + tmp.string() + " to " + path.string());
  }
}

}  // namespace rank_rerank
