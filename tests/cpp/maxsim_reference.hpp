// Float64 MaxSim written from the definition in maxsim_kernel.hpp, with document decoding
// written from the dtype definitions in tensor.hpp (not through the library), for the kernel tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "rank_rerank/tensor.hpp"

namespace maxsim_reference {

using rank_rerank::DType;
using rank_rerank::TokenMatrix;

inline double decode_f16(std::uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (exponent == 0x1f)
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

inline double decode_bf16(std::uint16_t h) {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Row r of m as float64 values.
inline std::vector<double> decode_row(const TokenMatrix& m, std::size_t r) {
  std::vector<double> out(m.dim);
  const auto* base =
      static_cast<const std::uint8_t*>(m.data) + r * rank_rerank::row_bytes(m.dtype, m.dim);
  for (std::size_t k = 0; k < m.dim; ++k) {
    switch (m.dtype) {
      case DType::f32: {
        float f;
        std::memcpy(&f, base + 4 * k, 4);
        out[k] = f;
        break;
      }
      case DType::f16:
      case DType::bf16: {
        std::uint16_t h;
        std::memcpy(&h, base + 2 * k, 2);
        out[k] = m.dtype == DType::f16 ? decode_f16(h) : decode_bf16(h);
        break;
      }
      case DType::i8:
        out[k] = static_cast<std::int8_t>(base[k]) * static_cast<double>(m.scales[r]);
        break;
      case DType::bit:
        out[k] = ((base[k / 8] >> (7 - k % 8)) & 1) ? 1.0 : -1.0;
        break;
    }
  }
  return out;
}

struct Result {
  std::vector<double> sims;      // [query rows, doc rows]
  std::vector<double> abs_sums;  // sum_k |q_k d_k| (divided by the norms when cosine)
  std::vector<double> row_max;
  std::vector<std::int64_t> argmax;
  std::vector<double> token_best;
  std::vector<double> query_max_abs;  // max_k |q_k| per query row (of q / |q| when cosine)
  std::vector<double> doc_abs_sums;   // sum_k |d_k| per document row (of d / |d| when cosine)
};

inline Result maxsim(const TokenMatrix& query, const TokenMatrix& doc, bool cosine) {
  const std::size_t m = query.rows, n = doc.rows;
  std::vector<std::vector<double>> q(m), d(n);
  for (std::size_t i = 0; i < m; ++i) q[i] = decode_row(query, i);
  for (std::size_t j = 0; j < n; ++j) d[j] = decode_row(doc, j);
  auto norm = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x * x;
    return std::sqrt(s);
  };
  Result r;
  r.sims.assign(m * n, 0.0);
  r.abs_sums.assign(m * n, 0.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  r.row_max.assign(m, -inf);
  r.argmax.assign(m, -1);
  r.token_best.assign(n, -inf);
  r.query_max_abs.assign(m, 0.0);
  r.doc_abs_sums.assign(n, 0.0);
  for (std::size_t i = 0; i < m; ++i) {
    const double nq = cosine ? norm(q[i]) : 1.0;
    for (double x : q[i]) r.query_max_abs[i] = std::max(r.query_max_abs[i], std::fabs(x) / nq);
  }
  for (std::size_t j = 0; j < n; ++j) {
    const double nd = cosine ? norm(d[j]) : 1.0;
    for (double x : d[j]) r.doc_abs_sums[j] += std::fabs(x) / nd;
  }
  for (std::size_t i = 0; i < m; ++i) {
    const double nq = norm(q[i]);
    for (std::size_t j = 0; j < n; ++j) {
      double dot = 0, abs_sum = 0;
      for (std::size_t k = 0; k < query.dim; ++k) {
        dot += q[i][k] * d[j][k];
        abs_sum += std::fabs(q[i][k] * d[j][k]);
      }
      if (cosine) {
        const double nd = norm(d[j]);
        if (nq == 0 || nd == 0) {
          dot = 0;
          abs_sum = 0;
        } else {
          dot /= nq * nd;
          abs_sum /= nq * nd;
        }
      }
      r.sims[i * n + j] = dot;
      r.abs_sums[i * n + j] = abs_sum;
      double& best = r.row_max[i];
      if (std::isnan(dot)) {
        if (!std::isnan(best)) {
          best = nan;
          r.argmax[i] = static_cast<std::int64_t>(j);
        }
      } else if (!std::isnan(best) && (dot > best || r.argmax[i] < 0)) {
        best = dot;
        r.argmax[i] = static_cast<std::int64_t>(j);
      }
      double& tb = r.token_best[j];
      if (std::isnan(dot) || std::isnan(tb))
        tb = nan;
      else
        tb = std::fmax(tb, dot);
    }
  }
  return r;
}

}  // namespace maxsim_reference
