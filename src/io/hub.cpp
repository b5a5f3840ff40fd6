// hf_resolve and friends: local directories, the hub cache, and downloads into it.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/hf_cache.hpp"
#include "io/http_client.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/hub.hpp"

namespace rank_rerank {
namespace fs = std::filesystem;

namespace {

// Holds an exclusive flock for the lifetime of the object (blocking until it is free).
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fs::create_directories(path.parent_path());
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw Error(ErrorKind::runtime,
                  "cannot open lock '" + path.string() + "': " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd_);
      throw Error(ErrorKind::runtime,
                  "cannot lock '" + path.string() + "': " + std::strerror(error));
    }
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock() { ::close(fd_); }  // closing releases the lock

 private:
  int fd_ = -1;
};

// Percent-encoding for URL path parts; '/' is kept where it separates path components.
std::string url_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

struct Target {
  std::string repo;
  std::string filename;
  io::HubSettings settings;
  io::RepoCache cache;

  std::string describe() const {
    return "'" + filename + "' of " + repo + " at revision " + settings.revision;
  }
};

// What the cache alone knows: the file, "recorded as missing", or nothing.
struct CacheAnswer {
  std::optional<fs::path> path;
  bool missing = false;
};

CacheAnswer look_in_cache(const Target& t) {
  CacheAnswer answer;
  const std::optional<std::string> commit = t.cache.commit_for(t.settings.revision);
  if (!commit) return answer;
  const fs::path pointer = t.cache.pointer(*commit, t.filename);
  std::error_code error;
  if (fs::exists(pointer, error))
    answer.path = pointer;
  else
    answer.missing = t.cache.recorded_missing(*commit, t.filename);
  return answer;
}

std::string token_hint(long status) {
  if (status != 401 && status != 403) return "";
  return " (private or gated repository? set HF_TOKEN to a token with access)";
}

fs::path download(const Target& t, const io::FileMetadata& meta) {
  io::check_server_token(meta.commit, "commit");
  io::check_server_token(meta.etag, "etag");
  if (!meta.has_size) throw Error(ErrorKind::runtime, "the Hub sent no size for " + t.describe());
  const fs::path pointer = t.cache.pointer(meta.commit, t.filename);
  std::error_code error;
  if (fs::exists(pointer, error)) {
    try {
      t.cache.write_ref(t.settings.revision, meta.commit);
    } catch (const std::exception&) {
      // A read-only cache still serves files it has; the ref is only a shortcut.
    }
    return pointer;
  }
  t.cache.write_ref(t.settings.revision, meta.commit);
  const fs::path blob = t.cache.blob(meta.etag);
  {
    const FileLock lock(t.cache.lock(meta.etag));
    if (!fs::exists(blob, error)) {
      fs::create_directories(blob.parent_path());
      const fs::path partial = blob.string() + ".incomplete";
      // A CDN location is pre-signed: the token stays with the Hub.
      const bool same_host = meta.download_url.starts_with(t.settings.endpoint + "/");
      io::download_resumable({meta.download_url, same_host ? t.settings.token : std::string()},
                             partial, meta.size);
      fs::rename(partial, blob);
    }
  }
  t.cache.link(meta.commit, t.filename, meta.etag);
  return pointer;
}

