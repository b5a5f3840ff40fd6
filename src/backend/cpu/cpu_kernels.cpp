// Highway implementation of the CPU backend's row kernels (see cpu_kernels.hpp). Rows whose
// length is not a multiple of the vector width finish with one vector staged through a small
// buffer, padded with a value that leaves the reduction unchanged.
#include "backend/cpu/cpu_kernels.hpp"

#include <algorithm>
#include <cmath>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backend/cpu/cpu_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <hwy/contrib/math/math-inl.h>

HWY_BEFORE_NAMESPACE();
namespace rank_rerank::backend::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;
constexpr std::size_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);

// The first n (< lanes) values of p, the other lanes set to `pad`.
V LoadTail(D d, const float* p, std::size_t n, float pad) {
  HWY_ALIGN float staged[kMaxLanes];
  std::fill(staged, staged + hn::Lanes(d), pad);
  std::copy(p, p + n, staged);
  return hn::Load(d, staged);
}

void StoreTail(D d, V v, float* p, std::size_t n) {
  HWY_ALIGN float staged[kMaxLanes];
  hn::Store(v, d, staged);
  std::copy(staged, staged + n, p);
}

// x * Phi(x) with Phi from erfc(|x| / sqrt 2) by Abramowitz & Stegun 7.1.26 (absolute error of
// erf below 1.5e-7, i.e. float rounding level). Working with the tail erfc keeps negative inputs
// free of the cancellation in 1 + erf(x / sqrt 2).
V GeluErf(D d, V x) {
  const V z = hn::Mul(hn::Abs(x), hn::Set(d, 0.70710678118654752f));
  // t = 1 / (1 + p z) from the approximate reciprocal and one Newton step (a float's precision)
  // instead of a division, which issues several times less often than an FMA. With the block
  // pool this took BERT-base's 768 -> 3072 GELU layer in bf16 from 103.7 to 87.6 ms per pass on
  // 16 Xeon threads (the two were measured together).
  const V denominator = hn::MulAdd(hn::Set(d, 0.3275911f), z, hn::Set(d, 1.0f));
  const V estimate = hn::ApproximateReciprocal(denominator);
  const V t = hn::Mul(estimate, hn::NegMulAdd(denominator, estimate, hn::Set(d, 2.0f)));
  V poly = hn::Set(d, 1.061405429f);
  poly = hn::MulAdd(poly, t, hn::Set(d, -1.453152027f));
  poly = hn::MulAdd(poly, t, hn::Set(d, 1.421413741f));
  poly = hn::MulAdd(poly, t, hn::Set(d, -0.284496736f));
  poly = hn::MulAdd(poly, t, hn::Set(d, 0.254829592f));
  poly = hn::Mul(poly, t);
  const V half_erfc = hn::Mul(hn::Set(d, 0.5f), hn::Mul(poly, hn::Exp(d, hn::Neg(hn::Mul(z, z)))));
  const V phi =
      hn::IfThenElse(hn::Lt(x, hn::Zero(d)), half_erfc, hn::Sub(hn::Set(d, 1.0f), half_erfc));
  return hn::Mul(x, phi);
}

// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), the formula transformers' gelu_new uses.
V GeluTanh(D d, V x) {
  const V inner = hn::Mul(hn::Set(d, 0.7978845608028654f),
                          hn::MulAdd(hn::Mul(hn::Set(d, 0.044715f), x), hn::Mul(x, x), x));
  return hn::Mul(hn::Mul(hn::Set(d, 0.5f), x), hn::Add(hn::Set(d, 1.0f), hn::Tanh(d, inner)));
}

V Sigmoid(D d, V x) {
  // exp(-x) overflows to inf below -88, which still gives the right limit 0; clamping keeps the
  // argument inside the range Highway's Exp documents.
  const V e = hn::Exp(d, hn::Min(hn::Neg(x), hn::Set(d, 88.0f)));
  return hn::Div(hn::Set(d, 1.0f), hn::Add(hn::Set(d, 1.0f), e));
}

template <Activation kAct>
V Activate(D d, V x) {
  if constexpr (kAct == Activation::gelu_erf) return GeluErf(d, x);
  if constexpr (kAct == Activation::gelu_tanh) return GeluTanh(d, x);
  if constexpr (kAct == Activation::relu) return hn::Max(x, hn::Zero(d));
  if constexpr (kAct == Activation::tanh) return hn::Tanh(d, x);
  if constexpr (kAct == Activation::sigmoid) return Sigmoid(d, x);
  return x;
}

