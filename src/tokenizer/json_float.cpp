#include "tokenizer/json_float.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

namespace rank_rerank::tok {
namespace {

// Correctly rounded powers of ten 1e0 .. 1e308 (strtod rounds correctly).
const std::array<double, 309>& powers_of_ten() {
  static const std::array<double, 309> table = [] {
    std::array<double, 309> t{};
    for (std::size_t k = 0; k < t.size(); ++k)
      t[k] = std::strtod(("1e" + std::to_string(k)).c_str(), nullptr);
    return t;
  }();
  return table;
}

// Whether significand * 10 + digit exceeds the largest u64.
bool overflows(std::uint64_t significand, unsigned digit) {
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  return significand >= max / 10 && (significand > max / 10 || digit > max % 10);
}

std::optional<double> from_parts(bool negative, std::uint64_t significand, std::int64_t exponent) {
  const auto& pow10 = powers_of_ten();
  double f = static_cast<double>(significand);
  while (true) {
    const std::uint64_t magnitude =
        exponent < 0 ? static_cast<std::uint64_t>(-exponent) : static_cast<std::uint64_t>(exponent);
    if (magnitude < pow10.size()) {
      if (exponent >= 0) {
        f *= pow10[magnitude];
        if (std::isinf(f)) return std::nullopt;
      } else {
        f /= pow10[magnitude];
      }
      break;
    }
    if (f == 0.0) break;
    if (exponent >= 0) return std::nullopt;
    f /= 1e308;
    exponent += 308;
  }
  return negative ? -f : f;
}

}  // namespace

std::optional<double> parse_json_number_like_serde(std::string_view s) {
  // Common case: a plain decimal of at most 19 digits, which cannot overflow the significand.
  {
    const char* p = s.data();
    const char* const end = p + s.size();
    const bool negative = p < end && *p == '-';
    if (negative) ++p;
    std::uint64_t significand = 0;
    int digits = 0, fraction = 0;
    for (; p < end && *p >= '0' && *p <= '9'; ++p, ++digits)
      significand = significand * 10 + static_cast<unsigned>(*p - '0');
    if (p < end && *p == '.') {
      for (++p; p < end && *p >= '0' && *p <= '9'; ++p, ++digits, ++fraction)
        significand = significand * 10 + static_cast<unsigned>(*p - '0');
      const bool done = p == end || (*p != 'e' && *p != 'E');
      if (done && digits <= 19 && fraction > 0) return from_parts(negative, significand, -fraction);
    }
  }
  const char* p = s.data();
  const char* const end = p + s.size();
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  auto is_digit = [&](const char* q) { return q < end && *q >= '0' && *q <= '9'; };
  std::uint64_t significand = 0;
  std::int64_t exponent = 0;
  // Integer part: once the significand would overflow, further digits only scale it.
  bool long_integer = false;
  for (; is_digit(p); ++p) {
    const auto d = static_cast<unsigned>(*p - '0');
    if (long_integer || overflows(significand, d)) {
      long_integer = true;
      ++exponent;
    } else {
      significand = significand * 10 + d;
    }
  }
  bool is_float = long_integer;
  if (p < end && *p == '.') {
    is_float = true;
    // Fraction: digits are taken until one would overflow; the rest are ignored.
    for (++p; is_digit(p); ++p) {
      const auto d = static_cast<unsigned>(*p - '0');
      if (overflows(significand, d)) {
        while (is_digit(p + 1)) ++p;
        break;
      }
      significand = significand * 10 + d;
      --exponent;
    }
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    is_float = true;
    ++p;
    bool positive_exp = true;
    if (p < end && (*p == '+' || *p == '-')) positive_exp = *p++ == '+';
    std::int64_t e = 0;
    for (; is_digit(p); ++p) {
      e = e * 10 + (*p - '0');
      if (e > std::numeric_limits<std::int32_t>::max()) {
        // serde_json: an exponent beyond i32 is an error upwards and zero downwards.
        if (significand != 0 && positive_exp) return std::nullopt;
        return negative ? -0.0 : 0.0;
      }
    }
    // The exponent is an i32 in serde_json, added with saturation.
    exponent = std::clamp<std::int64_t>(positive_exp ? exponent + e : exponent - e,
                                        std::numeric_limits<std::int32_t>::min(),
                                        std::numeric_limits<std::int32_t>::max());
  }
  if (!is_float) {
    const double f = static_cast<double>(significand);
    return negative ? -f : f;
  }
  return from_parts(negative, significand, exponent);
}

}  // namespace rank_rerank::tok
