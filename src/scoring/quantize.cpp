// Scalar reference conversions between float32 and the compressed document dtypes. These run
// once per corpus (quantize) or on slow paths (dequantize); the MaxSim kernels decode on the fly
// with SIMD instead.
#include "rank_rerank/quantize.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "rank_rerank/error.hpp"

namespace rank_rerank {

namespace {

// Rounds `value` (an integer of which the low `shift` bits are to be dropped) to nearest even.
std::uint32_t round_shift_even(std::uint32_t value, unsigned shift) noexcept {
  if (shift == 0) return value;
  if (shift > 31) return 0;
  const std::uint32_t kept = value >> shift;
  const std::uint32_t rest = value & ((1u << shift) - 1);
  const std::uint32_t half = 1u << (shift - 1);
  return kept + ((rest > half || (rest == half && (kept & 1))) ? 1 : 0);
}

std::string shape(std::size_t rows, std::size_t cols) {
  // Appending (rather than "[" + ...) sidesteps a false -Wrestrict in GCC 12's std::string.
  std::string out = "[";
  out += std::to_string(rows);
  out += ", ";
  out += std::to_string(cols);
  out += "]";
  return out;
}

}  // namespace

std::uint16_t float_to_f16(float x) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t exponent = (bits >> 23) & 0xffu;
  const std::uint32_t mantissa = bits & 0x7fffffu;
  if (exponent == 0xff) {
    // Infinity stays infinity; NaN stays a (quiet) NaN keeping the top payload bits.
    if (mantissa == 0) return sign | 0x7c00u;
    return static_cast<std::uint16_t>(sign | 0x7e00u | (mantissa >> 13));
  }
  // float exponents 113..142 are normal halves; beyond that the value overflows to infinity.
  if (exponent >= 143) return sign | 0x7c00u;
  if (exponent >= 113) {
    const std::uint32_t magnitude = ((exponent - 112) << 10) | (mantissa >> 13);
    // A carry out of the mantissa correctly bumps the exponent (up to infinity, 0x7c00).
    const std::uint32_t rest = mantissa & 0x1fffu;
    const bool up = rest > 0x1000u || (rest == 0x1000u && (magnitude & 1));
    return static_cast<std::uint16_t>(sign | (magnitude + (up ? 1 : 0)));
  }
  // Half subnormals are k * 2^-24: shift the full 24-bit significand into place. Values at or
  // below 2^-25 (float exponent < 102, or exactly the tie) round to zero. A result of 0x400
  // is the smallest normal half, which is again the right encoding.
  if (exponent < 102) return sign;
  const std::uint32_t significand = mantissa | 0x800000u;
  return static_cast<std::uint16_t>(sign | round_shift_even(significand, 126 - exponent));
}

float f16_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu;
  const std::uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24 is exact in float.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

std::uint16_t float_to_bf16(float x) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    // NaN: truncate and force the quiet bit, so that the payload cannot vanish into infinity.
    return static_cast<std::uint16_t>((bits >> 16) | 0x40u);
  }
  // Adding 0x7fff plus the lowest kept bit rounds to nearest even; overflow becomes infinity.
  const std::uint32_t rounded = bits + 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(rounded >> 16);
}

float bf16_to_float(std::uint16_t h) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

TokenMatrix QuantizedTokens::view() const noexcept {
  return TokenMatrix{dtype, bytes.data(), rows, dim, dtype == DType::i8 ? scales.data() : nullptr};
}

QuantizedTokens quantize(const MatrixView& m, DType dtype) {
  if (m.cols == 0)
    throw_invalid("quantize: dimension must be positive, got shape " + shape(m.rows, m.cols));
  if (m.rows > 0 && m.data == nullptr)
    throw_invalid("quantize: data is null for shape " + shape(m.rows, m.cols));
  QuantizedTokens out;
  out.dtype = dtype;
  out.rows = m.rows;
  out.dim = m.cols;
  const std::size_t stride = row_bytes(dtype, m.cols);
  out.bytes.assign(m.rows * stride, 0);
  for (std::size_t r = 0; r < m.rows; ++r) {
    const float* x = m.row(r);
    std::uint8_t* dst = out.bytes.data() + r * stride;
    switch (dtype) {
      case DType::f32:
        std::memcpy(dst, x, stride);
        break;
      case DType::f16:
      case DType::bf16:
        for (std::size_t k = 0; k < m.cols; ++k) {
          const std::uint16_t h = dtype == DType::f16 ? float_to_f16(x[k]) : float_to_bf16(x[k]);
          std::memcpy(dst + 2 * k, &h, 2);
        }
        break;
      case DType::i8: {
        float max_abs = 0.0f;
        for (std::size_t k = 0; k < m.cols; ++k) {
          if (!std::isfinite(x[k]))
            throw_invalid("quantize: int8 needs finite values, but row " + std::to_string(r) +
                          " column " + std::to_string(k) + " is " + std::to_string(x[k]));
          max_abs = std::fmax(max_abs, std::fabs(x[k]));
        }
        const float scale = max_abs / 127.0f;
        out.scales.push_back(scale);
        for (std::size_t k = 0; k < m.cols && scale > 0.0f; ++k) {
          // nearbyint rounds ties to even, like numpy.round(x / scale).
          const float q = std::nearbyint(x[k] / scale);
          dst[k] = static_cast<std::uint8_t>(
              static_cast<std::int8_t>(std::fmax(-127.0f, std::fmin(127.0f, q))));
        }
        break;
      }
      case DType::bit:
        for (std::size_t k = 0; k < m.cols; ++k) {
          if (x[k] > 0.0f) dst[k / 8] |= static_cast<std::uint8_t>(0x80u >> (k % 8));
        }
        break;
    }
  }
  return out;
}

void dequantize(const TokenMatrix& m, const MutableMatrixView& out) {
  validate(m, "dequantize: tokens");
  if (out.rows != m.rows || out.cols != m.dim)
    throw_invalid("dequantize: output has shape " + shape(out.rows, out.cols) + ", expected " +
                  shape(m.rows, m.dim));
  if (m.rows > 0 && out.data == nullptr) throw_invalid("dequantize: output data is null");
  const std::size_t stride = row_bytes(m.dtype, m.dim);
  for (std::size_t r = 0; r < m.rows; ++r) {
    const auto* src = static_cast<const std::uint8_t*>(m.data) + r * stride;
    float* y = out.row(r);
    for (std::size_t k = 0; k < m.dim; ++k) {
      switch (m.dtype) {
        case DType::f32:
          std::memcpy(&y[k], src + 4 * k, 4);
          break;
        case DType::f16:
        case DType::bf16: {
          std::uint16_t h;
          std::memcpy(&h, src + 2 * k, 2);
          y[k] = m.dtype == DType::f16 ? f16_to_float(h) : bf16_to_float(h);
          break;
        }
        case DType::i8:
          y[k] = static_cast<float>(static_cast<std::int8_t>(src[k])) * m.scales[r];
          break;
        case DType::bit:
          y[k] = (src[k / 8] >> (7 - k % 8)) & 1u ? 1.0f : -1.0f;
          break;
      }
    }
  }
}

std::vector<float> dequantize(const TokenMatrix& m) {
  std::vector<float> values(m.rows * m.dim);
  dequantize(m, MutableMatrixView{values.data(), m.rows, m.dim});
  return values;
}

}  // namespace rank_rerank
