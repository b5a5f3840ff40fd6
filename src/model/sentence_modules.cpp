// modules.json and Pooling configuration as sentence-transformers writes them.
#include "model/sentence_modules.hpp"

#include <array>
#include <utility>

#include "io/strict_json.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::model {
namespace {

constexpr std::string_view kTransformer = "sentence_transformers.models.Transformer";
constexpr std::string_view kPooling = "sentence_transformers.models.Pooling";
constexpr std::string_view kNormalize = "sentence_transformers.models.Normalize";

// The order in which sentence-transformers concatenates enabled pooling modes.
constexpr std::array<std::pair<std::string_view, backend::Pooling>, 5> kPoolingKeys{{
    {"pooling_mode_cls_token", backend::Pooling::cls},
    {"pooling_mode_mean_tokens", backend::Pooling::mean},
    {"pooling_mode_max_tokens", backend::Pooling::max},
    {"pooling_mode_mean_sqrt_len_tokens", backend::Pooling::mean_sqrt_len},
    {"pooling_mode_lasttoken", backend::Pooling::last_token},
}};

std::string module_types(const std::vector<ModuleEntry>& modules) {
  std::string out;
  for (const ModuleEntry& m : modules) out += (out.empty() ? "" : ", ") + m.type;
  return "[" + out + "]";
}

}  // namespace

std::vector<ModuleEntry> parse_modules_json(std::string_view text, const std::string& source) {
  const nlohmann::json json = io::parse_json(text, source);
  if (!json.is_array())
    throw_invalid(source + ": expected a list of modules, found " +
                  std::string(io::json_type_name(json)));
  std::vector<ModuleEntry> modules;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const nlohmann::json& entry = json[i];
    const auto field = [&](const char* key) {
      if (!entry.is_object() || !entry.contains(key) || !entry[key].is_string())
        throw_invalid(source + ": module " + std::to_string(i) + " needs a string \"" + key + "\"");
      return entry[key].get<std::string>();
    };
    modules.push_back({field("type"), field("path")});
  }
  return modules;
}

PoolingConfig parse_pooling_config(const JsonConfig& config) {
  PoolingConfig c;
  const std::int64_t dim = config.get<std::int64_t>("word_embedding_dimension");
  if (dim <= 0)
    throw_invalid(config.where() + ": word_embedding_dimension must be positive, found " +
                  std::to_string(dim));
  c.word_embedding_dimension = static_cast<std::size_t>(dim);
  if (config.get_or<bool>("pooling_mode_weightedmean_tokens", false))
    throw_unsupported(config.where() +
                      ": pooling_mode_weightedmean_tokens is not supported (supported: cls, "
                      "mean, max, mean_sqrt_len, lasttoken)");
  for (const auto& [key, mode] : kPoolingKeys)
    if (config.get_or<bool>(key, false)) c.modes.push_back(mode);
  if (c.modes.empty())
    throw_invalid(config.where() + ": no pooling mode is enabled (expected one of " +
                  "pooling_mode_cls_token, pooling_mode_mean_tokens, pooling_mode_max_tokens, "
                  "pooling_mode_mean_sqrt_len_tokens, pooling_mode_lasttoken set to true)");
  return c;
}

std::string_view pooling_name(backend::Pooling mode) noexcept {
  switch (mode) {
    case backend::Pooling::cls:
      return "cls";
    case backend::Pooling::mean:
      return "mean";
    case backend::Pooling::max:
      return "max";
    case backend::Pooling::mean_sqrt_len:
      return "mean_sqrt_len_tokens";
    case backend::Pooling::last_token:
      return "lasttoken";
  }
  return "unknown";
}

SentencePipeline plan_sentence_pipeline(const std::vector<ModuleEntry>& modules,
                                        const std::string& source) {
  const std::string expected = " (supported: " + std::string(kTransformer) +
                               " at path \"\", then " + std::string(kPooling) +
                               ", then optionally " + std::string(kNormalize) + ")";
  if (modules.empty() || modules[0].type != kTransformer || !modules[0].path.empty())
    throw_unsupported(source + ": module list " + module_types(modules) + " is not supported" +
                      expected);
  SentencePipeline plan;
  for (std::size_t i = 1; i < modules.size(); ++i) {
    const ModuleEntry& m = modules[i];
    if (m.type == kPooling && !plan.pooling_path && !plan.normalize) {
      plan.pooling_path = m.path;
    } else if (m.type == kNormalize && !plan.normalize) {
      plan.normalize = true;
    } else {
      throw_unsupported(source + ": module '" + m.type + "' at position " + std::to_string(i) +
                        " of " + module_types(modules) + " is not supported" + expected);
    }
  }
  if (!plan.pooling_path)
    throw_unsupported(source + ": module list " + module_types(modules) + " has no Pooling module" +
                      expected);
  return plan;
}

}  // namespace rank_rerank::model
