// Which model a checkpoint is, and a fingerprint of its files so precomputed vectors can refuse
// to be scored by another model.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "rank_rerank/hub.hpp"

namespace rank_rerank::pipeline {

// The directory holding config.json (a local directory, or the Hub cache snapshot).
std::filesystem::path model_directory(std::string_view path_or_id, const HubOptions& hub);

// 16 hex digits: FNV-1a 64 over the files that define the model's outputs (docs/formats.md,
// "Model fingerprint").
std::string model_fingerprint(const std::filesystem::path& directory);

}  // namespace rank_rerank::pipeline
