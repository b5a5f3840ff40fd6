#include "token_args.hpp"

#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <cstring>
#include <limits>

#include "rank_rerank/error.hpp"
#include "rank_rerank/quantize.hpp"

namespace rank_rerank::python {

namespace {

using namespace nb::literals;
using AnyArray = nb::ndarray<nb::ro>;
using dtype_code = nb::dlpack::dtype_code;

enum class Requested { automatic, f32, f16, bf16, i8, bit };

Requested parse_requested(const std::string& s) {
  if (s == "auto") return Requested::automatic;
  if (s == "float32") return Requested::f32;
  if (s == "float16") return Requested::f16;
  if (s == "bfloat16") return Requested::bf16;
  if (s == "int8") return Requested::i8;
  if (s == "bit") return Requested::bit;
  throw_invalid(
      "dtype: expected one of 'auto', 'float32', 'float16', 'bfloat16', 'int8', "
      "'bit', got '" +
      s + "'");
}

// The numpy dtype a list is read as for each requested storage.
const char* numpy_name(Requested r) {
  switch (r) {
    case Requested::f16:
      return "float16";
    case Requested::bf16:
      return "uint16";
    case Requested::i8:
      return "int8";
    case Requested::bit:
      return "uint8";
    default:
      return "float32";
  }
}

nb::module_ numpy() { return nb::module_::import_("numpy"); }

std::string shape_text(const AnyArray& a) {
  std::string s = "(";
  for (std::size_t i = 0; i < a.ndim(); ++i) {
    if (i) s += ", ";
    s += std::to_string(a.shape(i));
  }
  if (a.ndim() == 1) s += ",";
  s += ")";
  return s;
}

std::string dtype_text(nb::dlpack::dtype t) {
  std::string kind;
  switch (static_cast<dtype_code>(t.code)) {
    case dtype_code::Int:
      kind = "int";
      break;
    case dtype_code::UInt:
      kind = "uint";
      break;
    case dtype_code::Float:
      kind = "float";
      break;
    case dtype_code::Bfloat:
      kind = "bfloat";
      break;
    case dtype_code::Complex:
      kind = "complex";
      break;
    case dtype_code::Bool:
      return "bool";
  }
  return kind + std::to_string(t.bits);
}

bool is(nb::dlpack::dtype t, dtype_code code, int bits) {
  return t.code == static_cast<std::uint8_t>(code) && t.bits == bits && t.lanes == 1;
}

bool c_contiguous(const AnyArray& a) {
  std::int64_t expected = 1;
  for (std::size_t i = a.ndim(); i-- > 0;) {
    if (a.shape(i) != 1 && a.stride(i) != expected) return false;
    expected *= static_cast<std::int64_t>(a.shape(i));
  }
  return true;
}

// Wraps `obj` as an array without copying when it already is one; otherwise asks numpy.
AnyArray as_array(nb::object& obj, const char* numpy_dtype) {
  AnyArray arr;
  if (nb::try_cast(obj, arr, false)) return arr;
  obj = numpy().attr("asarray")(obj, "dtype"_a = numpy_dtype);
  return nb::cast<AnyArray>(obj);
}

// The storage dtype an array is read as, or nullopt when it must first become float32.
std::optional<DType> classify(nb::dlpack::dtype t, Requested req, const std::string& name) {
  const bool any_float = req == Requested::automatic || req == Requested::f32;
  auto mismatch = [&](const char* hint) -> std::optional<DType> {
    throw_invalid(name + ": a " + dtype_text(t) + " array does not fit the requested dtype; " +
                  hint);
  };
  if (is(t, dtype_code::Float, 32)) {
    if (any_float) return DType::f32;
    return mismatch("pass float32 rows without dtype=, or compress them with quantize() first");
  }
  if (is(t, dtype_code::Float, 16)) {
    if (req == Requested::automatic || req == Requested::f16) return DType::f16;
    return mismatch("float16 arrays are read as float16");
  }
  if (is(t, dtype_code::Bfloat, 16)) {
    if (req == Requested::automatic || req == Requested::bf16) return DType::bf16;
    return mismatch("bfloat16 arrays are read as bfloat16");
  }
  if (is(t, dtype_code::UInt, 16)) {
    if (req == Requested::bf16) return DType::bf16;
    if (req == Requested::f16) return DType::f16;
    return mismatch("say dtype='bfloat16' (or 'float16') to read uint16 values as bit patterns");
  }
  if (is(t, dtype_code::Int, 8)) {
    if (req == Requested::automatic || req == Requested::i8) return DType::i8;
    return mismatch("int8 arrays are read as int8 with one scale per row (scales=)");
  }
  if (is(t, dtype_code::UInt, 8)) {
    if (req == Requested::bit) return DType::bit;
    return mismatch("say dtype='bit' (and dim=) to read uint8 rows as packed bits");
  }
  if (any_float && t.code != static_cast<std::uint8_t>(dtype_code::Complex)) return std::nullopt;
  return mismatch("use a float32, float16, bfloat16, int8 or bit-packed uint8 array");
}

void make_contiguous(nb::object& obj, AnyArray& arr) {
  if (c_contiguous(arr)) return;
  obj = nb::hasattr(obj, "contiguous") ? obj.attr("contiguous")()
                                       : numpy().attr("ascontiguousarray")(obj);
  arr = nb::cast<AnyArray>(obj);
}

}  // namespace

std::size_t FloatArg::size() const {
  std::size_t n = 1;
  for (const std::size_t s : shape) n *= s;
  return n;
}

TokenArg token_arg(nb::handle obj, const std::string& dtype, nb::handle scales,
                   std::optional<std::size_t> dim, const char* what, std::size_t ndim) {
  const std::string name(what);
  const Requested req = parse_requested(dtype);
  TokenArg out;
  out.keep = nb::borrow(obj);
  AnyArray arr = as_array(out.keep, numpy_name(req));
  if (arr.device_type() != nb::device::cpu::value)
    throw_invalid(name + ": the array lives on an accelerator; move it to the CPU first");
  // An empty list has no dimension yet: an empty document whose dim the caller supplies.
  if (arr.ndim() == 1 && arr.shape(0) == 0 && ndim == 2) {
    out.matrix = TokenMatrix{DType::f32, nullptr, 0, dim.value_or(0)};
    out.shape = {0};
    return out;
  }
  if (arr.ndim() != ndim)
    throw_invalid(name + ": expected a " + std::to_string(ndim) + "-D array (" +
                  (ndim == 3 ? "[docs, max_len, dim]" : "[tokens, dim]") + "), got shape " +
                  shape_text(arr));
  std::optional<DType> storage = classify(arr.dtype(), req, name);
  if (!storage) {
    out.keep = numpy().attr("asarray")(out.keep, "dtype"_a = "float32");
    arr = nb::cast<AnyArray>(out.keep);
    storage = DType::f32;
  }
  make_contiguous(out.keep, arr);

  std::size_t rows = 1;
  for (std::size_t i = 0; i + 1 < ndim; ++i) {
    rows *= arr.shape(i);
    out.shape.push_back(arr.shape(i));
  }
  const std::size_t width = arr.shape(ndim - 1);
  std::size_t logical_dim = width;
  if (*storage == DType::bit) {
    logical_dim = dim.value_or(8 * width);
    if ((logical_dim + 7) / 8 != width)
      throw_invalid(name + ": bit rows of " + std::to_string(width) +
                    " bytes cannot hold dim=" + std::to_string(logical_dim) +
                    " (expected ceil(dim / 8) = " + std::to_string((logical_dim + 7) / 8) +
                    " bytes)");
  } else if (dim && *dim != width) {
    throw_invalid(name + ": dim=" + std::to_string(*dim) + " but the rows have " +
                  std::to_string(width) + " values");
  }
  out.matrix = TokenMatrix{*storage, arr.data(), rows, logical_dim};

  if (*storage == DType::i8) {
    if (scales.is_none())
      throw_invalid(name + ": int8 rows need scales= (one float per row, value = byte * scale)");
    FloatArg s = float_arg(scales, std::numeric_limits<std::size_t>::max(), "scales");
    if (s.size() != rows)
      throw_invalid("scales: got " + std::to_string(s.size()) + " values for " +
                    std::to_string(rows) + " int8 rows of " + name);
    out.keep_scales = s.keep;
    out.matrix.scales = s.data;
  } else if (!scales.is_none()) {
    throw_invalid("scales: only int8 rows take scales, but " + name + " is " +
                  std::string(dtype_name(*storage)));
  }
  return out;
}

TokenArg query_arg(nb::handle obj, DType doc_dtype, std::size_t doc_dim, const char* what) {
  nb::object held = nb::borrow(obj);
  AnyArray arr;
  if (nb::try_cast(held, arr, false)) {
    const auto t = arr.dtype();
    if (doc_dtype == DType::bit && is(t, dtype_code::UInt, 8))
      return token_arg(obj, "bit", nb::none(), doc_dim, what);
    if (is(t, dtype_code::Float, 16) || is(t, dtype_code::Bfloat, 16)) {
      // Kernels take float32 (or bit) queries: decode half-precision queries once.
      TokenArg half = token_arg(obj, "auto", nb::none(), std::nullopt, what);
      TokenArg out;
      out.shape = half.shape;
      out.owned.resize(half.matrix.rows * half.matrix.dim * sizeof(float));
      auto* values = reinterpret_cast<float*>(out.owned.data());
      dequantize(half.matrix, MutableMatrixView{values, half.matrix.rows, half.matrix.dim});
      out.matrix = TokenMatrix{DType::f32, values, half.matrix.rows, half.matrix.dim};
      return out;
    }
  }
  return token_arg(numpy().attr("asarray")(held, "dtype"_a = "float32"), "float32", nb::none(),
                   std::nullopt, what);
}

namespace {

// Converts every item of `seq` with `convert(item, scale, name)` and packs the rows back to
// back; the first non-empty item fixes dtype and dimension for all.
template <class Convert>
PackedArg pack_items(nb::handle seq, nb::handle scales, std::optional<std::size_t> dim,
                     const char* what, Convert convert) {
  PackedArg out;
  out.offsets.push_back(0);
  std::vector<TokenArg> items;
  std::vector<nb::object> scale_items;
  if (!scales.is_none()) {
    for (nb::handle s : nb::iter(scales)) scale_items.push_back(nb::borrow(s));
  }
  std::size_t index = 0;
  for (nb::handle item : nb::iter(seq)) {
    const std::string name = std::string(what) + "[" + std::to_string(index) + "]";
    nb::handle s = nb::none();
    if (!scales.is_none()) {
      if (index >= scale_items.size())
        throw_invalid("scales: has " + std::to_string(scale_items.size()) +
                      " entries but there are more documents");
      s = scale_items[index];
    }
    items.push_back(convert(item, s, name));
    ++index;
  }
  if (!scales.is_none() && scale_items.size() != items.size())
    throw_invalid("scales: has " + std::to_string(scale_items.size()) + " entries for " +
                  std::to_string(items.size()) + " documents");
  // The first non-empty document fixes dtype and dimension for all.
  TokenMatrix first{DType::f32, nullptr, 0, dim.value_or(0)};
  for (const TokenArg& t : items) {
    if (t.matrix.rows > 0) {
      first = t.matrix;
      break;
    }
  }
  std::size_t total_rows = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const TokenMatrix& m = items[i].matrix;
    if (m.rows == 0) {
      out.offsets.push_back(out.offsets.back());
      continue;
    }
    if (m.dtype != first.dtype || m.dim != first.dim)
      throw_invalid(
          std::string(what) + "[" + std::to_string(i) + "]: " + std::string(dtype_name(m.dtype)) +
          " rows of dim " + std::to_string(m.dim) + " differ from the first document's " +
          std::string(dtype_name(first.dtype)) + " rows of dim " + std::to_string(first.dim));
    total_rows += m.rows;
    out.offsets.push_back(static_cast<std::int64_t>(total_rows));
  }
  const std::size_t bytes = row_bytes(first.dtype, first.dim);
  out.tokens.owned.resize(total_rows * bytes);
  if (first.dtype == DType::i8) out.tokens.owned_scales.resize(total_rows);
  std::size_t row = 0;
  for (const TokenArg& t : items) {
    const TokenMatrix& m = t.matrix;
    if (m.rows == 0) continue;
    std::memcpy(out.tokens.owned.data() + row * bytes, m.data, m.rows * bytes);
    if (m.scales)
      std::memcpy(out.tokens.owned_scales.data() + row, m.scales, m.rows * sizeof(float));
    row += m.rows;
  }
  out.tokens.matrix =
      TokenMatrix{first.dtype, out.tokens.owned.data(), total_rows, first.dim,
                  first.dtype == DType::i8 ? out.tokens.owned_scales.data() : nullptr};
  out.tokens.shape = {total_rows};
  return out;
}

}  // namespace

