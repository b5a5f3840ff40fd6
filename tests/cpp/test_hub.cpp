// Resolution of model files through directories and the Hugging Face cache, without a network:
// downloads themselves are tested from Python against a local HTTP server
// (tests/python/test_io_hub.py).
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "io_test_support.hpp"
#include "rank_rerank/hub.hpp"

namespace rr = rank_rerank;
namespace fs = std::filesystem;
using io_test::error_of;
using io_test::ScratchDir;

namespace {

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
// Nothing listens on port 1: connections are refused at once.
const std::string kUnreachable = "http://127.0.0.1:1";

// Sets an environment variable for one test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value->c_str(), 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A cache holding org/model at kCommit with config.json (a blob plus its snapshot symlink, as
// huggingface_hub lays it out), refs/main -> kCommit, and tokenizer.json recorded as missing.
void populate_cache(const fs::path& cache) {
  const fs::path repo = cache / "models--org--model";
  io_test::write_file(repo / "blobs" / "abc123", R"({"hidden_size": 8})");
  fs::create_directories(repo / "snapshots" / kCommit);
  fs::create_symlink("../../blobs/abc123", repo / "snapshots" / kCommit / "config.json");
  io_test::write_file(repo / "refs" / "main", kCommit);
  io_test::write_file(repo / ".no_exist" / kCommit / "tokenizer.json", "");
}

rr::HubOptions offline_in(const fs::path& cache) {
  rr::HubOptions o;
  o.cache_dir = cache.string();
  o.offline = true;
  return o;
}

}  // namespace

TEST(HubCacheDir, FollowsTheEnvironmentLikeHuggingfaceHub) {
  const ScopedEnv home("HOME", "/home/someone");
  {
    const ScopedEnv a("HF_HUB_CACHE", std::nullopt), b("HUGGINGFACE_HUB_CACHE", std::nullopt),
        c("HF_HOME", std::nullopt), d("XDG_CACHE_HOME", std::nullopt);
    EXPECT_EQ(rr::hf_cache_dir(), fs::path("/home/someone/.cache/huggingface/hub"));
    const ScopedEnv xdg("XDG_CACHE_HOME", "/xdg");
    EXPECT_EQ(rr::hf_cache_dir(), fs::path("/xdg/huggingface/hub"));
    const ScopedEnv hf_home("HF_HOME", "~/hf");
    EXPECT_EQ(rr::hf_cache_dir(), fs::path("/home/someone/hf/hub"));
    const ScopedEnv legacy("HUGGINGFACE_HUB_CACHE", "/legacy");
    EXPECT_EQ(rr::hf_cache_dir(), fs::path("/legacy"));
    const ScopedEnv hub("HF_HUB_CACHE", "/hub");
    EXPECT_EQ(rr::hf_cache_dir(), fs::path("/hub"));
  }
}

TEST(HubResolve, LocalDirectories) {
  ScratchDir dir;
  io_test::write_file(dir / "config.json", "{}");
  EXPECT_EQ(rr::hf_resolve(dir.path().string(), "config.json"), dir / "config.json");
  EXPECT_FALSE(rr::hf_resolve_optional(dir.path().string(), "vocab.txt").has_value());
  EXPECT_NE(error_of([&] {
              rr::hf_resolve(dir.path().string(), "vocab.txt");
            }).find("'vocab.txt' not found in directory"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              rr::hf_resolve("./no/such/dir", "config.json");
            }).find("model directory './no/such/dir' does not exist"),
            std::string::npos);
}

TEST(HubResolve, CachedFilesThroughRefsAndCommits) {
  ScratchDir cache;
  populate_cache(cache.path());
  const fs::path expected = cache / ("models--org--model/snapshots/" + kCommit + "/config.json");
  EXPECT_EQ(rr::hf_resolve("org/model", "config.json", offline_in(cache.path())), expected);
  rr::HubOptions by_commit = offline_in(cache.path());
  by_commit.revision = kCommit;
  EXPECT_EQ(rr::hf_resolve("org/model", "config.json", by_commit), expected);
  // A commit that is cached is used without asking the Hub, even when online.
  by_commit.offline = false;
  by_commit.endpoint = kUnreachable;
  EXPECT_EQ(rr::hf_resolve("org/model", "config.json", by_commit), expected);
  EXPECT_EQ(io_test::read_file(expected), R"({"hidden_size": 8})");
}

