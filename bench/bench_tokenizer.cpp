// Tokenizer throughput in C++ alone (no Python conversions): loading a tokenizer.json and encoding
// a corpus of one text per line with 1 and 2 threads.
//
//   build/release/bench/bench_tokenizer TOKENIZER_JSON CORPUS_FILE [--benchmark_repetitions=5]
//
// Counters: bytes_per_second (of input text) and Tokens (tokens per second).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "rank_rerank/tokenizer.hpp"

namespace {

std::string g_tokenizer_path;
std::vector<std::string> g_texts;
std::size_t g_bytes = 0;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void BM_Load(benchmark::State& state) {
  const std::string json = read_all(g_tokenizer_path);
  for (auto _ : state) {
    auto t = rank_rerank::Tokenizer::from_json(json);
    benchmark::DoNotOptimize(t.vocab_size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * json.size()));
}

void BM_EncodeBatch(benchmark::State& state) {
  const auto tokenizer = rank_rerank::Tokenizer::from_file(g_tokenizer_path);
  const std::vector<std::string_view> views(g_texts.begin(), g_texts.end());
  rank_rerank::EncodeOptions options;
  options.num_threads = static_cast<int>(state.range(0));
  options.truncation = std::optional<rank_rerank::TruncationOptions>();
  options.padding = std::optional<rank_rerank::PaddingOptions>();
  std::size_t tokens = 0;
  for (auto _ : state) {
    const auto out = tokenizer.encode_batch(views, {}, options);
    tokens = 0;
    for (const auto& e : out) tokens += e.size();
    benchmark::DoNotOptimize(tokens);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_bytes));
  state.counters["Tokens"] =
      benchmark::Counter(static_cast<double>(tokens) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeBatch)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER_JSON CORPUS_FILE [--benchmark_...]\n", argv[0]);
    return 2;
  }
  g_tokenizer_path = argv[1];
  std::istringstream corpus(read_all(argv[2]));
  for (std::string line; std::getline(corpus, line);) {
    g_bytes += line.size();
    g_texts.push_back(std::move(line));
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
