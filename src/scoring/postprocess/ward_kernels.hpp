// SIMD inner loops of the Ward nearest-neighbour chain (Highway, dispatched at run time). Every
// target computes the same IEEE operations in the same order, so results do not depend on the
// CPU.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rank_rerank::detail {

// First index of the smallest value below `bound` in row[0, n), or -1 when none is below it:
// what a left-to-right scan keeping strictly smaller values finds. NaN never wins.
std::ptrdiff_t first_min_below(const double* row, std::size_t n, double bound);

// After merging clusters x and y (sizes nx, ny, at distance d_xy) into slot y: for every live
// cluster i != y (size[i] > 0; size[x] is already 0), row_y[i] = scipy's Ward update
//   sqrt((s_i + nx) t d_xi^2 + (s_i + ny) t d_yi^2 - s_i t d_xy^2),  t = 1 / (nx + ny + s_i)
// evaluated left to right as scipy writes it. Other entries of row_y are left as they are.
void ward_update_row(const double* row_x, double* row_y, const std::int32_t* size, std::size_t n,
                     std::size_t y, std::int32_t nx, std::int32_t ny, double d_xy);

}  // namespace rank_rerank::detail
