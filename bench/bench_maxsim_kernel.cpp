// Single-thread throughput of the MaxSim kernels on the shape: a 32 x 128 float32
// query against 1,000 documents of 128..1,536 tokens, per document dtype and kernel family,
// plus a pure-FMA loop that measures the core's float32 FMA peak for the same targets.
//
//   taskset -c 1 build/release/bench/bench_maxsim_kernel --benchmark_repetitions=5
//   taskset -c 1 build/release/bench/bench_maxsim_kernel [--force-avx2] --alternate 15
//
// Counter GFLOPs: 2 * query rows * dim * document tokens per second (the float32-equivalent
// work, whatever the storage dtype), comparable with the PeakFma counter.

#undef HWY_TARGET_INCLUDE
// Resolved against the src/ include directory that every bench program gets.
#define HWY_TARGET_INCLUDE "../bench/bench_maxsim_kernel.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace bench_maxsim::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Runs `iterations` rounds of 12 independent FMA chains (more than latency x throughput on
// current cores) and returns the number of float32 lanes per vector.
HWY_NOINLINE std::size_t FmaLoop(std::size_t iterations, float* sink) {
  const hn::ScalableTag<float> d;
  constexpr int kChains = 12;
  hn::Vec<decltype(d)> acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = hn::Set(d, 1e-3f * static_cast<float>(j));
  const auto a = hn::Set(d, 0.999f), b = hn::Set(d, 1e-6f);
  for (std::size_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < kChains; ++j) acc[j] = hn::MulAdd(acc[j], a, b);
  }
  for (int j = 1; j < kChains; ++j) acc[0] = hn::Add(acc[0], acc[j]);
  *sink = hn::GetLane(acc[0]);
  return hn::Lanes(d) * kChains;
}

}  // namespace bench_maxsim::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "rank_rerank/quantize.hpp"
#include "rank_rerank/tensor.hpp"
#include "scoring/maxsim_kernel.hpp"
#include "scoring/maxsim_kernel_testing.hpp"

