// Entry points of the SIMD kernels, called by the dispatcher in maxsim_kernel.cpp. Each scores
// every row of one document (at most kMaxRowsPerKernelCall rows, so int32 token indices suffice)
// against a prepared query and folds the similarities into a RowState.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/cpu_features.hpp"
#include "rank_rerank/tensor.hpp"
#include "scoring/maxsim_prepared.hpp"

namespace rank_rerank::detail {

inline constexpr std::size_t kMaxRowsPerKernelCall = std::size_t{1} << 30;

// kernels/maxsim_hwy.cpp: paths highway_float and highway_bits, on the best Highway target
// that was compiled and that the CPU supports (see hwy::SetSupportedTargetsForTest).
void score_highway(const PreparedQuery::Impl& q, const TokenMatrix& doc, const RowState& state);

// kernels/maxsim_hwy.cpp: path highway_int8 (only call when the document scales are finite), on
// the same Highway target as score_highway.
void score_highway_int8(const PreparedQuery::Impl& q, const TokenMatrix& doc,
                        const RowState& state);

// Highway targets compiled into the kernels and supported by this CPU, best first.
std::vector<std::int64_t> highway_kernel_targets();

// kernels/maxsim_native.cpp: paths native_bf16 and native_int8. Only call for native_bf16 when
// native_bf16_preferred() (the CPU has AVX512_BF16 and runs it faster than the decoded float32
// path), for native_int8 when native_int8_available() and the document scales are finite.
bool native_bf16_preferred() noexcept;
bool native_int8_available() noexcept;
void score_native(const PreparedQuery::Impl& q, const TokenMatrix& doc, const RowState& state);

// kernels/maxsim_amx.cpp: paths amx_bf16 and amx_int8 (Intel AMX tiles; only call when
// amx_bf16_available() / amx_int8_available() of core/cpu_features.hpp). They fill row_max only:
// callers wanting argmax or token_best take the native or Highway path with the same prepared
// query.
void score_amx(const PreparedQuery::Impl& q, const TokenMatrix& doc, const RowState& state);

}  // namespace rank_rerank::detail