template <Activation kAct>
void BiasActivationT(float* y, std::size_t rows, std::size_t cols, std::size_t ld,
                     const float* bias) {
  const D d;
  const std::size_t lanes = hn::Lanes(d);
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = y + r * ld;
    std::size_t c = 0;
    for (; c + lanes <= cols; c += lanes) {
      V v = hn::LoadU(d, row + c);
      if (bias != nullptr) v = hn::Add(v, hn::LoadU(d, bias + c));
      hn::StoreU(Activate<kAct>(d, v), d, row + c);
    }
    if (c < cols) {
      V v = LoadTail(d, row + c, cols - c, 0.0f);
      if (bias != nullptr) v = hn::Add(v, LoadTail(d, bias + c, cols - c, 0.0f));
      StoreTail(d, Activate<kAct>(d, v), row + c, cols - c);
    }
  }
}

void BiasActivation(float* y, std::size_t rows, std::size_t cols, std::size_t ld, const float* bias,
                    Activation activation) {
  switch (activation) {
    case Activation::identity:
      if (bias != nullptr) BiasActivationT<Activation::identity>(y, rows, cols, ld, bias);
      return;
    case Activation::gelu_erf:
      return BiasActivationT<Activation::gelu_erf>(y, rows, cols, ld, bias);
    case Activation::gelu_tanh:
      return BiasActivationT<Activation::gelu_tanh>(y, rows, cols, ld, bias);
    case Activation::relu:
      return BiasActivationT<Activation::relu>(y, rows, cols, ld, bias);
    case Activation::tanh:
      return BiasActivationT<Activation::tanh>(y, rows, cols, ld, bias);
    case Activation::sigmoid:
      return BiasActivationT<Activation::sigmoid>(y, rows, cols, ld, bias);
  }
}

float SumOf(D d, V v) { return hn::GetLane(hn::SumOfLanes(d, v)); }

void LayerNormRows(float* x, const float* residual, std::size_t rows, std::size_t cols,
                   const float* gamma, const float* beta, float eps) {
  const D d;
  const std::size_t lanes = hn::Lanes(d);
  const std::size_t full = cols - cols % lanes;
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    const float* res = residual == nullptr ? nullptr : residual + r * cols;
    V sum = hn::Zero(d);
    for (std::size_t c = 0; c < full; c += lanes) {
      V v = hn::LoadU(d, row + c);
      if (res != nullptr) {
        v = hn::Add(v, hn::LoadU(d, res + c));
        hn::StoreU(v, d, row + c);
      }
      sum = hn::Add(sum, v);
    }
    if (full < cols) {
      V v = LoadTail(d, row + full, cols - full, 0.0f);
      if (res != nullptr) {
        v = hn::Add(v, LoadTail(d, res + full, cols - full, 0.0f));
        StoreTail(d, v, row + full, cols - full);
      }
      sum = hn::Add(sum, v);
    }
    const V mean = hn::Set(d, SumOf(d, sum) / static_cast<float>(cols));
    V squares = hn::Zero(d);
    for (std::size_t c = 0; c < full; c += lanes) {
      const V centred = hn::Sub(hn::LoadU(d, row + c), mean);
      squares = hn::MulAdd(centred, centred, squares);
    }
    if (full < cols) {
      // Padding with the mean makes the padded lanes contribute zero.
      const V centred = hn::Sub(LoadTail(d, row + full, cols - full, hn::GetLane(mean)), mean);
      squares = hn::MulAdd(centred, centred, squares);
    }
    const float variance = SumOf(d, squares) / static_cast<float>(cols);
    const V inv_std = hn::Set(d, 1.0f / std::sqrt(variance + eps));
    for (std::size_t c = 0; c < full; c += lanes) {
      const V normed = hn::Mul(hn::Sub(hn::LoadU(d, row + c), mean), inv_std);
      hn::StoreU(hn::MulAdd(normed, hn::LoadU(d, gamma + c), hn::LoadU(d, beta + c)), d, row + c);
    }
    if (full < cols) {
      const std::size_t n = cols - full;
      const V normed = hn::Mul(hn::Sub(LoadTail(d, row + full, n, 0.0f), mean), inv_std);
      StoreTail(
          d,
          hn::MulAdd(normed, LoadTail(d, gamma + full, n, 0.0f), LoadTail(d, beta + full, n, 0.0f)),
          row + full, n);
    }
  }
}