// Empty: the file does not exist in the repository.
std::optional<fs::path> resolve_in_hub(const Target& t) {
  if (io::is_commit_hash(t.settings.revision)) {
    std::error_code error;
    const fs::path pointer = t.cache.pointer(t.settings.revision, t.filename);
    if (fs::exists(pointer, error)) return pointer;
  }
  if (t.settings.offline) {
    const CacheAnswer cached = look_in_cache(t);
    if (cached.path) return cached.path;
    if (cached.missing) return std::nullopt;
    throw Error(ErrorKind::runtime, "HF_HUB_OFFLINE is set and " + t.describe() +
                                        " is not in the cache " + t.settings.cache_dir.string());
  }

  const std::string url = t.settings.endpoint + "/" + t.repo + "/resolve/" +
                          url_encode(t.settings.revision, false) + "/" +
                          url_encode(t.filename, true);
  const io::FileMetadata meta = io::head_file_metadata({url, t.settings.token});
  using Outcome = io::FileMetadata::Outcome;
  if (meta.outcome == Outcome::found) {
    if (meta.commit.empty() || meta.etag.empty())
      throw Error(ErrorKind::runtime,
                  url +
                      " answered without X-Repo-Commit or ETag: not a Hugging Face Hub "
                      "(check HF_ENDPOINT, proxies and certificates)");
    return download(t, meta);
  }
  if (meta.outcome == Outcome::missing_file) {
    if (io::is_commit_hash(meta.commit)) {
      t.cache.record_missing(meta.commit, t.filename);
      t.cache.write_ref(t.settings.revision, meta.commit);
    }
    return std::nullopt;
  }
  if (meta.outcome == Outcome::http_error && meta.status == 404)  // RevisionNotFound / RepoNotFound
    throw_invalid(t.describe() + ": HTTP 404 " + meta.error_code +
                  (meta.message.empty() ? "" : ": " + meta.message));

  // The Hub could not be asked (network, server error, no access): use the cache if it can answer.
  const CacheAnswer cached = look_in_cache(t);
  if (cached.path) return cached.path;
  if (cached.missing) return std::nullopt;
  if (meta.outcome == Outcome::unreachable)
    throw Error(ErrorKind::runtime, "cannot reach " + t.settings.endpoint + " (" + meta.message +
                                        ") and " + t.describe() + " is not in the cache " +
                                        t.settings.cache_dir.string());
  throw Error(ErrorKind::runtime,
              "HEAD " + url + " failed with HTTP " + std::to_string(meta.status) +
                  (meta.message.empty() ? "" : ": " + meta.message) + token_hint(meta.status) +
                  ", and the file is not in the cache " + t.settings.cache_dir.string());
}

bool looks_like_path(std::string_view s) {
  return s.starts_with("/") || s.starts_with("./") || s.starts_with("../") || s.starts_with("~") ||
         s == "." || s == "..";
}

}  // namespace

std::optional<fs::path> hf_resolve_optional(std::string_view repo_or_path,
                                            std::string_view filename, const HubOptions& options) {
  io::check_filename(filename);
  std::error_code error;
  const fs::path local(repo_or_path);
  if (fs::is_directory(local, error)) {
    const fs::path file = local / filename;
    if (fs::exists(file, error)) return file;
    return std::nullopt;
  }
  if (looks_like_path(repo_or_path))
    throw_invalid("model directory '" + std::string(repo_or_path) + "' does not exist");
  io::check_repo_id(repo_or_path);
  const io::HubSettings settings = io::hub_settings(options);
  io::check_revision(settings.revision);
  const Target target{std::string(repo_or_path), std::string(filename), settings,
                      io::RepoCache(settings.cache_dir, repo_or_path)};
  return resolve_in_hub(target);
}

fs::path hf_resolve(std::string_view repo_or_path, std::string_view filename,
                    const HubOptions& options) {
  std::optional<fs::path> path = hf_resolve_optional(repo_or_path, filename, options);
  if (!path) {
    const std::string revision = options.revision.empty() ? "main" : options.revision;
    std::error_code error;
    if (fs::is_directory(fs::path(repo_or_path), error))
      throw_invalid(std::string("'").append(filename) + "' not found in directory '" +
                    std::string(repo_or_path) + "'");
    throw_invalid(std::string("'").append(filename) + "' does not exist in " +
                  std::string(repo_or_path) + " at revision " + revision);
  }
  return *path;
}

Weights hf_load_weights(std::string_view repo_or_path, const HubOptions& options) {
  const auto resolve_shard = [&](const std::string& shard) {
    return hf_resolve(repo_or_path, shard, options);
  };
  if (auto path = hf_resolve_optional(repo_or_path, "model.safetensors", options))
    return Weights::open(*path);
  if (auto path = hf_resolve_optional(repo_or_path, "model.safetensors.index.json", options))
    return Weights::open_sharded(*path, resolve_shard);
  if (auto path = hf_resolve_optional(repo_or_path, "pytorch_model.bin", options))
    return Weights::open(*path);
  if (auto path = hf_resolve_optional(repo_or_path, "pytorch_model.bin.index.json", options))
    return Weights::open_sharded(*path, resolve_shard);
  throw_invalid("no checkpoint in " + std::string(repo_or_path) +
                " (looked for model.safetensors, model.safetensors.index.json, pytorch_model.bin, "
                "pytorch_model.bin.index.json)");
}

}  // namespace rank_rerank