TEST(HubResolve, OfflineMisses) {
  ScratchDir cache;
  populate_cache(cache.path());
  const rr::HubOptions o = offline_in(cache.path());
  EXPECT_FALSE(
      rr::hf_resolve_optional("org/model", "tokenizer.json", o).has_value());  // recorded missing
  EXPECT_NE(error_of([&] {
              rr::hf_resolve("org/model", "tokenizer.json", o);
            }).find("does not exist in org/model"),
            std::string::npos);
  const std::string unknown =
      error_of([&] { rr::hf_resolve("org/model", "vocab.txt", o); }, rr::ErrorKind::runtime);
  EXPECT_NE(unknown.find("HF_HUB_OFFLINE is set and 'vocab.txt' of org/model at revision main is "
                         "not in the cache"),
            std::string::npos)
      << unknown;
  rr::HubOptions other_branch = o;
  other_branch.revision = "v2";
  EXPECT_NE(error_of([&] { rr::hf_resolve("org/model", "config.json", other_branch); },
                     rr::ErrorKind::runtime)
                .find("at revision v2 is not in the cache"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { rr::hf_resolve("other/model", "config.json", o); }, rr::ErrorKind::runtime)
          .find("not in the cache"),
      std::string::npos);
}

TEST(HubResolve, OfflineComesFromTheEnvironment) {
  ScratchDir cache;
  populate_cache(cache.path());
  rr::HubOptions o;
  o.cache_dir = cache.path().string();
  o.endpoint = kUnreachable;
  const ScopedEnv transformers("TRANSFORMERS_OFFLINE", std::nullopt);
  for (const char* value : {"1", "true", "YES", "on"}) {
    const ScopedEnv offline("HF_HUB_OFFLINE", value);
    EXPECT_NE(error_of([&] { rr::hf_resolve("org/model", "vocab.txt", o); }, rr::ErrorKind::runtime)
                  .find("HF_HUB_OFFLINE"),
              std::string::npos)
        << value;
  }
  const ScopedEnv offline("HF_HUB_OFFLINE", "0");
  EXPECT_NE(error_of([&] { rr::hf_resolve("org/model", "vocab.txt", o); }, rr::ErrorKind::runtime)
                .find("cannot reach"),
            std::string::npos);
}

TEST(HubResolve, UnreachableHubFallsBackToTheCache) {
  ScratchDir cache;
  populate_cache(cache.path());
  rr::HubOptions o;
  o.cache_dir = cache.path().string();
  o.endpoint = kUnreachable;
  o.offline = false;
  EXPECT_EQ(rr::hf_resolve("org/model", "config.json", o).filename(), "config.json");
  EXPECT_FALSE(rr::hf_resolve_optional("org/model", "tokenizer.json", o).has_value());
  const std::string message =
      error_of([&] { rr::hf_resolve("org/model", "vocab.txt", o); }, rr::ErrorKind::runtime);
  EXPECT_NE(message.find("cannot reach http://127.0.0.1:1"), std::string::npos) << message;
  EXPECT_NE(message.find("'vocab.txt' of org/model at revision main is not in the cache"),
            std::string::npos)
      << message;
}

TEST(HubResolve, RejectsNamesThatCouldEscapeTheCache) {
  ScratchDir cache;
  const rr::HubOptions o = offline_in(cache.path());
  for (const char* repo :
       {"a/b/c", "org--x/model", "org/..", "-org/model", "org/", "", "org/mo del"})
    EXPECT_NE(error_of([&] {
                rr::hf_resolve(repo, "config.json", o);
              }).find("is neither an existing directory nor"),
              std::string::npos)
        << repo;
  for (const char* file : {"../config.json", "/etc/passwd", "a/../../b", "", "a//b", "./x"})
    EXPECT_NE(
        error_of([&] { rr::hf_resolve("org/model", file, o); }).find("must be a relative path"),
        std::string::npos)
        << file;
  rr::HubOptions bad_revision = o;
  bad_revision.revision = "../../etc";
  EXPECT_NE(error_of([&] {
              rr::hf_resolve("org/model", "config.json", bad_revision);
            }).find("revision '../../etc'"),
            std::string::npos);
}

TEST(HubLoadWeights, FindsNoCheckpointAndSaysWhere) {
  ScratchDir dir;
  EXPECT_NE(error_of([&] {
              rr::hf_load_weights(dir.path().string());
            }).find("looked for model.safetensors"),
            std::string::npos);
}
