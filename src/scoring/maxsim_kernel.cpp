// PreparedQuery construction (query layouts for each kernel family) and max_similarity's
// dispatch to the SIMD kernels in kernels/, plus the parts of the contract that are cheaper
// outside the kernels: empty documents, very long documents, zero query rows under cosine.
#include "scoring/maxsim_kernel.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/quantize.hpp"
#include "scoring/kernels/kernel_entry.hpp"
#include "scoring/maxsim_kernel_testing.hpp"
#include "scoring/maxsim_prepared.hpp"

namespace rank_rerank::detail {

namespace {

std::atomic<bool> g_native_enabled{true};
std::atomic<bool> g_amx_enabled{true};
std::atomic<std::size_t> g_rows_per_call{kMaxRowsPerKernelCall};

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The int8 kernels accumulate up to 255 * 127 per dimension in int32.
constexpr std::size_t kMaxInt8Dim = 65536;

bool all_finite(const float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

KernelPath choose_path(DType query, DType doc, std::size_t dim, bool cosine, bool query_finite) {
  if (query == DType::bit) return KernelPath::highway_bits;
  const bool native = g_native_enabled.load(std::memory_order_relaxed);
  const bool amx = native && g_amx_enabled.load(std::memory_order_relaxed);
  // AMX tiles cover whole 64-byte rows and give plain dot products (cosine needs document
  // norms, which the tile path does not compute).
  if (amx && !cosine && doc == DType::bf16 && dim % 32 == 0 && amx_bf16_available())
    return KernelPath::amx_bf16;
  if (amx && !cosine && doc == DType::i8 && query_finite && dim % 64 == 0 && dim <= kMaxInt8Dim &&
      native_int8_available() && amx_int8_available())
    return KernelPath::amx_int8;
  if (native && doc == DType::bf16 && native_bf16_preferred()) return KernelPath::native_bf16;
  // int8 cannot represent a non-finite query; the float path then gives the exact NaN / inf.
  const bool int8 = doc == DType::i8 && query_finite && dim <= kMaxInt8Dim;
  if (native && int8 && native_int8_available()) return KernelPath::native_int8;
  // Not subject to the native switch: this is the Highway path of int8 documents, and tests and
  // benchmarks reach it on each target through hwy::SetSupportedTargetsForTest.
  if (int8) return KernelPath::highway_int8;
  return KernelPath::highway_float;
}

// Rows as float32, normalised for cosine (zero rows stay zero, their flag set).
std::vector<float> float_rows(const TokenMatrix& query, bool cosine,
                              std::vector<std::uint8_t>& zero) {
  std::vector<float> rows = dequantize(query);
  zero.assign(query.rows, 0);
  if (!cosine) return rows;
  for (std::size_t i = 0; i < query.rows; ++i) {
    float* row = rows.data() + i * query.dim;
    double norm2 = 0.0;
    for (std::size_t k = 0; k < query.dim; ++k) norm2 += static_cast<double>(row[k]) * row[k];
    if (norm2 == 0.0) {
      zero[i] = 1;
      continue;
    }
    const double inv = 1.0 / std::sqrt(norm2);
    for (std::size_t k = 0; k < query.dim; ++k) row[k] = static_cast<float>(row[k] * inv);
  }
  return rows;
}

// Scatters per-row values (`per_row` of them per row, type T) into the transposed group layout
// described in maxsim_prepared.hpp.
template <class T, class Value>
hwy::AlignedFreeUniquePtr<T[]> transpose(std::size_t rows, std::size_t groups, std::size_t per_row,
                                         Value value) {
  const std::size_t size = groups * per_row * kQueryGroup;
  auto out = hwy::AllocateAligned<T>(std::max<std::size_t>(size, 1));  // Highway rejects 0
  std::fill_n(out.get(), size, T{});
  for (std::size_t i = 0; i < rows; ++i) {
    T* base = out.get() + (i / kQueryGroup) * per_row * kQueryGroup + i % kQueryGroup;
    for (std::size_t k = 0; k < per_row; ++k) base[k * kQueryGroup] = value(i, k);
  }
  return out;
}

void prepare_bf16_pairs(PreparedQuery::Impl& q, const std::vector<float>& rows) {
  q.bf16_pairs =
      transpose<std::uint32_t>(q.rows, q.groups, q.dim / 2, [&](std::size_t i, std::size_t p) {
        const float* row = rows.data() + i * q.dim;
        return static_cast<std::uint32_t>(float_to_bf16(row[2 * p])) |
               static_cast<std::uint32_t>(float_to_bf16(row[2 * p + 1])) << 16;
      });
}

// The query rows quantized to int8 (row-major), by the rule of quantize(): scale = max|q| / 127,
// round half to even. Fills q.int8_scales.
std::vector<std::int8_t> quantize_query_int8(PreparedQuery::Impl& q,
                                             const std::vector<float>& rows) {
  std::vector<std::int8_t> values(q.rows * q.dim);
  q.int8_scales.assign(q.padded_rows(), 0.0f);
  for (std::size_t i = 0; i < q.rows; ++i) {
    const float* row = rows.data() + i * q.dim;
    float max_abs = 0.0f;
    for (std::size_t k = 0; k < q.dim; ++k) max_abs = std::max(max_abs, std::fabs(row[k]));
    const float scale = max_abs / 127.0f;
    q.int8_scales[i] = scale;
    for (std::size_t k = 0; k < q.dim; ++k) {
      const float v =
          scale > 0.0f ? std::clamp(std::nearbyint(row[k] / scale), -127.0f, 127.0f) : 0.0f;
      values[i * q.dim + k] = static_cast<std::int8_t>(v);
    }
  }
  return values;
}

void prepare_int8_quads(PreparedQuery::Impl& q, const std::vector<std::int8_t>& values) {
  q.int8_corrections.assign(q.padded_rows(), 0);
  for (std::size_t i = 0; i < q.rows; ++i) {
    std::int32_t sum = 0;
    for (std::size_t k = 0; k < q.dim; ++k) sum += values[i * q.dim + k];
    q.int8_corrections[i] = -128 * sum;
  }
  q.int8_quads = transpose<std::uint32_t>(
      q.rows, q.groups, (q.dim + 3) / 4, [&](std::size_t i, std::size_t p) {
        std::uint32_t word = 0;
        for (std::size_t b = 0; b < 4 && 4 * p + b < q.dim; ++b)
          word |=
              static_cast<std::uint32_t>(static_cast<std::uint8_t>(values[i * q.dim + 4 * p + b]))
              << (8 * b);
        return word;
      });
}

void prepare_int16_pairs(PreparedQuery::Impl& q, const std::vector<std::int8_t>& values) {
  q.int16_pairs = transpose<std::uint32_t>(
      q.rows, q.groups, (q.dim + 1) / 2, [&](std::size_t i, std::size_t p) {
        std::uint32_t word = 0;
        for (std::size_t h = 0; h < 2 && 2 * p + h < q.dim; ++h)
          word |= static_cast<std::uint32_t>(
                      static_cast<std::uint16_t>(std::int16_t{values[i * q.dim + 2 * p + h]}))
                  << (16 * h);
        return word;
      });
}

void prepare_bit_words(PreparedQuery::Impl& q, const TokenMatrix& query) {
  const std::size_t bytes = row_bytes(DType::bit, q.dim);
  const std::size_t words = (q.dim + 31) / 32;
  q.bit_words =
      transpose<std::uint32_t>(q.rows, q.groups, words, [&](std::size_t i, std::size_t w) {
        const auto* row = static_cast<const std::uint8_t*>(query.data) + i * bytes;
        std::uint8_t chunk[4] = {0, 0, 0, 0};
        for (std::size_t b = 0; b < 4; ++b) {
          const std::size_t byte = 4 * w + b;
          if (byte >= bytes) break;
          // Keep only the bits of dimensions < dim (MSB first within the byte).
          const std::size_t valid = std::min<std::size_t>(8, q.dim - 8 * byte);
          chunk[b] = static_cast<std::uint8_t>(row[byte] & (0xff00u >> valid));
        }
        std::uint32_t word;
        std::memcpy(&word, chunk, 4);
        return word;
      });
}

// Folds the result of a later chunk (rows from `first` on) into the running results.
void merge_chunk(std::size_t rows, std::size_t first, const float* chunk_max,
                 const std::int32_t* chunk_arg, float* row_max, std::int64_t* argmax) {
  for (std::size_t i = 0; i < rows; ++i) {
    const bool take = std::isnan(chunk_max[i])
                          ? !std::isnan(row_max[i])
                          : !std::isnan(row_max[i]) && chunk_max[i] > row_max[i];
    if (!take) continue;
    row_max[i] = chunk_max[i];
    if (argmax) argmax[i] = static_cast<std::int64_t>(first) + chunk_arg[i];
  }
}

}  // namespace

PreparedQuery::PreparedQuery(const TokenMatrix& query, DType doc_dtype, bool cosine)
    : impl_(std::make_unique<Impl>()) {
  if (!(query.dtype == DType::f32 || (query.dtype == DType::bit && doc_dtype == DType::bit)))
    throw_unsupported("MaxSim: no kernel for " + std::string(dtype_name(query.dtype)) +
                      " queries against " + std::string(dtype_name(doc_dtype)) +
                      " documents (use float32 queries, or bit queries with bit documents)");
  Impl& q = *impl_;
  q.rows = query.rows;
  q.dim = query.dim;
  q.doc_dtype = doc_dtype;
  q.cosine = cosine;
  q.groups = (q.rows + kQueryGroup - 1) / kQueryGroup;
  const std::vector<float> rows = float_rows(query, cosine, q.zero_rows);
  q.all_rows_zero =
      cosine && std::all_of(q.zero_rows.begin(), q.zero_rows.end(), [](auto z) { return z != 0; });
  q.path = choose_path(query.dtype, doc_dtype, q.dim, cosine, all_finite(rows.data(), rows.size()));
  if (q.path != KernelPath::highway_bits) {
    q.transposed = transpose<float>(
        q.rows, q.groups, q.dim, [&](std::size_t i, std::size_t k) { return rows[i * q.dim + k]; });
  }
  switch (q.path) {
    case KernelPath::highway_float:
      break;
    case KernelPath::highway_bits:
      prepare_bit_words(q, query);
      break;
    case KernelPath::native_bf16:
    case KernelPath::amx_bf16:
      prepare_bf16_pairs(q, rows);
      break;
    case KernelPath::native_int8:
    case KernelPath::amx_int8:
      prepare_int8_quads(q, quantize_query_int8(q, rows));
      break;
    case KernelPath::highway_int8:
      prepare_int16_pairs(q, quantize_query_int8(q, rows));
      break;
  }
}

PreparedQuery::~PreparedQuery() = default;
PreparedQuery::PreparedQuery(PreparedQuery&&) noexcept = default;
PreparedQuery& PreparedQuery::operator=(PreparedQuery&&) noexcept = default;

std::size_t PreparedQuery::rows() const noexcept { return impl_->rows; }
std::size_t PreparedQuery::dim() const noexcept { return impl_->dim; }
DType PreparedQuery::doc_dtype() const noexcept { return impl_->doc_dtype; }
bool PreparedQuery::cosine() const noexcept { return impl_->cosine; }

void max_similarity(const PreparedQuery& prepared, const TokenMatrix& doc, float* row_max,
                    std::int64_t* argmax, float* token_best) {
  const PreparedQuery::Impl& q = prepared.impl();
  std::fill_n(row_max, q.rows, kNegInf);
  if (argmax) std::fill_n(argmax, q.rows, std::int64_t{-1});
  if (doc.rows == 0) return;

  std::vector<float> chunk_max(q.padded_rows());
  std::vector<std::int32_t> chunk_arg(argmax ? q.padded_rows() : 0);
  const std::size_t per_call = g_rows_per_call.load(std::memory_order_relaxed);
  for (std::size_t first = 0; first < doc.rows; first += per_call) {
    const TokenMatrix chunk = doc.slice(first, std::min(doc.rows, first + per_call));
    std::fill(chunk_max.begin(), chunk_max.end(), kNegInf);
    std::fill(chunk_arg.begin(), chunk_arg.end(), -1);
    const RowState state{chunk_max.data(), argmax ? chunk_arg.data() : nullptr,
                         token_best ? token_best + first : nullptr};
    // The int8 kernels' integer arithmetic assumes finite scales; otherwise the float path.
    // The AMX kernels give row maxima only; alignments come from the next-best kernel.
    const bool alignments = argmax != nullptr || token_best != nullptr;
    bool native = false, amx = false, int16 = false;
    switch (q.path) {
      case KernelPath::native_bf16:
        native = true;
        break;
      case KernelPath::native_int8:
        native = all_finite(chunk.scales, chunk.rows);
        break;
      case KernelPath::amx_int8:
        native = all_finite(chunk.scales, chunk.rows);
        amx = native && !alignments;
        break;
      case KernelPath::amx_bf16:
        amx = !alignments;
        break;
      case KernelPath::highway_int8:
        int16 = all_finite(chunk.scales, chunk.rows);
        break;
      case KernelPath::highway_float:
      case KernelPath::highway_bits:
        break;
    }
    if (amx) {
      score_amx(q, chunk, state);
    } else if (native) {
      score_native(q, chunk, state);
    } else if (int16) {
      score_highway_int8(q, chunk, state);
    } else {
      score_highway(q, chunk, state);
    }
    // A row whose similarities were all -inf has no strictly greater token: the first is it.
    for (std::size_t i = 0; argmax && i < q.rows; ++i) chunk_arg[i] = std::max(chunk_arg[i], 0);
    if (first == 0) {
      std::copy_n(chunk_max.data(), q.rows, row_max);
      for (std::size_t i = 0; argmax && i < q.rows; ++i) argmax[i] = chunk_arg[i];
    } else {
      merge_chunk(q.rows, first, chunk_max.data(), chunk_arg.data(), row_max, argmax);
    }
  }

  if (!q.cosine) return;
  // Under cosine a zero query row scores exactly 0 against every token, even non-finite ones
  // (the kernels compute 0 * inf = NaN there). Such tokens make every other row NaN too, so
  // token_best only needs fixing when all rows are zero.
  for (std::size_t i = 0; i < q.rows; ++i) {
    if (!q.zero_rows[i]) continue;
    row_max[i] = 0.0f;
    if (argmax) argmax[i] = 0;
  }
  if (token_best && q.all_rows_zero) std::fill_n(token_best, doc.rows, 0.0f);
}

void set_native_kernels_enabled(bool enabled) noexcept {
  g_native_enabled.store(enabled, std::memory_order_relaxed);
}

void set_amx_kernels_enabled(bool enabled) noexcept {
  g_amx_enabled.store(enabled, std::memory_order_relaxed);
}

std::vector<std::int64_t> kernel_targets() { return highway_kernel_targets(); }

KernelPath kernel_path(const PreparedQuery& q) noexcept { return q.impl().path; }

void set_rows_per_kernel_call(std::size_t rows) noexcept {
  g_rows_per_call.store(rows == 0 ? kMaxRowsPerKernelCall : std::min(rows, kMaxRowsPerKernelCall),
                        std::memory_order_relaxed);
}

}  // namespace rank_rerank::detail
