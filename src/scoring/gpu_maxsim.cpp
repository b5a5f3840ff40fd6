// GPU MaxSim API: argument checks (the same with or without CUDA), host <-> device copies, the
// document set. The kernels sit behind scoring/cuda/gpu_runtime.hpp.
#include "rank_rerank/gpu_maxsim.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "rank_rerank/error.hpp"
#include "scoring/cuda/gpu_runtime.hpp"

namespace rank_rerank::gpu {

namespace gd = gpu_detail;

static_assert(static_cast<int>(DType::f32) == gd::kF32 &&
              static_cast<int>(DType::f16) == gd::kF16 &&
              static_cast<int>(DType::bf16) == gd::kBF16 &&
              static_cast<int>(DType::i8) == gd::kI8 && static_cast<int>(DType::bit) == gd::kBit);

bool supports_dim(std::size_t dim) noexcept {
  return dim == 32 || dim == 64 || dim == 96 || dim == 128;
}

namespace {

std::string shape(std::size_t rows, std::size_t dim) {
  std::string s = "[";
  s += std::to_string(rows);
  s += ", ";
  s += std::to_string(dim);
  s += "]";
  return s;
}

void check_dim(std::size_t dim, std::string_view what) {
  if (!supports_dim(dim))
    throw_unsupported(std::string(what) + ": dimension " + std::to_string(dim) +
                      " is not supported on the GPU (32, 64, 96 or 128)");
}

// Storage pairs the kernels take; shapes and dims agree.
void check_pair(DType query, std::size_t query_rows, std::size_t query_dim, DType doc,
                std::size_t doc_rows, std::size_t doc_dim) {
  if (query_dim != doc_dim)
    throw_invalid("docs: dimension " + std::to_string(doc_dim) +
                  " does not match query dimension " + std::to_string(query_dim) +
                  " (query shape " + shape(query_rows, query_dim) + ", docs shape " +
                  shape(doc_rows, doc_dim) + ")");
  if (query == DType::i8 || (query == DType::bit && doc != DType::bit))
    throw_unsupported("GPU MaxSim: no kernel for " + std::string(dtype_name(query)) +
                      " queries against " + std::string(dtype_name(doc)) +
                      " documents (float32 / float16 / bfloat16 queries, or bit queries with bit "
                      "documents)");
  check_dim(doc_dim, "docs");
}

void check_options(const GpuOptions& options) {
  if (!options.device.is_cuda())
    throw_invalid("device: GPU MaxSim runs on a CUDA device, got '" + options.device.to_string() +
                  "'");
}

void check_query_offsets(std::span<const std::int64_t> offsets, std::size_t rows) {
  if (offsets.size() < 2)
    throw_invalid("query_offsets: needs n_queries + 1 >= 2 entries, got " +
                  std::to_string(offsets.size()));
  for (std::size_t q = 0; q + 1 < offsets.size(); ++q) {
    if (offsets[q] < 0 || offsets[q + 1] <= offsets[q] ||
        static_cast<std::size_t>(offsets[q + 1]) > static_cast<std::size_t>(rows))
      throw_invalid("query_offsets: query " + std::to_string(q) + " spans rows [" +
                    std::to_string(offsets[q]) + ", " + std::to_string(offsets[q + 1]) +
                    "); every query needs at least one of the " + std::to_string(rows) + " rows");
  }
}

void check_weights(std::size_t given, std::size_t rows) {
  if (given != 0 && given != rows)
    throw_invalid("query_weights: got " + std::to_string(given) +
                  " weights, expected one per query token (" + std::to_string(rows) + ")");
}

void check_alignment(const void* p, std::size_t align, std::string_view what) {
  if (reinterpret_cast<std::uintptr_t>(p) % align != 0)
    throw_invalid(std::string(what) + ": the device pointer must be aligned to " +
                  std::to_string(align) + " bytes");
}

std::size_t doc_alignment(DType dtype) {
  switch (dtype) {
    case DType::f32:
    case DType::f16:
    case DType::bf16:
      return 16;
    case DType::i8:
      return 8;
    case DType::bit:
      return 4;
  }
  return 16;
}

// Rows of the longest query; offsets were checked (non-decreasing).
std::size_t longest_query(std::span<const std::int64_t> offsets) {
  std::int64_t longest = 0;
  for (std::size_t q = 0; q + 1 < offsets.size(); ++q)
    longest = std::max(longest, offsets[q + 1] - offsets[q]);
  return static_cast<std::size_t>(longest);
}

gd::Rows rows_of(const DeviceTokens& t) {
  return {static_cast<int>(t.dtype), t.data, t.rows, t.dim, t.scales};
}

// A stream-ordered device allocation freed when it goes out of scope.
class Scratch {
 public:
  Scratch(std::size_t bytes, void* stream)
      : stream_(stream), p_(gd::device_alloc_async(bytes, stream)) {}
  ~Scratch() { gd::device_free_async(p_, stream_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T>
  T* as() const noexcept {
    return static_cast<T*>(p_);
  }

 private:
  void* stream_;
  void* p_;
};

// Host rows copied to a device buffer (tokens and, for i8, scales).
struct UploadedRows {
  Scratch data;
  Scratch scales;
  DeviceTokens view;
  UploadedRows(const TokenMatrix& m, void* stream)
      : data(m.rows * row_bytes(m.dtype, m.dim), stream),
        scales(m.dtype == DType::i8 ? m.rows * sizeof(float) : 0, stream) {
    gd::copy_to_device(data.as<void>(), m.data, m.rows * row_bytes(m.dtype, m.dim), stream);
    if (m.dtype == DType::i8)
      gd::copy_to_device(scales.as<void>(), m.scales, m.rows * sizeof(float), stream);
    view = {m.dtype, data.as<void>(), m.rows, m.dim,
            m.dtype == DType::i8 ? scales.as<float>() : nullptr};
  }
};

// Checks of host inputs shared by every host entry point.
void check_host(const PackedTokens& queries, const PackedTokens& docs, std::size_t n_weights,
                const GpuOptions& options) {
  validate(queries.tokens, "queries");
  validate(docs, "docs");
  check_query_offsets(queries.offsets, queries.tokens.rows);
  check_pair(queries.tokens.dtype, queries.tokens.rows, queries.tokens.dim, docs.tokens.dtype,
             docs.tokens.rows, docs.tokens.dim);
  check_weights(n_weights, queries.tokens.rows);
  check_options(options);
}

// Scores host queries against device documents into a device buffer [n_queries, docs.count].
void score_into(const PackedTokens& queries, const DevicePacked& docs,
                std::span<const float> weights, bool cosine, float* out, void* stream) {
  UploadedRows q(queries.tokens, stream);
  Scratch offsets(queries.offsets.size() * sizeof(std::int64_t), stream);
  gd::copy_to_device(offsets.as<void>(), queries.offsets.data(),
                     queries.offsets.size() * sizeof(std::int64_t), stream);
  Scratch w(weights.size() * sizeof(float), stream);
  gd::copy_to_device(w.as<void>(), weights.data(), weights.size() * sizeof(float), stream);
  gd::ScoreLaunch launch;
  launch.queries = rows_of(q.view);
  launch.query_offsets = offsets.as<std::int64_t>();
  launch.n_queries = queries.size();
  launch.docs = rows_of(docs.tokens);
  launch.doc_offsets = docs.offsets;
  launch.n_docs = docs.count;
  launch.weights = weights.empty() ? nullptr : w.as<float>();
  launch.max_query_rows = longest_query(queries.offsets);
  launch.cosine = cosine;
  launch.out = out;
  launch.stream = stream;
  gd::launch_maxsim(launch);
}

std::vector<float> all_pairs_on(const PackedTokens& queries, const DevicePacked& docs,
                                std::span<const float> weights, bool cosine, void* stream) {
  std::vector<float> out(queries.size() * docs.count);
  if (out.empty()) return out;
  Scratch scores(out.size() * sizeof(float), stream);
  score_into(queries, docs, weights, cosine, scores.as<float>(), stream);
  gd::copy_to_host(out.data(), scores.as<void>(), out.size() * sizeof(float), stream);
  gd::synchronize(stream);
  return out;
}

PackedTokens single_query(const TokenMatrix& query, std::int64_t (&offsets)[2]) {
  offsets[0] = 0;
  offsets[1] = static_cast<std::int64_t>(query.rows);
  return {query, offsets};
}

}  // namespace

void maxsim_device(const DeviceTokens& queries, std::span<const std::int64_t> query_offsets,
                   const DevicePacked& docs, float* out, const GpuOptions& options,
                   const float* query_weights) {
  check_query_offsets(query_offsets, queries.rows);
  check_pair(queries.dtype, queries.rows, queries.dim, docs.tokens.dtype, docs.tokens.rows,
             docs.tokens.dim);
  check_options(options);
  if (docs.tokens.dtype == DType::i8 && docs.tokens.scales == nullptr && docs.tokens.rows > 0)
    throw_invalid("docs: int8 documents need one scale per row (scales is null)");
  if (docs.count > 0 && (docs.offsets == nullptr || out == nullptr))
    throw_invalid("docs / out: device pointers must not be null");
  if (queries.data == nullptr) throw_invalid("queries: the device pointer is null");
  check_alignment(docs.tokens.data, doc_alignment(docs.tokens.dtype), "docs");
  check_alignment(queries.data, queries.dtype == DType::bit ? 4 : 2, "queries");
  require_usable(options.device);
  gd::DeviceGuard guard(options.device.index);
  Scratch offsets(query_offsets.size() * sizeof(std::int64_t), options.stream);
  gd::copy_to_device(offsets.as<void>(), query_offsets.data(),
                     query_offsets.size() * sizeof(std::int64_t), options.stream);
  gd::ScoreLaunch launch;
  launch.queries = rows_of(queries);
  launch.query_offsets = offsets.as<std::int64_t>();
  launch.n_queries = query_offsets.size() - 1;
  launch.docs = rows_of(docs.tokens);
  launch.doc_offsets = docs.offsets;
  launch.n_docs = docs.count;
  launch.weights = query_weights;
  launch.max_query_rows = longest_query(query_offsets);
  launch.cosine = options.similarity == Similarity::cosine;
  launch.out = out;
  launch.stream = options.stream;
  gd::launch_maxsim(launch);
}

void top_k_device(const float* scores, std::size_t n_rows, std::size_t n_cols, std::size_t k,
                  std::int64_t* indices, float* top_scores, const GpuOptions& options) {
  if (k > n_cols)
    throw_invalid("k: asked for the top " + std::to_string(k) + " of only " +
                  std::to_string(n_cols) + " scores per row");
  check_options(options);
  if (n_rows > 0 && k > 0 && (scores == nullptr || indices == nullptr || top_scores == nullptr))
    throw_invalid("scores / indices / top_scores: device pointers must not be null");
  require_usable(options.device);
  gd::DeviceGuard guard(options.device.index);
  gd::launch_top_k(scores, n_rows, n_cols, k, indices, top_scores, options.stream);
}

std::vector<float> maxsim_packed(const TokenMatrix& query, const PackedTokens& docs,
                                 const GpuOptions& options, std::span<const float> query_weights) {
  std::int64_t offsets[2];
  return maxsim_all_pairs(single_query(query, offsets), docs, options, query_weights);
}

std::vector<float> maxsim_all_pairs(const PackedTokens& queries, const PackedTokens& docs,
                                    const GpuOptions& options,
                                    std::span<const float> query_weights) {
  check_host(queries, docs, query_weights.size(), options);
  require_usable(options.device);
  gd::DeviceGuard guard(options.device.index);
  if (docs.size() == 0) return {};
  void* stream = options.stream;
  UploadedRows d(docs.tokens, stream);
  Scratch offsets(docs.offsets.size() * sizeof(std::int64_t), stream);
  gd::copy_to_device(offsets.as<void>(), docs.offsets.data(),
                     docs.offsets.size() * sizeof(std::int64_t), stream);
  const DevicePacked device_docs{d.view, offsets.as<std::int64_t>(), docs.size()};
  return all_pairs_on(queries, device_docs, query_weights, options.similarity == Similarity::cosine,
                      stream);
}

struct GpuDocumentSet::Impl {
  Device device;
  DevicePacked docs;
  void* tokens = nullptr;
  void* scales = nullptr;
  void* offsets = nullptr;
  std::size_t bytes = 0;

