// Array arguments taken as plain Python objects, so that any array-like works and a wrong shape
// is a ValueError naming the argument (not a TypeError about overloads). numpy arrays, torch CPU
// tensors and other DLPack / buffer objects of the right dtype and layout pass without a copy;
// other dtypes, non-contiguous arrays and (nested) Python lists are converted once.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <span>
#include <string>

#include "rank_rerank/error.hpp"
#include "rank_rerank/tensor.hpp"

namespace rank_rerank::python {

namespace nb = nanobind;

template <class T>
using CpuArray = nb::ndarray<const T, nb::c_contig, nb::device::cpu>;

template <class T>
const char* numpy_dtype_name();
template <>
inline const char* numpy_dtype_name<float>() {
  return "float32";
}
template <>
inline const char* numpy_dtype_name<double>() {
  return "float64";
}
template <>
inline const char* numpy_dtype_name<std::int64_t>() {
  return "int64";
}

template <class T>
std::string shape_string(const CpuArray<T>& a) {
  std::string s = "(";
  for (std::size_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// The object as a C-contiguous CPU array of T, converting through numpy when needed.
template <class T>
CpuArray<T> array_arg(nb::handle obj, const char* name) {
  CpuArray<T> a;
  if (nb::try_cast(obj, a, true)) return a;
  nb::object converted = nb::module_::import_("numpy").attr("ascontiguousarray")(
      obj, nb::arg("dtype") = numpy_dtype_name<T>());
  if (!nb::try_cast(converted, a, false))
    throw_invalid(std::string(name) + " must be convertible to a " + numpy_dtype_name<T>() +
                  " array");
  return a;
}

template <class T>
void expect_ndim(const CpuArray<T>& a, std::size_t ndim, const char* name, const char* layout) {
  if (a.ndim() != ndim)
    throw_invalid(std::string(name) + " must be " + std::to_string(ndim) + "-D " + layout +
                  ", got shape " + shape_string(a));
}

inline MatrixView matrix_arg(const CpuArray<float>& a, const char* name, const char* layout) {
  expect_ndim(a, 2, name, layout);
  return {a.data(), a.shape(0), a.shape(1)};
}

template <class T>
std::span<const T> vector_arg(const CpuArray<T>& a, const char* name, const char* layout) {
  expect_ndim(a, 1, name, layout);
  return {a.data(), a.shape(0)};
}

}  // namespace rank_rerank::python