namespace bench_maxsim {

HWY_EXPORT(FmaLoop);

namespace rr = rank_rerank;
using rr::DType;

constexpr std::size_t kQueryRows = 32;
constexpr std::size_t kDim = 128;
constexpr std::size_t kDocs = 1000;

// The corpus in one dtype at a time (float32 alone is 430 MB).
struct Corpus {
  DType dtype = DType::f32;
  std::vector<std::int64_t> offsets;
  rr::QuantizedTokens tokens;
};

std::vector<float> random_unit_rows(std::size_t rows, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(rows * kDim);
  for (float& v : x) v = normal(rng);
  for (std::size_t r = 0; r < rows; ++r) {
    float n2 = 0;
    for (std::size_t k = 0; k < kDim; ++k) n2 += x[r * kDim + k] * x[r * kDim + k];
    for (std::size_t k = 0; k < kDim; ++k) x[r * kDim + k] /= std::sqrt(n2);
  }
  return x;
}

std::unique_ptr<Corpus> make_corpus(DType dtype) {
  auto c = std::make_unique<Corpus>();
  c->dtype = dtype;
  std::mt19937 rng(123);
  std::uniform_int_distribution<std::int64_t> length(128, 1536);
  c->offsets.push_back(0);
  for (std::size_t i = 0; i < kDocs; ++i) c->offsets.push_back(c->offsets.back() + length(rng));
  const auto rows = static_cast<std::size_t>(c->offsets.back());
  const std::vector<float> x = random_unit_rows(rows, rng);
  c->tokens = rr::quantize(rr::MatrixView{x.data(), rows, kDim}, dtype);
  return c;
}

const Corpus& corpus(DType dtype) {
  static std::mutex mutex;
  const std::lock_guard<std::mutex> lock(mutex);
  static std::unique_ptr<Corpus> current;
  if (current && current->dtype == dtype) return *current;
  current.reset();
  current = make_corpus(dtype);
  return *current;
}

const std::vector<float>& query() {
  static const std::vector<float> q = [] {
    std::mt19937 rng(7);
    return random_unit_rows(kQueryRows, rng);
  }();
  return q;
}

// The kernel family a prepared query runs on, named as in KernelPath.
const char* path_name(const rr::detail::PreparedQuery& prepared) {
  static constexpr const char* kNames[] = {"highway_float", "highway_bits", "native_bf16",
                                           "native_int8",   "amx_bf16",     "amx_int8",
                                           "highway_int8"};
  return kNames[static_cast<int>(rr::detail::kernel_path(prepared))];
}

// How to run: the library's choice, the library's choice without AMX tiles, the Highway path on
// the best target, or forced AVX2.
enum class Mode { best, no_amx, highway, avx2 };

// --force-avx2 (set in main, before any benchmark runs): the whole process is held to the
// Highway AVX2 target without the native and AMX kernels, so that the multi-threaded runs show
// how an AVX2-only CPU scales; the per-benchmark knobs below are then left alone.
bool g_force_avx2 = false;

void BM_MaxSim(benchmark::State& state, DType dtype, Mode mode, DType query_dtype,
               bool alignments = false) {
  if (mode == Mode::avx2 && !(hwy::SupportedTargets() & HWY_AVX2)) {
    state.SkipWithError("CPU without AVX2");
    return;
  }
  // Global knobs: only thread 0 touches them (every benchmark leaves the defaults behind).
  const bool first_thread = state.thread_index() == 0 && !g_force_avx2;
  if (first_thread) {
    rr::detail::set_native_kernels_enabled(mode == Mode::best || mode == Mode::no_amx);
    rr::detail::set_amx_kernels_enabled(mode == Mode::best);
    hwy::SetSupportedTargetsForTest(mode == Mode::avx2 ? HWY_AVX2 : 0);
  }
  const Corpus& c = corpus(dtype);
  const std::vector<float>& qf = query();
  const rr::QuantizedTokens q =
      rr::quantize(rr::MatrixView{qf.data(), kQueryRows, kDim}, query_dtype);
  const rr::detail::PreparedQuery prepared(q.view(), dtype, false);
  const rr::TokenMatrix all = c.tokens.view();
  std::vector<float> row_max(kQueryRows);
  std::vector<std::int64_t> argmax(alignments ? kQueryRows : 0);
  std::vector<float> token_best(alignments ? 1536 : 0);
  for (auto _ : state) {
    float total = 0;
    for (std::size_t i = 0; i < kDocs; ++i) {
      const rr::TokenMatrix doc = all.slice(static_cast<std::size_t>(c.offsets[i]),
                                            static_cast<std::size_t>(c.offsets[i + 1]));
      rr::detail::max_similarity(prepared, doc, row_max.data(),
                                 alignments ? argmax.data() : nullptr,
                                 alignments ? token_best.data() : nullptr);
      for (const float m : row_max) total += m;
    }
    benchmark::DoNotOptimize(total);
  }
  const double flops = 2.0 * kQueryRows * kDim * static_cast<double>(c.offsets.back());
  state.counters["GFLOPs"] = benchmark::Counter(
      flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["tokens"] = static_cast<double>(c.offsets.back());
  state.SetLabel(std::string(rr::dtype_name(query_dtype)) + " query, " + path_name(prepared));
  if (first_thread) {
    rr::detail::set_native_kernels_enabled(true);
    rr::detail::set_amx_kernels_enabled(true);
    hwy::SetSupportedTargetsForTest(0);
  }
}

void BM_PeakFma(benchmark::State& state, bool avx2) {
  if (avx2 && !(hwy::SupportedTargets() & HWY_AVX2)) {
    state.SkipWithError("CPU without AVX2");
    return;
  }
  hwy::SetSupportedTargetsForTest(avx2 ? HWY_AVX2 : 0);
  constexpr std::size_t kIterations = 1 << 22;
  float sink = 0;
  std::size_t lanes_per_iteration = 0;
  for (auto _ : state) {
    lanes_per_iteration = HWY_DYNAMIC_DISPATCH(FmaLoop)(kIterations, &sink);
    benchmark::DoNotOptimize(sink);
  }
  state.counters["GFLOPs"] =
      benchmark::Counter(2.0 * static_cast<double>(lanes_per_iteration * kIterations) * 1e-9 *
                             static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  hwy::SetSupportedTargetsForTest(0);
}

BENCHMARK_CAPTURE(BM_PeakFma, best, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PeakFma, avx2, true)->Unit(benchmark::kMillisecond);

#define MAXSIM_BENCH(name, doc, query)                                                  \
  BENCHMARK_CAPTURE(BM_MaxSim, name##_best, DType::doc, Mode::best, DType::query)       \
      ->Unit(benchmark::kMillisecond);                                                  \
  BENCHMARK_CAPTURE(BM_MaxSim, name##_no_amx, DType::doc, Mode::no_amx, DType::query)   \
      ->Unit(benchmark::kMillisecond);                                                  \
  BENCHMARK_CAPTURE(BM_MaxSim, name##_highway, DType::doc, Mode::highway, DType::query) \
      ->Unit(benchmark::kMillisecond);                                                  \
  BENCHMARK_CAPTURE(BM_MaxSim, name##_avx2, DType::doc, Mode::avx2, DType::query)       \
      ->Unit(benchmark::kMillisecond)

MAXSIM_BENCH(f32, f32, f32);
MAXSIM_BENCH(f16, f16, f32);
MAXSIM_BENCH(bf16, bf16, f32);
MAXSIM_BENCH(i8, i8, f32);
MAXSIM_BENCH(bit, bit, f32);
MAXSIM_BENCH(bit_x_bit, bit, bit);

// The slower fold used for alignments / highlighting: argmax and token_best as well.
BENCHMARK_CAPTURE(BM_MaxSim, f32_argmax_token_best, DType::f32, Mode::best, DType::f32, true)
    ->Unit(benchmark::kMillisecond);

// Scaling: every thread scores the whole corpus with its own PreparedQuery. Google Benchmark
// divides the wall time by the iterations of all threads together and sums the GFLOPs counter
// over threads, so perfect scaling halves the time and doubles GFLOPs from 1 to 2 threads.
// 1, 2, 4, 8 and 16 threads: bf16 and int8 documents halve and quarter the memory traffic that
// limits float32 once many cores share the memory bus.
BENCHMARK_CAPTURE(BM_MaxSim, f32_threads, DType::f32, Mode::best, DType::f32)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ThreadRange(1, 16);
BENCHMARK_CAPTURE(BM_MaxSim, bf16_threads, DType::bf16, Mode::best, DType::f32)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ThreadRange(1, 16);
BENCHMARK_CAPTURE(BM_MaxSim, i8_threads, DType::i8, Mode::best, DType::f32)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ThreadRange(1, 16);

// --alternate N: one pass over the corpus per document dtype, float32, bfloat16, int8 in turn,
// N rounds, on the calling thread. On a shared virtual machine whose speed drifts by tens of
// percent within a minute, separate benchmark runs per dtype compare different periods; passes
// taken side by side in every round do not, so the per-round ratios are the figures to read:
// against float32, and against the FMA peak loop timed at the start of the round.
int run_alternating(int rounds) {
  constexpr DType kDtypes[] = {DType::f32, DType::bf16, DType::i8};
  constexpr std::size_t kCount = std::size(kDtypes);
  std::vector<std::unique_ptr<Corpus>> corpora;
  for (const DType dtype : kDtypes) corpora.push_back(make_corpus(dtype));
  const std::vector<float>& qf = query();
  const rr::QuantizedTokens q =
      rr::quantize(rr::MatrixView{qf.data(), kQueryRows, kDim}, DType::f32);
  std::vector<float> row_max(kQueryRows);
  auto pass_ms = [&](const Corpus& c, const rr::detail::PreparedQuery& prepared) {
    const rr::TokenMatrix all = c.tokens.view();
    const auto start = std::chrono::steady_clock::now();
    float total = 0;
    for (std::size_t i = 0; i < kDocs; ++i) {
      rr::detail::max_similarity(prepared,
                                 all.slice(static_cast<std::size_t>(c.offsets[i]),
                                           static_cast<std::size_t>(c.offsets[i + 1])),
                                 row_max.data(), nullptr, nullptr);
      for (const float m : row_max) total += m;
    }
    benchmark::DoNotOptimize(total);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
  };
  std::vector<std::unique_ptr<rr::detail::PreparedQuery>> prepared;
  for (const auto& c : corpora) {
    prepared.push_back(std::make_unique<rr::detail::PreparedQuery>(q.view(), c->dtype, false));
    pass_ms(*c, *prepared.back());  // warm-up: page faults of the corpus
  }
  // The FMA peak of the same target, timed in every round too (see BM_PeakFma).
  auto peak_gflops = [] {
    constexpr std::size_t kIterations = 1 << 22;
    float sink = 0;
    const auto start = std::chrono::steady_clock::now();
    const std::size_t lanes = HWY_DYNAMIC_DISPATCH(FmaLoop)(kIterations, &sink);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    benchmark::DoNotOptimize(sink);
    return 2.0 * static_cast<double>(lanes * kIterations) / s * 1e-9;
  };
  const double flops = 2.0 * kQueryRows * kDim * static_cast<double>(corpora[0]->offsets.back());
  std::vector<double> ms[kCount], ratio[kCount], of_peak[kCount], peak;
  for (int r = 0; r < rounds; ++r) {
    double round_ms[kCount];
    peak.push_back(peak_gflops());
    for (std::size_t j = 0; j < kCount; ++j) round_ms[j] = pass_ms(*corpora[j], *prepared[j]);
    for (std::size_t j = 0; j < kCount; ++j) {
      ms[j].push_back(round_ms[j]);
      ratio[j].push_back(round_ms[0] / round_ms[j]);
      of_peak[j].push_back(flops / round_ms[j] * 1e-6 / peak.back());
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };
  std::printf("%d alternating rounds, one thread%s; FMA peak loop %.1f GFLOP/s (median)\n", rounds,
              g_force_avx2 ? ", held to AVX2" : "", median(peak));
  std::printf("%-9s %-14s %10s %10s %18s %16s %22s\n", "documents", "path", "median ms", "min ms",
              "GFLOP/s (median)", "of FMA peak", "float32 / this (median)");
  for (std::size_t j = 0; j < kCount; ++j) {
    const double med = median(ms[j]);
    std::printf("%-9s %-14s %10.1f %10.1f %18.1f %15.0f%% %22.2f\n",
                std::string(rr::dtype_name(kDtypes[j])).c_str(), path_name(*prepared[j]), med,
                *std::min_element(ms[j].begin(), ms[j].end()), flops / med * 1e-6,
                100.0 * median(of_peak[j]), median(ratio[j]));
  }
  return 0;
}

}  // namespace bench_maxsim

int main(int argc, char** argv) {
  std::vector<char*> args;
  int alternate_rounds = 0;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg == "--force-avx2") {
      bench_maxsim::g_force_avx2 = true;
    } else if (arg == "--alternate" && i + 1 < argc) {
      alternate_rounds = std::atoi(argv[++i]);
      if (alternate_rounds < 1) {
        std::fprintf(stderr, "--alternate: expected a positive number of rounds\n");
        return 1;
      }
    } else {
      args.push_back(argv[i]);
    }
  }
  if (bench_maxsim::g_force_avx2) {
    if (!(hwy::SupportedTargets() & HWY_AVX2)) {
      std::fprintf(stderr, "--force-avx2: this CPU has no AVX2\n");
      return 1;
    }
    rank_rerank::detail::set_native_kernels_enabled(false);
    rank_rerank::detail::set_amx_kernels_enabled(false);
    hwy::SetSupportedTargetsForTest(HWY_AVX2);
  }
  if (alternate_rounds > 0) return bench_maxsim::run_alternating(alternate_rounds);
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

#endif  // HWY_ONCE
