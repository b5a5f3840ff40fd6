// What the model-using subcommands share: the model options, loading, reading input records
// (JSON lines, TSV, plain lines) with file:line errors, and a progress bar on a terminal.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <istream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "rank_rerank/reranker.hpp"

namespace rank_rerank::cli {

struct ModelArgs {
  std::string model;
  std::string kind = "auto";
  std::string device = "auto";
  std::string devices;  // "" or a device list: "cuda:0,cuda:1", "cuda:all"
  std::string dtype = "float32";
  std::size_t batch_tokens = 32768;
  std::size_t max_length = 0;  // 0: the checkpoint's
  std::size_t query_length = 0;
  int threads = 0;
  bool stats = false;
  bool offline = false;
};

// --model, --kind, --device, --devices, --dtype, --batch-tokens, --max-length, --query-length,
// --threads,
// --stats, --offline.
void add_model_options(CLI::App& sub, ModelArgs& args);
// Loads the reranker; on failure prints "rank-rerank <command>: <why>" and returns nullopt.
std::optional<Reranker> load_reranker(const ModelArgs& args, const char* command);
// With --stats: the statistics of the last call as one JSON line on stderr.
void print_stats(const ModelArgs& args);

// A malformed input record: where and why (the command prints "file:line: why", exit 1).
struct InputError : std::runtime_error {
  InputError(const std::string& where, std::size_t line, const std::string& why)
      : std::runtime_error(where + ":" + std::to_string(line) + ": " + why) {}
};

// Lines of a file or of stdin ("-"), numbered from 1, with a trailing \r removed.
class LineReader {
 public:
  // Throws std::runtime_error when the file cannot be opened.
  explicit LineReader(const std::string& path);
  bool next(std::string& line);
  std::size_t line_number() const noexcept { return line_; }
  const std::string& name() const noexcept { return name_; }
  bool failed() const;
  // The format the name suggests: "jsonl" for .jsonl / .json, "tsv" for .tsv, else `fallback`.
  std::string format_or(const std::string& fallback) const;

 private:
  std::unique_ptr<std::istream> owned_;
  std::istream* in_;
  std::string name_;
  std::size_t line_ = 0;
};

// Parses one JSON line as an object; throws InputError naming the line.
nlohmann::json parse_json_line(const LineReader& reader, const std::string& line);
// The string field `key` of a JSON line; throws InputError when missing or not a string.
std::string string_field(const LineReader& reader, const nlohmann::json& j, const char* key);

// "\r[=====>     ] done/total what  rate/s" on stderr (a plain counter when total is 0:
// unknown), at most ten times a second, only when stderr is a terminal; finish() ends the line.
class Progress {
 public:
  Progress(std::size_t total, const char* what);
  void advance(std::size_t n);
  void finish();

 private:
  void draw();
  bool enabled_;
  std::size_t total_, done_ = 0;
  const char* what_;
  std::chrono::steady_clock::time_point start_, last_;
};

// Writes `text` to stdout; false when that fails.
bool write_stdout(const std::string& text);

}  // namespace rank_rerank::cli
