// Python arguments of the scoring functions turned into rank_rerank views: token matrices in
// any storage dtype (numpy, torch via DLPack, buffer objects, nested lists), float and index
// vectors, and lists of documents packed into one matrix. Arrays already stored as wanted are
// viewed in place; everything else is converted once through numpy.
#pragma once

#include <nanobind/nanobind.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rank_rerank/maxsim.hpp"
#include "rank_rerank/tensor.hpp"

namespace rank_rerank::python {

namespace nb = nanobind;

// Token vectors taken from one Python object; `matrix` views memory owned by `keep` or `owned`.
struct TokenArg {
  nb::object keep;
  nb::object keep_scales;
  std::vector<std::uint8_t> owned;  // decoded or packed rows when no array holds them
  std::vector<float> owned_scales;  // int8 scales of packed rows
  TokenMatrix matrix;
  std::vector<std::size_t> shape;  // leading shape of the array without the last axis
};

// Storage of document rows: "auto" (from the array's dtype), "float32", "float16", "bfloat16"
// (also accepts uint16 bit patterns), "int8" (needs scales) or "bit" (uint8 packbits rows; dim
// gives the number of dimensions, default 8 * bytes per row).
// `ndim` is 2 for [tokens, dim] and 3 for padded [docs, max_len, dim].
TokenArg token_arg(nb::handle obj, const std::string& dtype, nb::handle scales,
                   std::optional<std::size_t> dim, const char* what, std::size_t ndim = 2);

// A query for documents of dtype `doc_dtype`: float32 rows, except that a uint8 query against
// bit documents is itself bit-packed; float16 / bfloat16 queries are decoded to float32.
TokenArg query_arg(nb::handle obj, DType doc_dtype, std::size_t doc_dim, const char* what);

// Documents given as a Python sequence of [tokens_i, dim] arrays, packed back to back.
// `scales` is None or a sequence of per-document scale arrays (int8 documents).
struct PackedArg {
  TokenArg tokens;
  std::vector<std::int64_t> offsets;
  PackedTokens view() const { return {tokens.matrix, offsets}; }
};
PackedArg packed_list_arg(nb::handle seq, const std::string& dtype, nb::handle scales,
                          std::optional<std::size_t> dim, const char* what);
// Queries given as a sequence of [tokens_i, dim] arrays, each read as query_arg does.
PackedArg packed_query_list(nb::handle seq, DType doc_dtype, std::size_t doc_dim, const char* what);

// Contiguous 1-D / N-D float32 or int64 data from any array-like (a list included).
struct FloatArg {
  nb::object keep;
  const float* data = nullptr;
  std::vector<std::size_t> shape;
  std::size_t size() const;
  std::span<const float> span() const { return {data, size()}; }
};
FloatArg float_arg(nb::handle obj, std::size_t ndim, const char* what);

struct IndexArg {
  nb::object keep;
  std::span<const std::int64_t> values;
};
IndexArg index_arg(nb::handle obj, const char* what);

// A 0/1 mask of any numeric or bool dtype (non-zero = valid) as uint8.
struct MaskArg {
  nb::object keep;
  std::span<const std::uint8_t> values;
  std::vector<std::size_t> shape;
};
MaskArg mask_arg(nb::handle obj, const char* what);

Similarity parse_similarity(const std::string& name);
PaddingPolicy parse_padding(const std::string& name);

// Options shared by the scoring bindings; weights must outlive the options.
MaxSimOptions make_options(const std::string& similarity, const FloatArg* weights,
                           std::size_t num_threads);

}  // namespace rank_rerank::python
