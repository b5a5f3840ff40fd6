// `rank-rerank bench`: rerank latency and encoding throughput of one model on the chosen device,
// over synthetic texts of a chosen length (deterministic, so runs are comparable).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::cli {
namespace {

struct BenchArgs {
  ModelArgs model;
  std::size_t docs = 100;
  std::size_t doc_words = 120;
  std::size_t query_words = 8;
  std::size_t repeat = 10;
  std::size_t warmup = 2;
  bool json = false;
};

// Words of ordinary English so every tokenizer sees real pieces, drawn by a fixed LCG.
std::vector<std::string> synthetic_texts(std::size_t n, std::size_t words, std::uint64_t seed) {
  static constexpr const char* kWords[] = {
      "the",     "model",  "ranks",    "documents", "by",       "relevance", "to",    "a",
      "query",   "with",   "token",    "vectors",   "and",      "scores",    "late",  "interaction",
      "river",   "bank",   "interest", "rates",     "bread",    "flour",     "water", "mountain",
      "history", "of",     "rome",     "orbit",     "planet",   "music",     "jazz",  "chord",
      "compute", "kernel", "memory",   "fast",      "language", "search",    "index", "retrieval"};
  constexpr std::size_t kCount = sizeof kWords / sizeof kWords[0];
  std::uint64_t state = seed;
  std::vector<std::string> texts(n);
  for (std::string& t : texts)
    for (std::size_t w = 0; w < words; ++w) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      if (w) t += ' ';
      t += kWords[(state >> 33) % kCount];
    }
  return texts;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[at];
}

int run(const BenchArgs& args) {
  const std::optional<Reranker> reranker = load_reranker(args.model, "bench");
  if (!reranker) return exit_load;
  const std::vector<std::string> docs = synthetic_texts(args.docs, args.doc_words, 1);
  const std::string query = synthetic_texts(1, args.query_words, 2).front();
  const std::vector<std::string_view> views(docs.begin(), docs.end());
  std::vector<double> latency, encode, tokens_per_s;
  RerankStats stats;
  try {
    Progress progress(args.warmup + args.repeat, "runs");
    for (std::size_t r = 0; r < args.warmup + args.repeat; ++r) {
      (void)reranker->rerank(query, views, std::nullopt, &stats);
      if (r >= args.warmup) {
        latency.push_back(stats.total_ms);
        encode.push_back(stats.encode_ms);
        tokens_per_s.push_back(stats.tokens_per_second());
      }
      progress.advance(1);
    }
    progress.finish();
  } catch (const Error& e) {
    std::cerr << "rank-rerank bench: " << e.what() << "\n";
    return exit_runtime;
  }
  const nlohmann::json result = {
      {"model", reranker->identity().name},
      {"kind", reranker_kind_name(reranker->kind())},
      {"device", reranker->device()},
      {"dtype", reranker->dtype()},
      {"documents", args.docs},
      {"tokens_per_call", stats.tokens},
      {"repeat", args.repeat},
      {"latency_ms_p50", percentile(latency, 0.5)},
      {"latency_ms_p90", percentile(latency, 0.9)},
      {"encode_ms_p50", percentile(encode, 0.5)},
      {"tokens_per_second_p50", percentile(tokens_per_s, 0.5)},
      {"documents_per_second_p50",
       static_cast<double>(args.docs) * 1000.0 / percentile(latency, 0.5)}};
  if (args.json) return write_stdout(result.dump() + "\n") ? exit_ok : exit_io;
  char text[512];
  std::snprintf(text, sizeof text,
                "%s (%s) on %s, %s: 1 query x %zu documents, %zu tokens per call\n"
                "  latency  p50 %.2f ms  p90 %.2f ms  (encoding p50 %.2f ms)\n"
                "  throughput  %.0f tokens/s  %.0f documents/s\n",
                reranker->identity().name.c_str(),
                std::string(reranker_kind_name(reranker->kind())).c_str(),
                reranker->device().c_str(), reranker->dtype().c_str(), args.docs, stats.tokens,
                percentile(latency, 0.5), percentile(latency, 0.9), percentile(encode, 0.5),
                percentile(tokens_per_s, 0.5),
                static_cast<double>(args.docs) * 1000.0 / percentile(latency, 0.5));
  return write_stdout(text) ? exit_ok : exit_io;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* sub = app.add_subcommand(
      "bench",
      "Rerank latency (p50 / p90) and tokens/s of a model on the chosen device, over "
      "deterministic synthetic texts.");
  add_model_options(*sub, args->model);
  sub->add_option("--docs", args->docs, "documents per query")->check(CLI::PositiveNumber);
  sub->add_option("--doc-words", args->doc_words, "words per document")->check(CLI::PositiveNumber);
  sub->add_option("--query-words", args->query_words, "words per query")
      ->check(CLI::PositiveNumber);
  sub->add_option("--repeat", args->repeat, "timed runs")->check(CLI::PositiveNumber);
  sub->add_option("--warmup", args->warmup, "untimed runs first")->check(CLI::NonNegativeNumber);
  sub->add_flag("--json", args->json, "one JSON object instead of text");
  sub->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace rank_rerank::cli
