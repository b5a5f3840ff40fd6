#include "model/colbert_settings.hpp"

#include "rank_rerank/error.hpp"

namespace rank_rerank::model {
namespace {

std::vector<std::string> punctuation_words() {
  std::vector<std::string> words;
  for (char c : std::string_view("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")) words.emplace_back(1, c);
  return words;
}

std::size_t positive_length(const JsonConfig& config, std::string_view key, std::size_t fallback) {
  const auto value = config.find<std::int64_t>(key);
  if (!value) return fallback;
  if (*value < 2)
    throw_invalid(config.where() + ": " + std::string(key) + " must be at least 2, found " +
                  std::to_string(*value));
  return static_cast<std::size_t>(*value);
}

}  // namespace

ColbertSettings pylate_settings(const std::optional<JsonConfig>& config) {
  ColbertSettings s{"[Q] ", "[D] ", 32, 180, true, false, punctuation_words()};
  if (!config) return s;
  s.query_prefix = config->get_or<std::string>("query_prefix", s.query_prefix);
  s.document_prefix = config->get_or<std::string>("document_prefix", s.document_prefix);
  s.query_length = positive_length(*config, "query_length", s.query_length);
  s.document_length = positive_length(*config, "document_length", s.document_length);
  s.do_query_expansion = config->get_or<bool>("do_query_expansion", true);
  s.attend_to_expansion_tokens = config->get_or<bool>("attend_to_expansion_tokens", false);
  s.skiplist_words = config->get_or<std::vector<std::string>>("skiplist_words", s.skiplist_words);
  return s;
}

ColbertSettings stanford_settings(const std::optional<JsonConfig>& metadata) {
  ColbertSettings s{"[unused0]", "[unused1]", 32, 180, true, false, punctuation_words()};
  if (!metadata) return s;
  const JsonConfig m = metadata->contains("config") ? metadata->object("config") : *metadata;
  s.query_prefix = m.get_or<std::string>("query_token_id", s.query_prefix);
  s.document_prefix = m.get_or<std::string>("doc_token_id", s.document_prefix);
  s.query_length = positive_length(m, "query_maxlen", s.query_length);
  s.document_length = positive_length(m, "doc_maxlen", s.document_length);
  s.attend_to_expansion_tokens = m.get_or<bool>("attend_to_mask_tokens", false);
  return s;
}

std::vector<std::string> colbert_dense_folders(const std::vector<ModuleEntry>& modules,
                                               const std::string& source) {
  std::string found;
  for (const ModuleEntry& m : modules) found += (found.empty() ? "" : ", ") + m.type;
  const std::string expected =
      " (expected sentence_transformers.models.Transformer at path \"\" followed by Dense "
      "modules: pylate.models.Dense.Dense or sentence_transformers.models.Dense)";
  if (modules.empty() || modules[0].type != "sentence_transformers.models.Transformer" ||
      !modules[0].path.empty())
    throw_unsupported(source + ": module list [" + found + "] is not a ColBERT model" + expected);
  std::vector<std::string> folders;
  for (std::size_t i = 1; i < modules.size(); ++i) {
    const std::string& type = modules[i].type;
    if (type != "pylate.models.Dense.Dense" && type != "sentence_transformers.models.Dense" &&
        type != "sentence_transformers.models.Dense.Dense")
      throw_unsupported(source + ": module '" + type + "' of [" + found + "] is not supported" +
                        expected);
    folders.push_back(modules[i].path);
  }
  if (folders.empty())
    throw_unsupported(source + ": module list [" + found + "] has no Dense projection" + expected);
  return folders;
}

}  // namespace rank_rerank::model
