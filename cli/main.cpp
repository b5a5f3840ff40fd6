// The `rank-rerank` command line: one subcommand per task, the work done by the library.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "commands.hpp"
#include "rank_rerank/cpu_blas.hpp"

namespace {

// OpenBLAS picks its kernels when the process loads it, before main: where it fell back to its
// generic ones on a CPU it does not know, start this program again with OPENBLAS_CORETYPE set
// (once: the variable is then set). The user's own OPENBLAS_CORETYPE is left alone.
void restart_with_vector_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const rank_rerank::CpuBlasStatus blas = rank_rerank::cpu_blas_status();
  if (!blas.generic()) return;
  if (setenv("OPENBLAS_CORETYPE", blas.recommended.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: go on with the generic kernels
}

}  // namespace

int main(int argc, char** argv) {
  restart_with_vector_blas_kernels(argv);
  namespace cli = rank_rerank::cli;
  CLI::App app{"rank-rerank: neural reranking (late interaction MaxSim, cross-encoders)"};
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 success, 1 malformed input (the message names the line), 2 usage error, "
      "3 the tokenizer, model, device or vectors file could not be used, 4 reading or writing "
      "failed, 5 encoding or scoring failed.");
  int exit_code = cli::exit_ok;
  cli::add_tokenize_command(app, exit_code);
  cli::add_rerank_command(app, exit_code);
  cli::add_encode_command(app, exit_code);
  cli::add_score_command(app, exit_code);
  cli::add_bench_command(app, exit_code);
  cli::add_devices_command(app, exit_code);
  cli::add_info_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? cli::exit_ok : cli::exit_usage;
  }
  return exit_code;
}
