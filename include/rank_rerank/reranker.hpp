// From text to a ranked list in one call. A Reranker wraps one model and scores each document
// against its query the way that model family scores:
//   colbert        ColBERT token vectors, MaxSim (dot: the vectors are unit length)
//   cross_encoder  the query and document read together (CrossEncoder.predict, one label)
//   dense          one embedding per text (SentenceEncoder), cosine similarity
//   dense_maxsim   the token vectors of a dense model before pooling, MaxSim over cosine
//                  similarity (late interaction without a trained projection)
// Texts are batched by a token budget (max_batch_tokens), not by count, and every call records
// statistics (RerankStats).
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

#include "rank_rerank/document_vectors.hpp"
#include "rank_rerank/embeddings.hpp"
#include "rank_rerank/hub.hpp"
#include "rank_rerank/tensor.hpp"

namespace rank_rerank {

enum class RerankerKind : std::uint8_t { automatic, colbert, cross_encoder, dense, dense_maxsim };

// "auto", "colbert", "cross_encoder", "dense", "dense_maxsim".
std::string_view reranker_kind_name(RerankerKind kind) noexcept;
// The names above ("cross-encoder" and "crossencoder" are accepted too); throws Error
// (invalid_argument) listing them.
RerankerKind parse_reranker_kind(std::string_view text);

// What a checkpoint is, from its files: config.json architectures "HF_ColBERT", or a
// config_sentence_transformers.json / modules.json naming PyLate's ColBERT (a Dense projection
// without Pooling) -> colbert; architectures "*ForSequenceClassification" -> cross_encoder;
// otherwise a sentence-transformers or plain encoder -> dense. Throws Error when config.json
// cannot be found.
RerankerKind detect_reranker_kind(std::string_view path_or_id, const HubOptions& hub = {});

struct RerankerOptions {
  RerankerKind kind = RerankerKind::automatic;  // automatic: detect_reranker_kind
  HubOptions hub;
  // "auto", "cpu", "cuda", "cuda:N"; and "float32", "float16" (CUDA only), "bfloat16" (also
  // f32/f16/bf16).
  std::string device = "auto";
  std::string dtype = "float32";
  // Several devices instead of `device` (which must then stay "auto"): "cuda:0,cuda:1" or
  // "cuda:all" (parse_devices). The encoder runs data parallel over them (docs/multi_gpu.md).
  std::string devices;
  // Tokens per encoder forward pass (a text longer than the budget gets a pass of its own).
  std::size_t max_batch_tokens = 32768;
  // Document truncation in tokens: ColBERT document_length, cross-encoder max_length (pair),
  // dense max_seq_length. nullopt keeps the checkpoint's value.
  std::optional<std::size_t> max_length;
  std::optional<std::size_t> query_length;  // ColBERT only
  int num_threads = 0;                      // 0: rank_rerank::default_num_threads()
};

struct RerankHit {
  std::int64_t index = 0;  // position in the documents (or candidate ids) given
  float score = 0.0f;
};

// Measurements of one call. Times are wall-clock milliseconds.
struct RerankStats {
  std::size_t queries = 0;
  std::size_t texts = 0;  // texts encoded (queries and documents; pairs for a cross-encoder)
  // Tokens the encoder ran: after truncation, special and ColBERT marker / expansion tokens
  // included.
  std::size_t tokens = 0;
  double tokenize_ms = 0;  // the tokenizer
  double encode_ms = 0;    // the encoder's passes, heads and copies back to host memory
  double score_ms = 0;     // MaxSim / cosine and ranking
  double total_ms = 0;
  std::string device;                    // where the encoder ran: "cpu", "cuda:0", "cuda:0,cuda:1"
  std::vector<std::size_t> batch_texts;  // per forward pass
  std::vector<std::size_t> batch_tokens;
  // tokens / (tokenize + encode) time; 0 when nothing was encoded.
  double tokens_per_second() const noexcept;
  // One JSON object (the CLI's --stats, Python's dict form).
  std::string to_json() const;
};

// The statistics of the most recent Reranker call in this process (any thread).
RerankStats last_rerank_stats();

class Reranker {
 public:
  // Loads the model (kind detected unless given). Throws Error for an unsupported checkpoint, an
  // unusable device, a zero token budget, a cross-encoder with more than one label.
  static Reranker from_pretrained(std::string_view path_or_id, const RerankerOptions& options = {});

  // Documents ranked by score, best first (ties by lower index, NaN last); top_k keeps the best
  // k (more than the document count keeps all). Empty documents are valid texts.
  std::vector<RerankHit> rerank(std::string_view query, std::span<const std::string_view> documents,
                                std::optional<std::size_t> top_k = std::nullopt,
                                RerankStats* stats = nullptr) const;
  // Many queries, each with its own candidates; all texts share the batches.
  std::vector<std::vector<RerankHit>> rerank_many(
      std::span<const std::string_view> queries,
      std::span<const std::vector<std::string_view>> documents,
      std::optional<std::size_t> top_k = std::nullopt, RerankStats* stats = nullptr) const;
  // Scores in document order (no ranking).
  std::vector<float> score(std::string_view query, std::span<const std::string_view> documents,
                           RerankStats* stats = nullptr) const;

  // Document vectors for the precomputed path (not for a cross-encoder: it has none).
  PackedEmbeddings encode_documents(std::span<const std::string_view> documents,
                                    RerankStats* stats = nullptr) const;
  // encode_documents + write_document_vectors with this model's identity.
  void save_document_vectors(const std::filesystem::path& path,
                             std::span<const std::string_view> documents,
                             std::span<const std::string> ids, DType storage = DType::f32,
                             RerankStats* stats = nullptr) const;
  // The candidates, given by id, scored from the stored vectors: only the query is encoded.
  // Throws Error when the file was written by another model (ModelIdentity::mismatch) or an id
  // is not in it. Hits index into candidate_ids.
  std::vector<RerankHit> rerank_precomputed(std::string_view query, const DocumentVectors& vectors,
                                            std::span<const std::string_view> candidate_ids,
                                            std::optional<std::size_t> top_k = std::nullopt,
                                            RerankStats* stats = nullptr) const;

  RerankerKind kind() const noexcept;
  const ModelIdentity& identity() const noexcept;
  std::string device() const;  // "cpu", "cuda:0", or the devices listed: "cuda:0,cuda:1"
  std::string dtype() const;
  std::size_t max_length() const noexcept;  // document (or pair) truncation in tokens

  Reranker(Reranker&&) noexcept;
  Reranker& operator=(Reranker&&) noexcept;
  ~Reranker();

  struct Impl;

 private:
  explicit Reranker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rank_rerank
