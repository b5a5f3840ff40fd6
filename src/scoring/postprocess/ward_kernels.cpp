// Highway implementations of the Ward chain's row scan and distance update (see
// ward_kernels.hpp). Compiled with -ffp-contract=off: a fused multiply-add would round
// differently from scipy.
#include "scoring/postprocess/ward_kernels.hpp"

#include <cmath>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "scoring/postprocess/ward_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace rank_rerank::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

std::ptrdiff_t FirstMinBelow(const double* row, std::size_t n, double bound) {
  const hn::ScalableTag<double> d;
  const std::size_t lanes = hn::Lanes(d);
  // Running minimum by comparison, so a NaN in the row is never taken.
  auto low = hn::Set(d, bound);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto v = hn::LoadU(d, row + i);
    low = hn::IfThenElse(hn::Lt(v, low), v, low);
  }
  double smallest = hn::GetLane(hn::MinOfLanes(d, low));
  for (; i < n; ++i)
    if (row[i] < smallest) smallest = row[i];
  if (!(smallest < bound)) return -1;
  const auto target = hn::Set(d, smallest);
  for (i = 0; i + lanes <= n; i += lanes) {
    const std::intptr_t hit = hn::FindFirstTrue(d, hn::Eq(hn::LoadU(d, row + i), target));
    if (hit >= 0) return static_cast<std::ptrdiff_t>(i) + hit;
  }
  for (; i < n; ++i)
    if (row[i] == smallest) return static_cast<std::ptrdiff_t>(i);
  return -1;
}

double ScalarWard(double d_xi, double d_yi, double d_xy, std::int32_t nx, std::int32_t ny,
                  std::int32_t ni) {
  const double t = 1.0 / (nx + ny + ni);
  return std::sqrt((ni + nx) * t * d_xi * d_xi + (ni + ny) * t * d_yi * d_yi -
                   ni * t * d_xy * d_xy);
}

void WardUpdateRow(const double* row_x, double* row_y, const std::int32_t* size, std::size_t n,
                   std::size_t y, std::int32_t nx, std::int32_t ny, double d_xy) {
  const hn::ScalableTag<double> d;
  const hn::Rebind<std::int32_t, decltype(d)> di;
  const std::size_t lanes = hn::Lanes(d);
  const double kept_y = row_y[y];
  const auto one = hn::Set(d, 1.0);
  const auto xy = hn::Set(d, d_xy);
  const auto add_x = hn::Set(di, nx);
  const auto add_y = hn::Set(di, ny);
  const auto add_xy = hn::Set(di, nx + ny);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto s = hn::LoadU(di, size + i);
    const auto t = hn::Div(one, hn::PromoteTo(d, hn::Add(add_xy, s)));
    const auto d_xi = hn::LoadU(d, row_x + i);
    const auto d_yi = hn::LoadU(d, row_y + i);
    const auto a = hn::Mul(hn::Mul(hn::Mul(hn::PromoteTo(d, hn::Add(s, add_x)), t), d_xi), d_xi);
    const auto b = hn::Mul(hn::Mul(hn::Mul(hn::PromoteTo(d, hn::Add(s, add_y)), t), d_yi), d_yi);
    const auto s_i = hn::PromoteTo(d, s);
    const auto c = hn::Mul(hn::Mul(hn::Mul(s_i, t), xy), xy);
    const auto live = hn::Gt(s_i, hn::Zero(d));
    hn::BlendedStore(hn::Sqrt(hn::Sub(hn::Add(a, b), c)), live, d, row_y + i);
  }
  for (; i < n; ++i)
    if (size[i] > 0) row_y[i] = ScalarWard(row_x[i], row_y[i], d_xy, nx, ny, size[i]);
  row_y[y] = kept_y;
}

}  // namespace rank_rerank::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace rank_rerank::detail {

HWY_EXPORT(FirstMinBelow);
HWY_EXPORT(WardUpdateRow);

std::ptrdiff_t first_min_below(const double* row, std::size_t n, double bound) {
  return HWY_DYNAMIC_DISPATCH(FirstMinBelow)(row, n, bound);
}

void ward_update_row(const double* row_x, double* row_y, const std::int32_t* size, std::size_t n,
                     std::size_t y, std::int32_t nx, std::int32_t ny, double d_xy) {
  HWY_DYNAMIC_DISPATCH(WardUpdateRow)(row_x, row_y, size, n, y, nx, ny, d_xy);
}

}  // namespace rank_rerank::detail
#endif
