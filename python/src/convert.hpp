// Conversions between Python arrays and rank_rerank views, shared by every binding file.
// Arrays arrive through nanobind's ndarray caster: numpy, torch (CPU), any DLPack or
// buffer-protocol object, without a copy when dtype and layout already match.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/tensor.hpp"
#include "rank_rerank/topk.hpp"

namespace rank_rerank::python {

namespace nb = nanobind;

using FloatVector = nb::ndarray<const float, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using FloatMatrix = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using FloatTensor3 = nb::ndarray<const float, nb::ndim<3>, nb::c_contig, nb::device::cpu>;
using MutableFloatMatrix = nb::ndarray<float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using IndexVector = nb::ndarray<const std::int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

// Numpy arrays handed back to Python own a heap buffer through a capsule.
template <class T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T>&& values,
                                   std::initializer_list<std::size_t> shape) {
  auto* owned = new std::vector<T>(std::move(values));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::ndarray<nb::numpy, T>(owned->data(), shape, owner);
}
template <class T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T>&& values) {
  const std::size_t n = values.size();
  return to_numpy(std::move(values), {n});
}

// Top-k rows (k entries each) as (indices int64 [rows, k], scores float32 [rows, k]).
inline nb::tuple ranked_rows_to_numpy(const std::vector<std::vector<Ranked>>& ranked,
                                      std::size_t k) {
  std::vector<std::int64_t> indices;
  std::vector<float> scores;
  for (const auto& row : ranked)
    for (const Ranked& r : row) {
      indices.push_back(r.index);
      scores.push_back(r.score);
    }
  const std::size_t rows = ranked.size();
  return nb::make_tuple(to_numpy(std::move(indices), {rows, k}),
                        to_numpy(std::move(scores), {rows, k}));
}

inline MatrixView matrix_view(const FloatMatrix& a) { return {a.data(), a.shape(0), a.shape(1)}; }
inline TokenMatrix token_matrix(const FloatMatrix& a) { return TokenMatrix::from(matrix_view(a)); }

// Float rows given as a Python list of lists (the seed crate's Vec<Vec<f32>> form), copied
// into contiguous storage; every row must have the same length.
struct OwnedMatrix {
  std::vector<float> values;
  std::size_t rows = 0;
  std::size_t cols = 0;
  MatrixView view() const { return {values.data(), rows, cols}; }
};
inline OwnedMatrix owned_matrix(const std::vector<std::vector<float>>& rows, const char* what) {
  OwnedMatrix m;
  m.rows = rows.size();
  m.cols = rows.empty() ? 0 : rows.front().size();
  m.values.reserve(m.rows * m.cols);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != m.cols)
      throw_invalid(std::string(what) + ": ragged rows, row 0 has " + std::to_string(m.cols) +
                    " values but row " + std::to_string(i) + " has " +
                    std::to_string(rows[i].size()));
    m.values.insert(m.values.end(), rows[i].begin(), rows[i].end());
  }
  return m;
}

}  // namespace rank_rerank::python