PackedArg packed_list_arg(nb::handle seq, const std::string& dtype, nb::handle scales,
                          std::optional<std::size_t> dim, const char* what) {
  return pack_items(seq, scales, dim, what,
                    [&](nb::handle item, nb::handle scale, const std::string& name) {
                      return token_arg(item, dtype, scale, dim, name.c_str());
                    });
}

PackedArg packed_query_list(nb::handle seq, DType doc_dtype, std::size_t doc_dim,
                            const char* what) {
  return pack_items(seq, nb::none(), std::nullopt, what,
                    [&](nb::handle item, nb::handle, const std::string& name) {
                      return query_arg(item, doc_dtype, doc_dim, name.c_str());
                    });
}

FloatArg float_arg(nb::handle obj, std::size_t ndim, const char* what) {
  FloatArg out;
  out.keep = numpy().attr("ascontiguousarray")(obj, "dtype"_a = "float32");
  const auto arr = nb::cast<nb::ndarray<const float, nb::c_contig, nb::device::cpu>>(out.keep);
  if (ndim != std::numeric_limits<std::size_t>::max() && arr.ndim() != ndim)
    throw_invalid(std::string(what) + ": expected a " + std::to_string(ndim) + "-D array, got " +
                  std::to_string(arr.ndim()) + " dimensions");
  out.data = arr.data();
  for (std::size_t i = 0; i < arr.ndim(); ++i) out.shape.push_back(arr.shape(i));
  return out;
}

