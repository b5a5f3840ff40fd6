// The Hugging Face hub cache on disk (see rank_rerank/hub.hpp for the layout) and the settings
// that locate it, merged from HubOptions and the environment.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "rank_rerank/hub.hpp"

namespace rank_rerank::io {

struct HubSettings {
  std::string revision;
  std::filesystem::path cache_dir;
  std::string endpoint;  // without a trailing slash
  std::string token;     // empty: anonymous
  bool offline = false;
};

HubSettings hub_settings(const HubOptions& options);

// 40 lower-case hex digits: a full commit id, used as is without asking the Hub.
bool is_commit_hash(std::string_view revision) noexcept;

// Throw Error (invalid_argument) for names that are not what the Hub accepts or could escape the
// cache directory: repo ids ("org/name" or "name" of [A-Za-z0-9._-], no "--" or ".."), revisions
// and file names (relative, no "." or ".." components), and server-sent etags and commits.
void check_repo_id(std::string_view repo_id);
void check_revision(std::string_view revision);
void check_filename(std::string_view filename);
void check_server_token(std::string_view value, std::string_view what);

// One repository's folder in the cache.
class RepoCache {
 public:
  RepoCache(const std::filesystem::path& cache_dir, std::string_view repo_id);

  const std::filesystem::path& folder() const noexcept { return folder_; }
  // The commit for `revision`: itself when it is a commit hash, else what refs/<revision> holds.
  std::optional<std::string> commit_for(std::string_view revision) const;
  std::filesystem::path pointer(std::string_view commit, std::string_view filename) const;
  std::filesystem::path blob(std::string_view etag) const;
  std::filesystem::path lock(std::string_view etag) const;
  bool recorded_missing(std::string_view commit, std::string_view filename) const;

  // Writers; each creates the directories it needs.
  void record_missing(std::string_view commit, std::string_view filename) const;
  // Writes refs/<revision> (atomically, by renaming a temporary file) unless the revision is the
  // commit itself or the ref already says so.
  void write_ref(std::string_view revision, std::string_view commit) const;
  // snapshots/<commit>/<filename> -> relative symlink to blobs/<etag>, or a copy of the blob
  // where the file system has no symlinks.
  void link(std::string_view commit, std::string_view filename, std::string_view etag) const;

 private:
  std::filesystem::path cache_dir_;
  std::filesystem::path folder_;
  std::string folder_name_;
};

}  // namespace rank_rerank::io