void SoftmaxRows(float* s, std::size_t rows, std::size_t cols, std::size_t ld) {
  const D d;
  const std::size_t lanes = hn::Lanes(d);
  const std::size_t full = cols - cols % lanes;
  const float lowest = -HUGE_VALF;
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = s + r * ld;
    V top = hn::Set(d, lowest);
    for (std::size_t c = 0; c < full; c += lanes) top = hn::Max(top, hn::LoadU(d, row + c));
    if (full < cols) top = hn::Max(top, LoadTail(d, row + full, cols - full, lowest));
    const V max = hn::MaxOfLanes(d, top);
    V sum = hn::Zero(d);
    for (std::size_t c = 0; c < full; c += lanes) {
      const V e = hn::Exp(d, hn::Sub(hn::LoadU(d, row + c), max));
      hn::StoreU(e, d, row + c);
      sum = hn::Add(sum, e);
    }
    if (full < cols) {
      // Padded with the maximum, the extra lanes would add exp(0); zero them instead.
      const std::size_t n = cols - full;
      const V e = hn::Exp(d, hn::Sub(LoadTail(d, row + full, n, lowest), max));
      StoreTail(d, e, row + full, n);
      sum = hn::Add(sum, hn::IfThenElseZero(hn::FirstN(d, n), e));
    }
    const V inv = hn::Set(d, 1.0f / SumOf(d, sum));
    for (std::size_t c = 0; c < full; c += lanes)
      hn::StoreU(hn::Mul(hn::LoadU(d, row + c), inv), d, row + c);
    if (full < cols)
      StoreTail(d, hn::Mul(LoadTail(d, row + full, cols - full, 0.0f), inv), row + full,
                cols - full);
  }
}

void L2NormalizeRows(float* x, std::size_t rows, std::size_t cols) {
  const D d;
  const std::size_t lanes = hn::Lanes(d);
  const std::size_t full = cols - cols % lanes;
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    V squares = hn::Zero(d);
    for (std::size_t c = 0; c < full; c += lanes) {
      const V v = hn::LoadU(d, row + c);
      squares = hn::MulAdd(v, v, squares);
    }
    if (full < cols) {
      const V v = LoadTail(d, row + full, cols - full, 0.0f);
      squares = hn::MulAdd(v, v, squares);
    }
    const V inv = hn::Set(d, 1.0f / std::max(std::sqrt(SumOf(d, squares)), 1e-12f));
    for (std::size_t c = 0; c < full; c += lanes)
      hn::StoreU(hn::Mul(hn::LoadU(d, row + c), inv), d, row + c);
    if (full < cols)
      StoreTail(d, hn::Mul(LoadTail(d, row + full, cols - full, 0.0f), inv), row + full,
                cols - full);
  }
}

}  // namespace rank_rerank::backend::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace rank_rerank::backend::cpu {

HWY_EXPORT(BiasActivation);
HWY_EXPORT(LayerNormRows);
HWY_EXPORT(SoftmaxRows);
HWY_EXPORT(L2NormalizeRows);

void bias_activation(float* y, std::size_t rows, std::size_t cols, std::size_t ld,
                     const float* bias, Activation activation) {
  HWY_DYNAMIC_DISPATCH(BiasActivation)(y, rows, cols, ld, bias, activation);
}

void layernorm_rows(float* x, const float* residual, std::size_t rows, std::size_t cols,
                    const float* gamma, const float* beta, float eps) {
  HWY_DYNAMIC_DISPATCH(LayerNormRows)(x, residual, rows, cols, gamma, beta, eps);
}

void softmax_rows(float* s, std::size_t rows, std::size_t cols, std::size_t ld) {
  HWY_DYNAMIC_DISPATCH(SoftmaxRows)(s, rows, cols, ld);
}

void l2_normalize_rows(float* x, std::size_t rows, std::size_t cols) {
  HWY_DYNAMIC_DISPATCH(L2NormalizeRows)(x, rows, cols);
}

}  // namespace rank_rerank::backend::cpu
#endif
