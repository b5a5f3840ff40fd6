// Shared helpers for the I/O tests: scratch directories, byte files, error capture, fixtures.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "rank_rerank/error.hpp"

namespace io_test {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "rank_rerank_io_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code error;
    fs::remove_all(path_, error);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The message of the rank_rerank::Error `fn` throws (checking its kind), or "" if none.
template <class Fn>
std::string error_of(Fn&& fn,
                     rank_rerank::ErrorKind kind = rank_rerank::ErrorKind::invalid_argument) {
  try {
    fn();
  } catch (const rank_rerank::Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
    return e.what();
  }
  return "";
}

inline fs::path source_dir() { return RANK_RERANK_SOURCE_DIR; }

// Runs tests/fixtures/make_safetensors_fixtures.py (the real safetensors writer) once per test
// program into a temporary directory. Empty when Python or the package is unavailable.
inline const fs::path& safetensors_fixtures() {
  static const fs::path dir = [] {
    const fs::path out =
        fs::temp_directory_path() / ("rank_rerank_st_" + std::to_string(::getpid()));
    fs::remove_all(out);
    const std::string command =
        std::string("\"") + RANK_RERANK_PYTHON_EXECUTABLE + "\" \"" +
        (source_dir() / "tests/fixtures/make_safetensors_fixtures.py").string() + "\" \"" +
        out.string() + "\"";
    if (std::system(command.c_str()) != 0) return fs::path();
    std::atexit([] {
      std::error_code error;
      fs::remove_all(fs::temp_directory_path() / ("rank_rerank_st_" + std::to_string(::getpid())),
                     error);
    });
    return out;
  }();
  return dir;
}

inline nlohmann::json load_json(const fs::path& path) {
  return nlohmann::json::parse(read_file(path));
}

}  // namespace io_test
