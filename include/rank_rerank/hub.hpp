// Locating model files: a local directory, or a Hugging Face Hub repository resolved in the local
// Hugging Face cache and downloaded into it when missing.
//
// The cache is the one huggingface_hub uses, laid out the same way so each library finds the
// other's downloads:
//   <cache>/models--<org>--<name>/refs/<revision>            the commit a branch or tag points to
//   <cache>/models--<org>--<name>/blobs/<etag>               file contents (sha256 for LFS files)
//   <cache>/models--<org>--<name>/snapshots/<commit>/<file>  relative symlink to ../../blobs/<etag>
//   <cache>/models--<org>--<name>/.no_exist/<commit>/<file>  the file does not exist at <commit>
// Downloads go to blobs/<etag>.incomplete (resumed with a Range request when a previous attempt
// left one) under an flock on <cache>/.locks/models--<org>--<name>/<etag>.lock, the same lock
// huggingface_hub takes, and are renamed into place once complete.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "rank_rerank/weights.hpp"

namespace rank_rerank {

// Empty or unset fields are taken from the environment when a function is called.
struct HubOptions {
  std::string revision = "main";  // branch, tag or 40-hex commit
  std::string cache_dir;          // HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub
  std::string endpoint;           // HF_ENDPOINT, else https://huggingface.co
  std::string token;              // HF_TOKEN, else the token file huggingface-cli login writes
  std::optional<bool> offline;    // HF_HUB_OFFLINE (1/true/yes/on)
};

// The hub cache directory the environment selects (HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE,
// $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub).
std::filesystem::path hf_cache_dir();

// The local path of `filename` in `repo_or_path`:
//   - an existing directory: <dir>/<filename>, which must exist;
//   - otherwise a repository id ("org/name" or "name"): the cached snapshot file for the revision,
//     downloaded first when online and the cache lacks it (for a branch or tag the Hub is asked
//     which commit it points to, as huggingface_hub does; a cached file is used when the Hub
//     cannot be reached).
// Throws Error naming the repository, revision and file: not found (404), unauthorised (401/403,
// with a hint about HF_TOKEN), offline without a cached copy, network failures.
std::filesystem::path hf_resolve(std::string_view repo_or_path, std::string_view filename,
                                 const HubOptions& options = {});

// Like hf_resolve, but empty when the file does not exist in the repository or directory (a
// 404, or recorded as missing in the cache when offline). Other failures still throw.
std::optional<std::filesystem::path> hf_resolve_optional(std::string_view repo_or_path,
                                                         std::string_view filename,
                                                         const HubOptions& options = {});

// The checkpoint of a model directory or repository: model.safetensors, else the sharded
// model.safetensors.index.json (every shard resolved the same way), else pytorch_model.bin, else
// pytorch_model.bin.index.json.
Weights hf_load_weights(std::string_view repo_or_path, const HubOptions& options = {});

}  // namespace rank_rerank
