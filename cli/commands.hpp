// Subcommands of the `rank-rerank` executable. Each registers itself on the app; when chosen, it
// runs from its CLI11 callback and leaves its exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace rank_rerank::cli {

// Exit codes shared by all subcommands (listed in --help).
enum ExitCode : int {
  exit_ok = 0,
  exit_bad_input = 1,  // a malformed input line (the message names its line number)
  exit_usage = 2,      // unknown option, missing argument
  exit_load = 3,       // the tokenizer, model or vectors file could not be loaded
  exit_io = 4,         // reading stdin or writing stdout failed
  exit_runtime = 5,    // encoding or scoring failed after loading
};

void add_tokenize_command(CLI::App& app, int& exit_code);
void add_rerank_command(CLI::App& app, int& exit_code);
void add_encode_command(CLI::App& app, int& exit_code);
void add_score_command(CLI::App& app, int& exit_code);
void add_bench_command(CLI::App& app, int& exit_code);
void add_devices_command(CLI::App& app, int& exit_code);
void add_info_command(CLI::App& app, int& exit_code);

}  // namespace rank_rerank::cli
