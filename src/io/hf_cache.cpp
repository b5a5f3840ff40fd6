#include "io/hf_cache.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "rank_rerank/error.hpp"

namespace rank_rerank {
namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// huggingface_hub's ENV_VARS_TRUE_VALUES.
bool env_true(const std::string& v) {
  std::string upper = v;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper == "1" || upper == "ON" || upper == "YES" || upper == "TRUE";
}

fs::path expand_home(const std::string& path) {
  if (path.empty() || path[0] != '~') return path;
  return fs::path(env("HOME")) / path.substr(path.size() > 1 && path[1] == '/' ? 2 : 1);
}

fs::path hf_home() {
  if (const std::string home = env("HF_HOME"); !home.empty()) return expand_home(home);
  if (const std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty())
    return expand_home(xdg) / "huggingface";
  return fs::path(env("HOME")) / ".cache" / "huggingface";
}

// The token huggingface-cli login stores, used when HF_TOKEN is unset.
std::string stored_token() {
  const std::string configured = env("HF_TOKEN_PATH");
  const fs::path path = configured.empty() ? hf_home() / "token" : expand_home(configured);
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

// A relative path of ordinary components: nothing absolute, empty, "." or "..".
bool safe_relative(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos)
      return false;
    start = end + 1;
  }
  return true;
}

void write_file_atomically(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  const fs::path temporary = path.string() + "." + std::to_string(::getpid()) + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw Error(ErrorKind::runtime, "cannot write '" + temporary.string() + "'");
  }
  fs::rename(temporary, path);
}

}  // namespace

fs::path hf_cache_dir() {
  if (const std::string dir = env("HF_HUB_CACHE"); !dir.empty()) return expand_home(dir);
  if (const std::string dir = env("HUGGINGFACE_HUB_CACHE"); !dir.empty()) return expand_home(dir);
  return hf_home() / "hub";
}

namespace io {

HubSettings hub_settings(const HubOptions& options) {
  HubSettings s;
  s.revision = options.revision.empty() ? "main" : options.revision;
  s.cache_dir = options.cache_dir.empty() ? hf_cache_dir() : expand_home(options.cache_dir);
  s.endpoint = options.endpoint.empty() ? env("HF_ENDPOINT") : options.endpoint;
  if (s.endpoint.empty()) s.endpoint = "https://huggingface.co";
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  s.token = options.token.empty() ? env("HF_TOKEN") : options.token;
  if (s.token.empty()) s.token = stored_token();
  if (options.offline) {
    s.offline = *options.offline;
  } else {
    const std::string offline = env("HF_HUB_OFFLINE");
    s.offline = env_true(offline.empty() ? env("TRANSFORMERS_OFFLINE") : offline);
  }
  return s;
}

bool is_commit_hash(std::string_view revision) noexcept {
  return revision.size() == 40 && std::all_of(revision.begin(), revision.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void check_repo_id(std::string_view repo_id) {
  const std::size_t slash = repo_id.find('/');
  const auto part_ok = [](std::string_view part) {
    return !part.empty() && part.size() <= 96 && std::all_of(part.begin(), part.end(), name_char) &&
           part.front() != '-' && part.front() != '.' && part.back() != '-' && part.back() != '.';
  };
  const bool ok = slash == std::string_view::npos
                      ? part_ok(repo_id)
                      : part_ok(repo_id.substr(0, slash)) && part_ok(repo_id.substr(slash + 1));
  if (!ok || repo_id.find("--") != std::string_view::npos ||
      repo_id.find("..") != std::string_view::npos)
    throw_invalid(std::string("'").append(repo_id) +
                  "' is neither an existing directory nor a Hugging Face repo id ('org/name' or "
                  "'name' of letters, digits, '-', '_', '.')");
}

void check_revision(std::string_view revision) {
  if (!safe_relative(revision))
    throw_invalid("revision '" + std::string(revision) + "' is not a branch, tag or commit name");
}

void check_filename(std::string_view filename) {
  if (!safe_relative(filename))
    throw_invalid("file name '" + std::string(filename) +
                  "' must be a relative path inside the repository (no '..', '.', or leading '/')");
}

void check_server_token(std::string_view value, std::string_view what) {
  if (value.empty() || value == "." || value == ".." ||
      !std::all_of(value.begin(), value.end(), name_char))
    throw Error(ErrorKind::runtime,
                "the Hub sent an unusable " + std::string(what) + " '" + std::string(value) + "'");
}

RepoCache::RepoCache(const fs::path& cache_dir, std::string_view repo_id) : cache_dir_(cache_dir) {
  // huggingface_hub's repo_folder_name: "models" and the id's parts joined by "--".
  const std::size_t slash = repo_id.find('/');
  folder_name_ = slash == std::string_view::npos
                     ? "models--" + std::string(repo_id)
                     : "models--" + std::string(repo_id.substr(0, slash)) + "--" +
                           std::string(repo_id.substr(slash + 1));
  folder_ = cache_dir / folder_name_;
}

std::optional<std::string> RepoCache::commit_for(std::string_view revision) const {
  if (is_commit_hash(revision)) return std::string(revision);
  std::ifstream in(folder_ / "refs" / revision);
  std::string commit;
  if (!std::getline(in, commit)) return std::nullopt;
  if (!is_commit_hash(commit)) return std::nullopt;
  return commit;
}

fs::path RepoCache::pointer(std::string_view commit, std::string_view filename) const {
  return folder_ / "snapshots" / commit / filename;
}

fs::path RepoCache::blob(std::string_view etag) const { return folder_ / "blobs" / etag; }

fs::path RepoCache::lock(std::string_view etag) const {
  return cache_dir_ / ".locks" / folder_name_ / (std::string(etag) + ".lock");
}

bool RepoCache::recorded_missing(std::string_view commit, std::string_view filename) const {
  std::error_code error;
  return fs::is_regular_file(folder_ / ".no_exist" / commit / filename, error);
}

void RepoCache::record_missing(std::string_view commit, std::string_view filename) const {
  const fs::path marker = folder_ / ".no_exist" / commit / filename;
  std::error_code error;
  fs::create_directories(marker.parent_path(), error);
  std::ofstream touch(marker, std::ios::app);
}

void RepoCache::write_ref(std::string_view revision, std::string_view commit) const {
  if (revision == commit) return;
  if (commit_for(revision) == std::string(commit)) return;
  write_file_atomically(folder_ / "refs" / revision, commit);
}

void RepoCache::link(std::string_view commit, std::string_view filename,
                     std::string_view etag) const {
  const fs::path target = blob(etag);
  const fs::path link_path = pointer(commit, filename);
  fs::create_directories(link_path.parent_path());
  std::error_code error;
  fs::remove(link_path, error);
  fs::create_symlink(target.lexically_relative(link_path.parent_path()), link_path, error);
  if (error) fs::copy_file(target, link_path, fs::copy_options::overwrite_existing);
}

}  // namespace io
}  // namespace rank_rerank
