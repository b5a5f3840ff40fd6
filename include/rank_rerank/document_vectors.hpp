// Precomputed document vectors: a corpus encoded once, saved to one file, memory-mapped later and
// scored by id. The file is a safetensors file (docs/formats.md, "Document vectors file"):
//
//   vectors     F32 | F16 | BF16  [total_rows, dim]   every document's rows, packed
//   offsets     I64               [n_docs + 1]        document i owns rows offsets[i]..offsets[i+1]
//   id_offsets  I64               [n_docs + 1]        id i is
//   id_bytes[id_offsets[i]..id_offsets[i+1]] id_bytes    U8                [total_id_bytes]    the
//   ids, UTF-8, back to back
//
// and a "__metadata__" block naming the format, its version and the model that wrote the vectors
// (ModelIdentity). A dense model stores one row per document; a late-interaction model one row per
// kept token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rank_rerank/embeddings.hpp"
#include "rank_rerank/tensor.hpp"

namespace rank_rerank {

// What produced a set of vectors. Two identities are compatible when everything but `name`
// matches: the same files under another path are the same model.
struct ModelIdentity {
  std::string name;            // the path or Hub id the model was loaded from (for messages)
  std::string kind;            // "colbert", "dense", "dense_maxsim" (reranker_kind_name)
  std::string fingerprint;     // 16 hex digits: configs, tokenizer, weights (docs/formats.md)
  std::size_t dim = 0;         // values per row
  std::size_t max_length = 0;  // document truncation length in tokens

  // Empty when `other` can be scored against vectors of this identity, else why not.
  std::string mismatch(const ModelIdentity& other) const;
};

// Largest document count and id length accepted when reading (a corrupt header should not make
// the loader allocate without bound).
inline constexpr std::size_t kMaxVectorsFileDocuments = std::size_t{1} << 32;
inline constexpr std::size_t kMaxDocumentIdBytes = 4096;

class DocumentVectors {
 public:
  // Maps the file read-only and validates it: format and version, every tensor present with the
  // expected dtype and rank, dim agreeing with the metadata, offsets starting at 0,
  // non-decreasing and ending at the row / byte count, ids non-empty, valid UTF-8 and unique.
  // Throws Error naming the file and what was found versus expected.
  static DocumentVectors open(const std::filesystem::path& path);
  // The same checks on bytes already in memory (which must outlive the result); `source` names
  // them in messages. Used by the fuzzer.
  static DocumentVectors parse(std::span<const std::byte> file, std::string_view source);

  std::size_t size() const noexcept;  // documents
  std::size_t dim() const noexcept;
  DType dtype() const noexcept;
  std::size_t total_rows() const noexcept;
  const ModelIdentity& model() const noexcept;
  const std::string& source() const noexcept;

  std::string_view id(std::size_t i) const;  // throws Error when i >= size()
  std::optional<std::size_t> find(std::string_view id) const noexcept;
  // Positions of `ids`; throws Error naming the first id that is not in the file.
  std::vector<std::int64_t> positions(std::span<const std::string_view> ids) const;
  // All documents as packed rows (views into the mapping).
  PackedTokens packed() const noexcept;

  DocumentVectors(DocumentVectors&&) noexcept;
  DocumentVectors& operator=(DocumentVectors&&) noexcept;
  ~DocumentVectors();

  struct State;

 private:
  explicit DocumentVectors(std::shared_ptr<const State> state);
  std::shared_ptr<const State> state_;
};

// Writes `vectors` (one matrix per document; rows converted to `storage`: f32, f16 or bf16) with
// their ids and the model identity. ids must be unique, non-empty, at most kMaxDocumentIdBytes
// and match the document count. The file is written to `path` + ".tmp" and renamed into place.
void write_document_vectors(const std::filesystem::path& path, const PackedEmbeddings& vectors,
                            std::span<const std::string> ids, const ModelIdentity& model,
                            DType storage = DType::f32);

}  // namespace rank_rerank
