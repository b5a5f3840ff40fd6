#include "io/http_client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "rank_rerank/error.hpp"

namespace rank_rerank::io {
namespace {

constexpr int kMaxRelativeRedirects = 10;
constexpr int kDownloadAttempts = 5;
constexpr long kConnectTimeoutSeconds = 10;
constexpr long kMetadataTimeoutSeconds = 10;  // huggingface_hub's HF_HUB_ETAG_TIMEOUT
constexpr long kStallSeconds = 60;            // abort a transfer idle this long, then resume

[[noreturn]] void fail(const std::string& message) { throw Error(ErrorKind::runtime, message); }

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

class Easy {
 public:
  Easy() {
    global_init();
    handle_ = curl_easy_init();
    if (handle_ == nullptr) fail("libcurl could not create a transfer handle");
    error_[0] = '\0';
    set(CURLOPT_ERRORBUFFER, error_);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_USERAGENT, "rank-rerank/0.1");
    set(CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set(CURLOPT_HEADERFUNCTION, &Easy::on_header);
    set(CURLOPT_HEADERDATA, this);
  }
  Easy(const Easy&) = delete;
  Easy& operator=(const Easy&) = delete;
  ~Easy() {
    curl_slist_free_all(request_headers_);
    curl_easy_cleanup(handle_);
  }

  template <class T>
  void set(CURLoption option, T value) {
    curl_easy_setopt(handle_, option, value);
  }
  void add_header(const std::string& line) {
    request_headers_ = curl_slist_append(request_headers_, line.c_str());
    set(CURLOPT_HTTPHEADER, request_headers_);
  }
  CURLcode perform() { return curl_easy_perform(handle_); }
  long status() const {
    long code = 0;
    curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &code);
    return code;
  }
  std::string error_text(CURLcode code) const {
    return error_[0] != '\0' ? std::string(error_) : std::string(curl_easy_strerror(code));
  }
  // Response headers of the last response, names lower-cased.
  std::string header(const std::string& name) const {
    const auto it = headers_.find(name);
    return it == headers_.end() ? std::string() : it->second;
  }

 private:
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self) {
    auto& easy = *static_cast<Easy*>(self);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) easy.headers_.clear();  // a new response (after a redirect)
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
        value.remove_prefix(1);
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
        value.remove_suffix(1);
      easy.headers_[name] = std::string(value);
    }
    return size * count;
  }

  CURL* handle_ = nullptr;
  curl_slist* request_headers_ = nullptr;
  char error_[CURL_ERROR_SIZE];
  std::map<std::string, std::string> headers_;
};