IndexArg index_arg(nb::handle obj, const char* what) {
  nb::object raw = numpy().attr("asarray")(obj);
  const std::string kind = nb::cast<std::string>(raw.attr("dtype").attr("kind"));
  const auto size = nb::cast<std::size_t>(raw.attr("size"));
  if (size > 0 && kind != "i" && kind != "u")
    throw_invalid(std::string(what) + ": expected integers, got an array of dtype " +
                  nb::cast<std::string>(raw.attr("dtype").attr("name")));
  IndexArg out;
  out.keep = numpy().attr("ascontiguousarray")(raw, "dtype"_a = "int64");
  const auto arr =
      nb::cast<nb::ndarray<const std::int64_t, nb::c_contig, nb::device::cpu>>(out.keep);
  if (arr.ndim() != 1)
    throw_invalid(std::string(what) + ": expected a 1-D array, got " + std::to_string(arr.ndim()) +
                  " dimensions");
  out.values = {arr.data(), arr.shape(0)};
  return out;
}

MaskArg mask_arg(nb::handle obj, const char* what) {
  MaskArg out;
  nb::module_ np = numpy();
  // Non-zero means valid, whatever the dtype (bool, int or float masks as PyLate passes them).
  out.keep = np.attr("ascontiguousarray")(np.attr("not_equal")(obj, 0), "dtype"_a = "uint8");
  const auto arr =
      nb::cast<nb::ndarray<const std::uint8_t, nb::c_contig, nb::device::cpu>>(out.keep);
  std::size_t n = 1;
  for (std::size_t i = 0; i < arr.ndim(); ++i) {
    out.shape.push_back(arr.shape(i));
    n *= arr.shape(i);
  }
  if (arr.ndim() != 2)
    throw_invalid(std::string(what) + ": expected a 2-D [docs, max_len] mask, got " +
                  std::to_string(arr.ndim()) + " dimensions");
  out.values = {arr.data(), n};
  return out;
}

Similarity parse_similarity(const std::string& name) {
  if (name == "dot") return Similarity::dot;
  if (name == "cosine") return Similarity::cosine;
  throw_invalid("similarity: expected 'dot' or 'cosine', got '" + name + "'");
}

PaddingPolicy parse_padding(const std::string& name) {
  if (name == "ignore") return PaddingPolicy::ignore;
  if (name == "zero_floor") return PaddingPolicy::zero_floor;
  throw_invalid("padding: expected 'ignore' or 'zero_floor', got '" + name + "'");
}

MaxSimOptions make_options(const std::string& similarity, const FloatArg* weights,
                           std::size_t num_threads) {
  MaxSimOptions options;
  options.similarity = parse_similarity(similarity);
  if (weights) options.query_weights = weights->span();
  options.num_threads = num_threads;
  return options;
}

}  // namespace rank_rerank::python
