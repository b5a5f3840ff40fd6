// Dense vector primitives with Highway runtime dispatch: the loops below are compiled once per
// SIMD target (foreach_target.h) and the best one for the CPU is picked at the first call.
// Sums run in float32 over several independent accumulators, which both hides the latency of
// the fused multiply-add and keeps rounding error low for long vectors.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "scoring/vectors.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace rank_rerank::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// sum_k a[k] * b[k]
float DotKernel(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, std::size_t n) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  std::size_t i = 0;
  for (; i + 4 * lanes <= n; i += 4 * lanes) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + i + lanes), hn::LoadU(d, b + i + lanes), s1);
    s2 = hn::MulAdd(hn::LoadU(d, a + i + 2 * lanes), hn::LoadU(d, b + i + 2 * lanes), s2);
    s3 = hn::MulAdd(hn::LoadU(d, a + i + 3 * lanes), hn::LoadU(d, b + i + 3 * lanes), s3);
  }
  for (; i + lanes <= n; i += lanes) s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
  float sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// out = {a . b, a . a, b . b} in one pass over both vectors.
void DotAndNormsKernel(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, std::size_t n,
                       float* HWY_RESTRICT out) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  auto ab0 = hn::Zero(d), ab1 = hn::Zero(d);
  auto aa0 = hn::Zero(d), aa1 = hn::Zero(d);
  auto bb0 = hn::Zero(d), bb1 = hn::Zero(d);
  std::size_t i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    const auto a0 = hn::LoadU(d, a + i), b0 = hn::LoadU(d, b + i);
    const auto a1 = hn::LoadU(d, a + i + lanes), b1 = hn::LoadU(d, b + i + lanes);
    ab0 = hn::MulAdd(a0, b0, ab0);
    ab1 = hn::MulAdd(a1, b1, ab1);
    aa0 = hn::MulAdd(a0, a0, aa0);
    aa1 = hn::MulAdd(a1, a1, aa1);
    bb0 = hn::MulAdd(b0, b0, bb0);
    bb1 = hn::MulAdd(b1, b1, bb1);
  }
  for (; i + lanes <= n; i += lanes) {
    const auto a0 = hn::LoadU(d, a + i), b0 = hn::LoadU(d, b + i);
    ab0 = hn::MulAdd(a0, b0, ab0);
    aa0 = hn::MulAdd(a0, a0, aa0);
    bb0 = hn::MulAdd(b0, b0, bb0);
  }
  float ab = hn::GetLane(hn::SumOfLanes(d, hn::Add(ab0, ab1)));
  float aa = hn::GetLane(hn::SumOfLanes(d, hn::Add(aa0, aa1)));
  float bb = hn::GetLane(hn::SumOfLanes(d, hn::Add(bb0, bb1)));
  for (; i < n; ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  out[0] = ab;
  out[1] = aa;
  out[2] = bb;
}

// v[k] *= factor
void ScaleKernel(float* HWY_RESTRICT v, std::size_t n, float factor) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  const auto f = hn::Set(d, factor);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) hn::StoreU(hn::Mul(hn::LoadU(d, v + i), f), d, v + i);
  for (; i < n; ++i) v[i] *= factor;
}

}  // namespace rank_rerank::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>
#include <string>

#include "rank_rerank/error.hpp"
#include "rank_rerank/vectors.hpp"

namespace rank_rerank {

HWY_EXPORT(DotKernel);
HWY_EXPORT(DotAndNormsKernel);
HWY_EXPORT(ScaleKernel);

namespace {

void check_same_length(std::size_t a, std::size_t b, const char* function) {
  if (a != b)
    throw_invalid(std::string(function) + ": a has " + std::to_string(a) + " values but b has " +
                  std::to_string(b) + "; the vectors must have the same length");
}

void check_same_shape(const MatrixView& a, const MatrixView& b, const char* function) {
  if (a.rows != b.rows || a.cols != b.cols)
    throw_invalid(std::string(function) + ": a has shape [" + std::to_string(a.rows) + ", " +
                  std::to_string(a.cols) + "] but b has shape [" + std::to_string(b.rows) + ", " +
                  std::to_string(b.cols) + "]; the matrices must have the same shape");
}

float dot_unchecked(const float* a, const float* b, std::size_t n) {
  return HWY_DYNAMIC_DISPATCH(DotKernel)(a, b, n);
}

float cosine_unchecked(const float* a, const float* b, std::size_t n) {
  float sums[3];
  HWY_DYNAMIC_DISPATCH(DotAndNormsKernel)(a, b, n, sums);
  // A zero vector has no direction: similarity 0 by convention (NaN still propagates, since
  // a NaN norm compares unequal to 0). The product of the norms is formed in double so it
  // cannot overflow.
  if (sums[1] == 0.0f || sums[2] == 0.0f) return 0.0f;
  return static_cast<float>(sums[0] / (std::sqrt(static_cast<double>(sums[1])) *
                                       std::sqrt(static_cast<double>(sums[2]))));
}

float norm_unchecked(const float* v, std::size_t n) {
  return std::sqrt(HWY_DYNAMIC_DISPATCH(DotKernel)(v, v, n));
}

void normalize_unchecked(float* v, std::size_t n) {
  const float length = norm_unchecked(v, n);
  if (length == 0.0f) return;
  HWY_DYNAMIC_DISPATCH(ScaleKernel)(v, n, 1.0f / length);
}

}  // namespace

float dot(std::span<const float> a, std::span<const float> b) {
  check_same_length(a.size(), b.size(), "dot");
  return dot_unchecked(a.data(), b.data(), a.size());
}

float cosine(std::span<const float> a, std::span<const float> b) {
  check_same_length(a.size(), b.size(), "cosine");
  return cosine_unchecked(a.data(), b.data(), a.size());
}

float norm(std::span<const float> v) { return norm_unchecked(v.data(), v.size()); }

void l2_normalize(std::span<float> v) { normalize_unchecked(v.data(), v.size()); }

std::vector<float> dot_rows(const MatrixView& a, const MatrixView& b) {
  check_same_shape(a, b, "dot_rows");
  std::vector<float> out(a.rows);
  for (std::size_t i = 0; i < a.rows; ++i) out[i] = dot_unchecked(a.row(i), b.row(i), a.cols);
  return out;
}

std::vector<float> cosine_rows(const MatrixView& a, const MatrixView& b) {
  check_same_shape(a, b, "cosine_rows");
  std::vector<float> out(a.rows);
  for (std::size_t i = 0; i < a.rows; ++i) out[i] = cosine_unchecked(a.row(i), b.row(i), a.cols);
  return out;
}

std::vector<float> norm_rows(const MatrixView& m) {
  std::vector<float> out(m.rows);
  for (std::size_t i = 0; i < m.rows; ++i) out[i] = norm_unchecked(m.row(i), m.cols);
  return out;
}

void l2_normalize_rows(const MutableMatrixView& m) {
  for (std::size_t i = 0; i < m.rows; ++i) normalize_unchecked(m.row(i), m.cols);
}

}  // namespace rank_rerank
#endif  // HWY_ONCE
