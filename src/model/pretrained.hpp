// Loading the pieces every encoder needs from a model directory or Hub repository: the
// transformer encoder (config.json + checkpoint), the tokenizer, small JSON files.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "backend/backend.hpp"
#include "model/transformer.hpp"
#include "rank_rerank/hub.hpp"
#include "rank_rerank/tokenizer.hpp"

namespace rank_rerank::model {

// The whole text of a file (for JSON that JsonConfig cannot hold, e.g. a top-level list).
std::string read_text_file(const std::filesystem::path& path);

// tokenizer.json (or vocab.txt) with tokenizer_config.json, resolved into one directory.
Tokenizer load_tokenizer(std::string_view path_or_id, const HubOptions& hub);

// The checkpoint of a model directory or repository, and the encoder read from it.
struct PretrainedTransformer {
  TransformerConfig config;
  JsonConfig config_json;
  Weights weights;
  TransformerEncoder encoder;
};
PretrainedTransformer load_transformer(std::string_view path_or_id, const HubOptions& hub,
                                       std::shared_ptr<backend::Backend> backend);

// The checkpoint in a module folder ("1_Dense"): model.safetensors, else pytorch_model.bin.
Weights load_folder_weights(std::string_view path_or_id, const std::string& folder,
                            const HubOptions& hub);

// Packed token ids of encodings, ready for TransformerEncoder::forward.
struct PackedIds {
  std::vector<std::int32_t> ids, type_ids;
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int64_t> key_lengths;  // empty: every token attends to every token
  backend::TokenBatch view() const { return {ids, type_ids, offsets, key_lengths}; }
  void append(const Encoding& e) {
    ids.insert(ids.end(), e.ids.begin(), e.ids.end());
    type_ids.insert(type_ids.end(), e.type_ids.begin(), e.type_ids.end());
    offsets.push_back(static_cast<std::int64_t>(ids.size()));
  }
  // encodings[items[0]], encodings[items[1]], ... (a batch from plan_batches).
  static PackedIds gather(const std::vector<Encoding>& encodings,
                          std::span<const std::size_t> items) {
    PackedIds packed;
    for (std::size_t i : items) packed.append(encodings[i]);
    return packed;
  }
};

// Token counts of encodings, for plan_batches.
inline std::vector<std::size_t> lengths_of(const std::vector<Encoding>& encodings) {
  std::vector<std::size_t> lengths;
  lengths.reserve(encodings.size());
  for (const Encoding& e : encodings) lengths.push_back(e.ids.size());
  return lengths;
}

}  // namespace rank_rerank::model