// Parsed URLs through libcurl's own parser, so relative redirects resolve exactly as curl would.
class Url {
 public:
  explicit Url(const std::string& url) : handle_(curl_url()) {
    if (handle_ == nullptr || curl_url_set(handle_, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
      fail("'" + url + "' is not a valid URL");
  }
  Url(const Url&) = delete;
  Url& operator=(const Url&) = delete;
  ~Url() { curl_url_cleanup(handle_); }

  std::string part(CURLUPart which) const {
    char* text = nullptr;
    if (curl_url_get(handle_, which, &text, 0) != CURLUE_OK) return {};
    std::string out(text);
    curl_free(text);
    return out;
  }
  // Resolves `location` (absolute or relative) against this URL.
  std::string resolve(const std::string& location) {
    if (curl_url_set(handle_, CURLUPART_URL, location.c_str(), 0) != CURLUE_OK)
      fail("redirect to an invalid location '" + location + "'");
    return part(CURLUPART_URL);
  }

 private:
  CURLU* handle_;
};

bool is_absolute_url(const std::string& location) {
  return location.starts_with("http://") || location.starts_with("https://");
}

std::string normalized_etag(std::string etag) {
  if (etag.starts_with("W/")) etag.erase(0, 2);
  etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
  return etag;
}

void authorize(Easy& easy, const HttpRequest& request) {
  if (!request.token.empty()) easy.add_header("Authorization: Bearer " + request.token);
}

// Transfer errors after which resuming from what arrived is worth a try.
bool transient(CURLcode code) {
  return code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR ||
         code == CURLE_OPERATION_TIMEDOUT || code == CURLE_GOT_NOTHING ||
         code == CURLE_SEND_ERROR || code == CURLE_COULDNT_CONNECT;
}

// Appends the body of a successful response to the file; keeps error bodies for the message.
struct Sink {
  int fd = -1;
  bool resuming = false;
  bool checked_status = false;
  long status = 0;
  std::string error_body;
  int write_errno = 0;
  Easy* easy = nullptr;

  static std::size_t on_data(char* data, std::size_t size, std::size_t count, void* self) {
    auto& sink = *static_cast<Sink*>(self);
    const std::size_t n = size * count;
    if (!sink.checked_status) {
      sink.checked_status = true;
      sink.status = sink.easy->status();
      // A server that ignores Range answers 200 with the whole file: start over.
      if (sink.status == 200 && sink.resuming && ::ftruncate(sink.fd, 0) != 0) {
        sink.write_errno = errno;
        return 0;
      }
    }
    if (sink.status >= 300) {
      sink.error_body.append(
          data, std::min<std::size_t>(n, 512 - std::min<std::size_t>(512, sink.error_body.size())));
      return n;
    }
    for (std::size_t done = 0; done < n;) {
      const ssize_t wrote = ::write(sink.fd, data + done, n - done);
      if (wrote < 0) {
        if (errno == EINTR) continue;
        sink.write_errno = errno;
        return 0;
      }
      done += static_cast<std::size_t>(wrote);
    }
    return n;
  }
};

std::uint64_t size_on_disk(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<std::uint64_t>(size);
}

}  // namespace

FileMetadata head_file_metadata(const HttpRequest& request) {
  FileMetadata meta;
  std::string url = request.url;
  for (int hop = 0; hop <= kMaxRelativeRedirects; ++hop) {
    Easy easy;
    easy.set(CURLOPT_URL, url.c_str());
    easy.set(CURLOPT_NOBODY, 1L);
    easy.set(CURLOPT_FOLLOWLOCATION, 0L);
    easy.set(CURLOPT_TIMEOUT, kMetadataTimeoutSeconds);
    easy.add_header("Accept-Encoding: identity");  // the real size, not a compressed one
    authorize(easy, request);
    const CURLcode code = easy.perform();
    if (code != CURLE_OK) {
      meta.outcome = FileMetadata::Outcome::unreachable;
      meta.message = easy.error_text(code);
      return meta;
    }
    meta.status = easy.status();
    const std::string location = easy.header("location");
    if (meta.status >= 300 && meta.status < 400 && !location.empty() &&
        !is_absolute_url(location)) {
      url = Url(url).resolve(location);
      continue;
    }
    meta.error_code = easy.header("x-error-code");
    meta.message = easy.header("x-error-message");
    meta.commit = easy.header("x-repo-commit");
    const std::string linked_etag = easy.header("x-linked-etag");
    meta.etag = normalized_etag(linked_etag.empty() ? easy.header("etag") : linked_etag);
    const bool redirected = meta.status >= 300 && meta.status < 400;
    std::string size = easy.header("x-linked-size");
    if (size.empty() && !redirected) size = easy.header("content-length");
    if (!size.empty() && std::all_of(size.begin(), size.end(), ::isdigit) && size.size() < 20) {
      meta.size = std::stoull(size);
      meta.has_size = true;
    }
    meta.download_url = redirected && !location.empty() ? location : url;
    if (meta.status == 404 && meta.error_code != "RevisionNotFound" &&
        meta.error_code != "RepoNotFound")
      meta.outcome = FileMetadata::Outcome::missing_file;
    else if (meta.status >= 200 && meta.status < 400)
      meta.outcome = FileMetadata::Outcome::found;
    else
      meta.outcome = FileMetadata::Outcome::http_error;
    return meta;
  }
  meta.outcome = FileMetadata::Outcome::http_error;
  meta.message = "more than " + std::to_string(kMaxRelativeRedirects) + " redirects";
  return meta;
}

void download_resumable(const HttpRequest& request, const std::filesystem::path& partial,
                        std::uint64_t expected_size) {
  std::string last_problem;
  for (int attempt = 0; attempt < kDownloadAttempts; ++attempt) {
    std::uint64_t have = size_on_disk(partial);
    if (have == expected_size) return;
    const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) fail("cannot write '" + partial.string() + "': " + std::strerror(errno));
    if (have > expected_size) {
      // Longer than the file can be: not a prefix of it. Start over.
      if (::ftruncate(fd, 0) != 0) {
        const int error = errno;
        ::close(fd);
        fail("cannot truncate '" + partial.string() + "': " + std::strerror(error));
      }
      have = 0;
    }
    Easy easy;
    Sink sink;
    sink.fd = fd;
    sink.resuming = have > 0;
    sink.easy = &easy;
    easy.set(CURLOPT_URL, request.url.c_str());
    easy.set(CURLOPT_FOLLOWLOCATION, 1L);  // CDN redirects; curl drops Authorization on a new host
    easy.set(CURLOPT_MAXREDIRS, 10L);
    easy.set(CURLOPT_LOW_SPEED_LIMIT, 1L);
    easy.set(CURLOPT_LOW_SPEED_TIME, kStallSeconds);
    easy.set(CURLOPT_WRITEFUNCTION, &Sink::on_data);
    easy.set(CURLOPT_WRITEDATA, &sink);
    const std::string range = std::to_string(have) + "-";
    if (have > 0) easy.set(CURLOPT_RANGE, range.c_str());
    authorize(easy, request);
    const CURLcode code = easy.perform();
    ::close(fd);

    if (sink.write_errno != 0)
      fail("cannot write '" + partial.string() + "': " + std::strerror(sink.write_errno));
    const long status = easy.status();
    if (status == 416) {  // our partial file does not fit the remote one: start over
      std::filesystem::remove(partial);
      last_problem = "HTTP 416 for range " + range;
      continue;
    }
    if (status >= 400)
      fail("GET " + request.url + " failed with HTTP " + std::to_string(status) +
           (sink.error_body.empty() ? "" : ": " + sink.error_body));
    if (code != CURLE_OK) {
      if (!transient(code)) fail("GET " + request.url + " failed: " + easy.error_text(code));
      last_problem = easy.error_text(code);
      continue;
    }
    const std::uint64_t now = size_on_disk(partial);
    if (now == expected_size) return;
    if (now > expected_size)
      fail("GET " + request.url + " delivered " + std::to_string(now) + " bytes, " +
           std::to_string(expected_size) + " expected");
    last_problem = "connection closed after " + std::to_string(now) + " of " +
                   std::to_string(expected_size) + " bytes";
  }
  fail("download of " + request.url + " kept failing (" + last_problem + "); " +
       std::to_string(size_on_disk(partial)) + " bytes are kept in '" + partial.string() +
       "' and the next attempt resumes from there");
}

}  // namespace rank_rerank::io
