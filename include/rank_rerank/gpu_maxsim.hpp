// MaxSim on a CUDA device: the same scores as maxsim.hpp, computed by fused kernels that never
// materialise the similarity matrix, plus top-k selected on the device.
//
// Three ways in:
//   * device pointers: the caller's CUDA buffers and stream (cudaStream_t passed as void*);
//     nothing is copied and nothing waits for the stream;
//   * host arrays: copied in, scored, copied out (the call returns when the scores are back);
//   * GpuDocumentSet: documents uploaded once, then any number of queries scored against them.
//
// Storage: queries f32, f16 or bf16 (bit queries against bit documents); documents f32, f16,
// bf16, i8 (per-row scale) or bit, in the layouts of tensor.hpp / quantize.hpp. Dimensions must
// be 32, 64, 96 or 128. Semantics are those of maxsim.hpp (empty document scores 0, padding
// never wins, NaN anywhere makes the score NaN, zero vectors have cosine 0). Precision:
// f32 documents use float32 FMA; f16 / bf16 / i8 / bit documents use tensor cores with the
// query rounded to f16 (bf16 for bf16 documents) and float32 accumulation (docs/scoring.md).
//
// A build without CUDA, or a process without a usable device, throws Error(unsupported) with
// the reason from cuda_status() / unusable_reason() from every entry point (after the
// arguments were checked).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "rank_rerank/device.hpp"
#include "rank_rerank/maxsim.hpp"
#include "rank_rerank/tensor.hpp"
#include "rank_rerank/topk.hpp"

namespace rank_rerank::gpu {

// Whether the GPU kernels take token vectors of this dimension (32, 64, 96 or 128).
bool supports_dim(std::size_t dim) noexcept;

// Token rows in device memory: row-major [rows, dim] in `dtype` (row_bytes(dtype, dim) each).
struct DeviceTokens {
  DType dtype = DType::f32;
  const void* data = nullptr;  // device pointer
  std::size_t rows = 0;
  std::size_t dim = 0;
  const float* scales = nullptr;  // device pointer, i8 only: one per row
};

// Documents packed back to back in device memory; offsets is a device array of count + 1
// int64 entries. Offsets are not read on the host: an entry outside [0, rows] or a decreasing
// pair makes that document's score NaN (never an out-of-bounds read).
struct DevicePacked {
  DeviceTokens tokens;
  const std::int64_t* offsets = nullptr;  // device pointer
  std::size_t count = 0;
};

struct GpuOptions {
  Similarity similarity = Similarity::dot;
  Device device = Device::cuda(0);
  void* stream = nullptr;  // cudaStream_t; null is the legacy default stream
};

// Scores every query against every document into out[q * docs.count + d] (device memory,
// n_queries * docs.count floats). Query q is rows [query_offsets[q], query_offsets[q + 1]) of
// `queries` (host offsets: n_queries + 1 entries, every query non-empty). `query_weights`, when
// not null, is a device array with one weight per query row. Asynchronous on options.stream.
void maxsim_device(const DeviceTokens& queries, std::span<const std::int64_t> query_offsets,
                   const DevicePacked& docs, float* out, const GpuOptions& options = {},
                   const float* query_weights = nullptr);

// Top-k per row of a device score matrix [n_rows, n_cols]: indices (int64) and scores written
// to device arrays of n_rows * k entries, each row best first with the order of top_k()
// (higher first, ties by lower index, NaN last). k must be <= n_cols. Asynchronous.
void top_k_device(const float* scores, std::size_t n_rows, std::size_t n_cols, std::size_t k,
                  std::int64_t* indices, float* top_scores, const GpuOptions& options = {});

// Host arrays in, host scores out. maxsim_packed: one query against packed documents;
// maxsim_all_pairs: [n_queries, n_docs] row-major. query_weights as in MaxSimOptions.
std::vector<float> maxsim_packed(const TokenMatrix& query, const PackedTokens& docs,
                                 const GpuOptions& options = {},
                                 std::span<const float> query_weights = {});
std::vector<float> maxsim_all_pairs(const PackedTokens& queries, const PackedTokens& docs,
                                    const GpuOptions& options = {},
                                    std::span<const float> query_weights = {});

// Documents uploaded once to one device; queries scored against them many times.
class GpuDocumentSet {
 public:
  GpuDocumentSet(const PackedTokens& docs, Device device = Device::cuda(0));
  ~GpuDocumentSet();
  GpuDocumentSet(GpuDocumentSet&&) noexcept;
  GpuDocumentSet& operator=(GpuDocumentSet&&) noexcept;

  std::size_t size() const noexcept;  // documents
  std::size_t dim() const noexcept;
  DType dtype() const noexcept;
  Device device() const noexcept;
  // Device memory held by the set (tokens, scales, offsets).
  std::size_t device_bytes() const noexcept;
  // The uploaded documents, for maxsim_device.
  DevicePacked view() const noexcept;

  // One query (host rows) -> one score per document.
  std::vector<float> score(const TokenMatrix& query, Similarity similarity = Similarity::dot,
                           std::span<const float> query_weights = {}) const;
  // Packed queries (host) -> [n_queries, size()] row-major.
  std::vector<float> score_all(const PackedTokens& queries, Similarity similarity = Similarity::dot,
                               std::span<const float> query_weights = {}) const;
  // The k best documents of each query (k <= size()), ranked on the device.
  std::vector<std::vector<Ranked>> top_k(const PackedTokens& queries, std::size_t k,
                                         Similarity similarity = Similarity::dot,
                                         std::span<const float> query_weights = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rank_rerank::gpu
