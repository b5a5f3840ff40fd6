// Token pooling (one 300 x 128 ColBERT-style document, pool factor 2; and a packed batch) and
// diversity selection (MMR / DPP choosing 50 of 1000 candidates).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "rank_rerank/diversity.hpp"
#include "rank_rerank/pooling.hpp"

namespace {

using namespace rank_rerank;

// Unit vectors scattered around a few directions, like the tokens of one passage.
std::vector<float> token_vectors(std::size_t n, std::size_t dim, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(8 * dim);
  for (float& v : centres) v = normal(gen);
  std::vector<float> x(n * dim);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = gen() % 8;
    double sq = 0.0;
    for (std::size_t t = 0; t < dim; ++t) {
      x[i * dim + t] = centres[c * dim + t] + 0.8f * normal(gen);
      sq += double(x[i * dim + t]) * x[i * dim + t];
    }
    for (std::size_t t = 0; t < dim; ++t) x[i * dim + t] = float(x[i * dim + t] / std::sqrt(sq));
  }
  return x;
}

void BM_PoolTokens(benchmark::State& state) {
  const std::size_t n = 300, dim = 128;
  const std::vector<float> doc = token_vectors(n, dim, 1);
  PoolingOptions o;
  o.pool_factor = 2;
  o.variant = state.range(0) == 0 ? WardVariant::cosine_distances : WardVariant::similarity_rows;
  for (auto _ : state) benchmark::DoNotOptimize(pool_tokens({doc.data(), n, dim}, o));
  state.SetLabel(state.range(0) == 0 ? "cosine_distances" : "similarity_rows");
  state.SetItemsProcessed(std::int64_t(state.iterations()));
}
BENCHMARK(BM_PoolTokens)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_PoolTokensPacked(benchmark::State& state) {
  const std::size_t docs = 64, n = 300, dim = 128;
  const std::vector<float> tokens = token_vectors(docs * n, dim, 2);
  std::vector<std::int64_t> offsets(docs + 1);
  for (std::size_t i = 0; i <= docs; ++i) offsets[i] = std::int64_t(i * n);
  PoolingOptions o;
  o.num_threads = std::size_t(state.range(0));
  const PackedTokens batch{TokenMatrix::from({tokens.data(), docs * n, dim}), offsets};
  for (auto _ : state) benchmark::DoNotOptimize(pool_tokens_packed(batch, o));
  state.SetItemsProcessed(std::int64_t(state.iterations() * docs));
}
BENCHMARK(BM_PoolTokensPacked)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

struct Candidates {
  std::vector<float> embeddings;
  std::vector<float> relevance;
};

Candidates candidates(std::size_t n, std::size_t dim) {
  Candidates c{token_vectors(n, dim, 3), std::vector<float>(n)};
  std::mt19937 gen(4);
  std::uniform_real_distribution<float> uniform;
  for (float& r : c.relevance) r = uniform(gen);
  return c;
}

void BM_Mmr(benchmark::State& state) {
  const std::size_t n = 1000, dim = 128;
  const Candidates c = candidates(n, dim);
  MmrOptions o;
  o.k = 50;
  for (auto _ : state) benchmark::DoNotOptimize(mmr({c.embeddings.data(), n, dim}, c.relevance, o));
}
BENCHMARK(BM_Mmr)->Unit(benchmark::kMicrosecond);

void BM_Dpp(benchmark::State& state) {
  const std::size_t n = 1000, dim = 128;
  const Candidates c = candidates(n, dim);
  DppOptions o;
  o.k = 50;
  for (auto _ : state) benchmark::DoNotOptimize(dpp({c.embeddings.data(), n, dim}, c.relevance, o));
}
BENCHMARK(BM_Dpp)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