  ~Impl() {
    if (!tokens && !scales && !offsets) return;
    try {
      gd::DeviceGuard guard(device.index);
      gd::device_free(tokens);
      gd::device_free(scales);
      gd::device_free(offsets);
    } catch (...) {
      // A device that went away cannot take its memory back; nothing else to do.
    }
  }
};

GpuDocumentSet::GpuDocumentSet(const PackedTokens& docs, Device device)
    : impl_(std::make_unique<Impl>()) {
  validate(docs, "docs");
  check_dim(docs.tokens.dim, "docs");
  check_options(GpuOptions{Similarity::dot, device, nullptr});
  require_usable(device);
  gd::DeviceGuard guard(device.index);
  Impl& s = *impl_;
  s.device = device;
  const std::size_t token_bytes = docs.tokens.rows * row_bytes(docs.tokens.dtype, docs.tokens.dim);
  const std::size_t scale_bytes =
      docs.tokens.dtype == DType::i8 ? docs.tokens.rows * sizeof(float) : 0;
  const std::size_t offset_bytes = docs.offsets.size() * sizeof(std::int64_t);
  s.tokens = gd::device_alloc(token_bytes);
  if (scale_bytes) s.scales = gd::device_alloc(scale_bytes);
  s.offsets = gd::device_alloc(offset_bytes);
  s.bytes = token_bytes + scale_bytes + offset_bytes;
  gd::copy_to_device(s.tokens, docs.tokens.data, token_bytes, nullptr);
  if (scale_bytes) gd::copy_to_device(s.scales, docs.tokens.scales, scale_bytes, nullptr);
  gd::copy_to_device(s.offsets, docs.offsets.data(), offset_bytes, nullptr);
  gd::synchronize(nullptr);
  s.docs = {{docs.tokens.dtype, s.tokens, docs.tokens.rows, docs.tokens.dim,
             static_cast<const float*>(s.scales)},
            static_cast<const std::int64_t*>(s.offsets),
            docs.size()};
}

GpuDocumentSet::~GpuDocumentSet() = default;
GpuDocumentSet::GpuDocumentSet(GpuDocumentSet&&) noexcept = default;
GpuDocumentSet& GpuDocumentSet::operator=(GpuDocumentSet&&) noexcept = default;

std::size_t GpuDocumentSet::size() const noexcept { return impl_->docs.count; }
std::size_t GpuDocumentSet::dim() const noexcept { return impl_->docs.tokens.dim; }
DType GpuDocumentSet::dtype() const noexcept { return impl_->docs.tokens.dtype; }
Device GpuDocumentSet::device() const noexcept { return impl_->device; }
std::size_t GpuDocumentSet::device_bytes() const noexcept { return impl_->bytes; }
DevicePacked GpuDocumentSet::view() const noexcept { return impl_->docs; }

std::vector<float> GpuDocumentSet::score(const TokenMatrix& query, Similarity similarity,
                                         std::span<const float> query_weights) const {
  std::int64_t offsets[2];
  return score_all(single_query(query, offsets), similarity, query_weights);
}

namespace {

void check_set_queries(const PackedTokens& queries, const DevicePacked& docs,
                       std::size_t n_weights) {
  validate(queries.tokens, "queries");
  check_query_offsets(queries.offsets, queries.tokens.rows);
  check_pair(queries.tokens.dtype, queries.tokens.rows, queries.tokens.dim, docs.tokens.dtype,
             docs.tokens.rows, docs.tokens.dim);
  check_weights(n_weights, queries.tokens.rows);
}

}  // namespace

std::vector<float> GpuDocumentSet::score_all(const PackedTokens& queries, Similarity similarity,
                                             std::span<const float> query_weights) const {
  check_set_queries(queries, impl_->docs, query_weights.size());
  gd::DeviceGuard guard(impl_->device.index);
  return all_pairs_on(queries, impl_->docs, query_weights, similarity == Similarity::cosine,
                      nullptr);
}

std::vector<std::vector<Ranked>> GpuDocumentSet::top_k(const PackedTokens& queries, std::size_t k,
                                                       Similarity similarity,
                                                       std::span<const float> query_weights) const {
  check_set_queries(queries, impl_->docs, query_weights.size());
  const std::size_t n_docs = impl_->docs.count;
  if (k > n_docs)
    throw_invalid("k: asked for the top " + std::to_string(k) + " of only " +
                  std::to_string(n_docs) + " documents");
  const std::size_t n_q = queries.size();
  std::vector<std::vector<Ranked>> result(n_q);
  if (k == 0) return result;
  gd::DeviceGuard guard(impl_->device.index);
  Scratch scores(n_q * n_docs * sizeof(float), nullptr);
  score_into(queries, impl_->docs, query_weights, similarity == Similarity::cosine,
             scores.as<float>(), nullptr);
  Scratch indices(n_q * k * sizeof(std::int64_t), nullptr);
  Scratch best(n_q * k * sizeof(float), nullptr);
  gd::launch_top_k(scores.as<float>(), n_q, n_docs, k, indices.as<std::int64_t>(), best.as<float>(),
                   nullptr);
  std::vector<std::int64_t> host_indices(n_q * k);
  std::vector<float> host_scores(n_q * k);
  gd::copy_to_host(host_indices.data(), indices.as<void>(), host_indices.size() * 8, nullptr);
  gd::copy_to_host(host_scores.data(), best.as<void>(), host_scores.size() * 4, nullptr);
  gd::synchronize(nullptr);
  for (std::size_t q = 0; q < n_q; ++q) {
    result[q].resize(k);
    for (std::size_t i = 0; i < k; ++i)
      result[q][i] = {host_indices[q * k + i], host_scores[q * k + i]};
  }
  return result;
}

}  // namespace rank_rerank::gpu
