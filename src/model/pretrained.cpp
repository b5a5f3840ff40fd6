#include "model/pretrained.hpp"

#include <fstream>
#include <sstream>

#include "rank_rerank/error.hpp"
#include "rank_rerank/json_config.hpp"

namespace rank_rerank::model {

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_invalid("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Tokenizer load_tokenizer(std::string_view path_or_id, const HubOptions& hub) {
  // Tokenizer::from_pretrained reads a directory: resolve (from the Hub: download) the tokenizer
  // files first; they all land in the same directory or cached snapshot.
  hf_resolve_optional(path_or_id, "tokenizer_config.json", hub);
  std::optional<std::filesystem::path> file =
      hf_resolve_optional(path_or_id, "tokenizer.json", hub);
  if (!file) file = hf_resolve(path_or_id, "vocab.txt", hub);
  return Tokenizer::from_pretrained(file->parent_path().string());
}

PretrainedTransformer load_transformer(std::string_view path_or_id, const HubOptions& hub,
                                       std::shared_ptr<backend::Backend> backend) {
  JsonConfig json = JsonConfig::load(hf_resolve(path_or_id, "config.json", hub));
  TransformerConfig config = TransformerConfig::from_json(json);
  Weights weights = hf_load_weights(path_or_id, hub);
  TransformerEncoder encoder = TransformerEncoder::load(config, weights, std::move(backend));
  return {config, std::move(json), std::move(weights), std::move(encoder)};
}

Weights load_folder_weights(std::string_view path_or_id, const std::string& folder,
                            const HubOptions& hub) {
  if (auto st = hf_resolve_optional(path_or_id, folder + "/model.safetensors", hub))
    return Weights::open(*st);
  if (auto bin = hf_resolve_optional(path_or_id, folder + "/pytorch_model.bin", hub))
    return Weights::open(*bin);
  throw_invalid(std::string(path_or_id) + ": module folder '" + folder +
                "' has neither model.safetensors nor pytorch_model.bin");
}

}  // namespace rank_rerank::model
