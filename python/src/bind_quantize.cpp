// Compressing document vectors (float16, bfloat16, int8 + scales, packed bits) and decoding
// them back to float32.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>

#include <cstring>
#include <optional>

#include "bindings.hpp"
#include "convert.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/quantize.hpp"
#include "token_args.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace rank_rerank::python {

namespace {

DType parse_target(const std::string& name) {
  if (name == "float16") return DType::f16;
  if (name == "bfloat16") return DType::bf16;
  if (name == "int8") return DType::i8;
  if (name == "bit") return DType::bit;
  throw_invalid("dtype: expected 'float16', 'bfloat16', 'int8' or 'bit', got '" + name + "'");
}

template <class T>
nb::object codes_array(const QuantizedTokens& q, std::size_t width) {
  std::vector<T> values(q.bytes.size() / sizeof(T));
  std::memcpy(values.data(), q.bytes.data(), q.bytes.size());
  return nb::cast(to_numpy(std::move(values), {q.rows, width}));
}

}  // namespace

void bind_quantize(nb::module_& m) {
  m.def(
      "quantize",
      [](nb::handle x, const std::string& dtype) {
        const DType target = parse_target(dtype);
        const FloatArg in = float_arg(x, 2, "x");
        const MatrixView view{in.data, in.shape[0], in.shape[1]};
        QuantizedTokens q;
        {
          nb::gil_scoped_release release;
          q = quantize(view, target);
        }
        nb::object codes;
        nb::object scales = nb::none();
        switch (target) {
          case DType::f16:
            codes = codes_array<std::uint16_t>(q, q.dim).attr("view")("float16");
            break;
          case DType::bf16:
            codes = codes_array<std::uint16_t>(q, q.dim);
            break;
          case DType::i8:
            codes = codes_array<std::int8_t>(q, q.dim);
            scales = nb::cast(to_numpy(std::vector<float>(q.scales)));
            break;
          default:
            codes = codes_array<std::uint8_t>(q, row_bytes(DType::bit, q.dim));
            break;
        }
        return std::make_pair(codes, scales);
      },
      "x"_a, "dtype"_a,
      "Compress float rows [n, d] for storage: returns (codes, scales). float16 -> numpy\n"
      "float16 [n, d]; bfloat16 -> uint16 bit patterns [n, d]; int8 -> int8 [n, d] with\n"
      "float32 scales [n] (value = code * scale, scale = max|x| / 127); bit -> uint8\n"
      "[n, ceil(d/8)] as numpy.packbits(x > 0, axis=-1). scales is None except for int8.");
  m.def(
      "dequantize",
      [](nb::handle codes, const std::string& dtype, nb::handle scales,
         std::optional<std::size_t> dim) {
        const TokenArg t = token_arg(codes, dtype, scales, dim, "codes");
        std::vector<float> out;
        {
          nb::gil_scoped_release release;
          if (t.matrix.rows > 0) validate(t.matrix, "codes");
          out = dequantize(t.matrix);
        }
        return to_numpy(std::move(out), {t.matrix.rows, t.matrix.dim});
      },
      "codes"_a, "dtype"_a = "auto", "scales"_a = nb::none(), "dim"_a = nb::none(),
      "Decode stored rows back to float32 [n, d]; dtype, scales and dim as for maxsim.");
}

}  // namespace rank_rerank::python
