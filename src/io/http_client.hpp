// The two HTTP exchanges a Hub download needs, over libcurl: a metadata HEAD on the resolve URL
// and a resumable GET of the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace rank_rerank::io {

struct HttpRequest {
  std::string url;
  std::string token;  // sent as "Authorization: Bearer <token>" to the URL's own host only
};

// What HEAD <endpoint>/<repo>/resolve/<revision>/<file> says about the file, following only
// relative redirects (a renamed repository) as huggingface_hub does: an absolute redirect is a CDN
// location and its response already carries the metadata.
struct FileMetadata {
  enum class Outcome { found, missing_file, http_error, unreachable };
  Outcome outcome = Outcome::unreachable;
  long status = 0;         // HTTP status of the last response
  std::string error_code;  // X-Error-Code (EntryNotFound, RevisionNotFound, RepoNotFound, ...)
  std::string message;     // X-Error-Message, or the transport error
  std::string commit;      // X-Repo-Commit
  std::string etag;        // X-Linked-Etag or ETag, without quotes and W/
  std::uint64_t size = 0;  // X-Linked-Size, or Content-Length when not redirected
  bool has_size = false;
  std::string download_url;  // Location of an absolute redirect, else the final resolve URL
};

FileMetadata head_file_metadata(const HttpRequest& request);

// GETs `request.url` into `partial`, appending to what a previous attempt left there with a Range
// request, retrying interrupted transfers a few times, until `partial` holds `expected_size`
// bytes. Throws Error naming the URL on HTTP errors, transport failures, or a size mismatch.
void download_resumable(const HttpRequest& request, const std::filesystem::path& partial,
                        std::uint64_t expected_size);

}  // namespace rank_rerank::io
