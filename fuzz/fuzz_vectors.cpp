// Fuzzes the vector primitives, top-k and the token-weight helpers with fuzzed lengths, shapes
// and values (NaN and infinities included). Invalid input must throw rank_rerank::Error;
// top_k must additionally return a correctly ordered prefix.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/topk.hpp"
#include "rank_rerank/vectors.hpp"
#include "rank_rerank/token_weights.hpp"

namespace rr = rank_rerank;

namespace {

float fuzzed_float(FuzzedDataProvider& in) {
  if (in.ConsumeIntegralInRange<int>(0, 7) == 0) {
    const auto bits = in.ConsumeIntegral<std::uint32_t>();
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
  }
  return static_cast<float>(in.ConsumeIntegralInRange<int>(-1000, 1000)) / 64.0f;
}

std::vector<float> floats(FuzzedDataProvider& in, std::size_t n) {
  std::vector<float> v(n);
  for (float& x : v) x = fuzzed_float(in);
  return v;
}

// Higher first, lower index on ties, NaN last: the order top_k promises.
bool ordered(const rr::Ranked& a, const rr::Ranked& b) {
  const bool a_nan = std::isnan(a.score), b_nan = std::isnan(b.score);
  if (a_nan != b_nan) return !a_nan;
  if (!a_nan && a.score != b.score) return a.score > b.score;
  return a.index < b.index;
}

void run(FuzzedDataProvider& in) {
  const int entry = in.ConsumeIntegralInRange<int>(0, 4);
  const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(0, 80);
  switch (entry) {
    case 0: {
      const auto a = floats(in, n);
      const auto b =
          floats(in, in.ConsumeBool() ? n : in.ConsumeIntegralInRange<std::size_t>(0, 80));
      rr::dot(a, b);
      rr::cosine(a, b);
      rr::norm(a);
      auto c = a;
      rr::l2_normalize(c);
      break;
    }
    case 1: {
      const std::size_t rows = in.ConsumeIntegralInRange<std::size_t>(0, 8);
      const std::size_t cols = n % 20;
      const auto a = floats(in, rows * cols);
      const std::size_t b_rows =
          in.ConsumeBool() ? rows : in.ConsumeIntegralInRange<std::size_t>(0, 8);
      const auto b = floats(in, b_rows * cols);
      const rr::MatrixView ma{a.data(), rows, cols}, mb{b.data(), b_rows, cols};
      rr::dot_rows(ma, mb);
      rr::cosine_rows(ma, mb);
      rr::norm_rows(ma);
      auto c = a;
      rr::l2_normalize_rows(rr::MutableMatrixView{c.data(), rows, cols});
      break;
    }
    case 2: {
      const auto scores = floats(in, n);
      const std::size_t k = in.ConsumeIntegralInRange<std::size_t>(0, n + 2);
      const auto top = rr::top_k(scores, k);
      const auto all = rr::rank_all(scores);
      for (std::size_t i = 0; i < top.size(); ++i) {
        // top_k is a prefix of the full ranking, which is itself ordered.
        if (top[i].index != all[i].index) std::abort();
        if (i > 0 && ordered(all[i], all[i - 1])) std::abort();
      }
      break;
    }
    case 3: {
      const auto n_docs = in.ConsumeIntegralInRange<std::int64_t>(-2, 1000);
      std::vector<std::int64_t> df(n), ids(in.ConsumeIntegralInRange<std::size_t>(0, 20));
      for (auto& x : df) x = in.ConsumeIntegralInRange<std::int64_t>(-2, 1002);
      for (auto& x : ids) x = in.ConsumeIntegralInRange<std::int64_t>(-2, 100);
      rr::bm25_idf(df, n_docs);
      rr::idf_weights(ids, df, n_docs);
      break;
    }
    default: {
      const auto tf = floats(in, n);
      std::vector<std::int64_t> df(in.ConsumeBool() ? n : n % 7);
      for (auto& x : df) x = in.ConsumeIntegralInRange<std::int64_t>(-1, 101);
      rr::Bm25Parameters p{fuzzed_float(in), fuzzed_float(in)};
      rr::attention_weights(tf);
      rr::bm25_weights(tf, df, 100, fuzzed_float(in), fuzzed_float(in), p);
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  try {
    run(in);
  } catch (const rr::Error&) {
    // Rejected input: the documented outcome for anything invalid.
  }
  return 0;
}
