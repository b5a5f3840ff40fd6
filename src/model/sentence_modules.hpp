// The module list of a sentence-transformers model directory (modules.json) and the settings of
// the modules rank-rerank runs: Transformer, Pooling, Normalize.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend.hpp"
#include "rank_rerank/json_config.hpp"

namespace rank_rerank::model {

struct ModuleEntry {
  std::string type;  // e.g. "sentence_transformers.models.Pooling"
  std::string path;  // folder relative to the model root; "" for the root
};

// The entries of modules.json in order. Throws Error naming `source` when the text is not a list
// of objects with string "type" and "path".
std::vector<ModuleEntry> parse_modules_json(std::string_view text, const std::string& source);

struct PoolingConfig {
  std::size_t word_embedding_dimension = 0;
  std::vector<backend::Pooling> modes;  // output order, concatenated
};

// 1_Pooling/config.json. Throws Error (unsupported) for weighted-mean pooling and when no mode is
// enabled, naming the file and the modes found.
PoolingConfig parse_pooling_config(const JsonConfig& config);

std::string_view pooling_name(backend::Pooling mode) noexcept;

// The pipeline a bi-encoder runs after the transformer.
struct SentencePipeline {
  std::optional<std::string> pooling_path;  // folder of the Pooling module; none: mean pooling
  bool normalize = false;
};

// Checks the module list: a Transformer at the root first, then Pooling and an optional
// Normalize. Throws Error (unsupported) naming `source`, the module types found and those
// understood.
SentencePipeline plan_sentence_pipeline(const std::vector<ModuleEntry>& modules,
                                        const std::string& source);

}  // namespace rank_rerank::model
