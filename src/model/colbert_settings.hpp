// ColBERT settings as PyLate reads them: config_sentence_transformers.json for PyLate /
// sentence-transformers checkpoints, artifact.metadata for Stanford ones.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "model/sentence_modules.hpp"
#include "rank_rerank/json_config.hpp"

namespace rank_rerank::model {

struct ColbertSettings {
  std::string query_prefix;     // a token of the vocabulary; "" for none
  std::string document_prefix;  // likewise
  std::size_t query_length = 32;
  std::size_t document_length = 180;
  bool do_query_expansion = true;
  bool attend_to_expansion_tokens = false;
  std::vector<std::string> skiplist_words;  // Python's string.punctuation, one per character
};

// PyLate defaults ("[Q] ", "[D] ", 32, 180, expansion on, not attended, punctuation skiplist)
// overridden by the keys present in config_sentence_transformers.json.
ColbertSettings pylate_settings(const std::optional<JsonConfig>& config);

// Stanford defaults ("[unused0]", "[unused1]", 32, 180) overridden by artifact.metadata's
// query_token_id, doc_token_id, query_maxlen, doc_maxlen, attend_to_mask_tokens, read from the
// top level or from a nested "config" object.
ColbertSettings stanford_settings(const std::optional<JsonConfig>& metadata);

// The Dense module folders of a PyLate module list: a Transformer at the root, then Dense
// modules only. Throws Error (unsupported) naming `source` and the module types found.
std::vector<std::string> colbert_dense_folders(const std::vector<ModuleEntry>& modules,
                                               const std::string& source);

}  // namespace rank_rerank::model
