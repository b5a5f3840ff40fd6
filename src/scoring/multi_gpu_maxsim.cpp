// ShardedDocumentSet: documents split by token count over several devices, scored in parallel.
#include "rank_rerank/multi_gpu_maxsim.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "core/device_workers.hpp"
#include "rank_rerank/error.hpp"
#include "scoring/top_k_merge.hpp"

namespace rank_rerank::gpu {
namespace {

// Documents [begin, end) of `docs` with their offsets rebased to start at 0.
struct Shard {
  std::vector<std::int64_t> offsets;
  PackedTokens view;
  Shard(const PackedTokens& docs, std::size_t begin, std::size_t end) {
    const std::int64_t first = docs.offsets[begin];
    for (std::size_t i = begin; i <= end; ++i) offsets.push_back(docs.offsets[i] - first);
    view = {docs.tokens.slice(static_cast<std::size_t>(first),
                              static_cast<std::size_t>(docs.offsets[end])),
            offsets};
  }
};

std::vector<std::string> device_names(const std::vector<Device>& devices) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < devices.size(); ++i)
    names.push_back(devices[i].to_string() + " (shard " + std::to_string(i) + ")");
  return names;
}

}  // namespace

ShardedDocumentSet::ShardedDocumentSet(const PackedTokens& docs, std::span<const Device> devices,
                                       std::size_t min_shard_bytes) {
  if (devices.empty()) throw_invalid("devices: the list is empty (expected e.g. cuda:0, cuda:1)");
  validate(docs, "docs");
  for (const Device& d : devices)
    if (!d.is_cuda())
      throw_invalid("devices: GPU MaxSim runs on CUDA devices, got '" + d.to_string() + "'");
  for (const Device& d : devices) require_usable(d);
  const std::size_t n = docs.size();
  std::vector<std::size_t> tokens(n);
  for (std::size_t i = 0; i < n; ++i)
    tokens[i] = static_cast<std::size_t>(docs.offsets[i + 1] - docs.offsets[i]);
  const std::size_t bytes =
      docs.tokens.rows * (row_bytes(docs.tokens.dtype, docs.tokens.dim) +
                          (docs.tokens.dtype == DType::i8 ? sizeof(float) : 0));
  const std::size_t parts = detail::devices_to_use(bytes, n, devices.size(), min_shard_bytes);
  offsets_ = detail::split_contiguous(tokens, parts);
  const std::vector<Device> used(devices.begin(), devices.begin() + static_cast<long>(parts));
  std::vector<std::optional<GpuDocumentSet>> built(parts);
  detail::run_on_devices(device_names(used), [&](std::size_t s, const std::atomic<bool>&) {
    if (n == 0) {  // no documents: one empty set, as GpuDocumentSet takes it
      built[s].emplace(docs, used[s]);
      return;
    }
    const Shard shard(docs, offsets_[s], offsets_[s + 1]);
    built[s].emplace(shard.view, used[s]);
  });
  for (std::optional<GpuDocumentSet>& set : built) shards_.push_back(std::move(*set));
}

ShardedDocumentSet::~ShardedDocumentSet() = default;
ShardedDocumentSet::ShardedDocumentSet(ShardedDocumentSet&&) noexcept = default;
ShardedDocumentSet& ShardedDocumentSet::operator=(ShardedDocumentSet&&) noexcept = default;

std::size_t ShardedDocumentSet::size() const noexcept { return offsets_.back(); }
std::size_t ShardedDocumentSet::dim() const noexcept { return shards_[0].dim(); }
DType ShardedDocumentSet::dtype() const noexcept { return shards_[0].dtype(); }
std::size_t ShardedDocumentSet::shards() const noexcept { return shards_.size(); }
std::vector<std::size_t> ShardedDocumentSet::shard_offsets() const { return offsets_; }

std::vector<Device> ShardedDocumentSet::devices() const {
  std::vector<Device> out;
  for (const GpuDocumentSet& s : shards_) out.push_back(s.device());
  return out;
}

std::vector<DeviceMemory> ShardedDocumentSet::device_memory() const {
  std::vector<DeviceMemory> out;
  for (const GpuDocumentSet& s : shards_)
    out.push_back({s.device(), s.device_bytes(), s.device_bytes()});
  return out;
}

std::vector<float> ShardedDocumentSet::score(const TokenMatrix& query, Similarity similarity,
                                             std::span<const float> query_weights) const {
  const std::int64_t offsets[2] = {0, static_cast<std::int64_t>(query.rows)};
  return score_all(PackedTokens{query, offsets}, similarity, query_weights);
}

std::vector<float> ShardedDocumentSet::score_all(const PackedTokens& queries, Similarity similarity,
                                                 std::span<const float> query_weights) const {
  std::vector<std::vector<float>> parts(shards_.size());
  detail::run_on_devices(device_names(devices()), [&](std::size_t s, const std::atomic<bool>&) {
    parts[s] = shards_[s].score_all(queries, similarity, query_weights);
  });
  const std::size_t n_q = queries.size(), n = size();
  std::vector<float> out(n_q * n);
  for (std::size_t s = 0; s < shards_.size(); ++s) {
    const std::size_t width = offsets_[s + 1] - offsets_[s];
    for (std::size_t q = 0; q < n_q; ++q)
      std::copy_n(parts[s].begin() + static_cast<std::ptrdiff_t>(q * width), width,
                  out.begin() + static_cast<std::ptrdiff_t>(q * n + offsets_[s]));
  }
  return out;
}

std::vector<std::vector<Ranked>> ShardedDocumentSet::top_k(
    const PackedTokens& queries, std::size_t k, Similarity similarity,
    std::span<const float> query_weights) const {
  if (k > size())
    throw_invalid("k: asked for the top " + std::to_string(k) + " of only " +
                  std::to_string(size()) + " documents");
  std::vector<std::vector<std::vector<Ranked>>> parts(shards_.size());
  detail::run_on_devices(device_names(devices()), [&](std::size_t s, const std::atomic<bool>&) {
    parts[s] = shards_[s].top_k(queries, std::min(k, shards_[s].size()), similarity, query_weights);
  });
  std::vector<std::vector<Ranked>> out(queries.size());
  for (std::size_t q = 0; q < out.size(); ++q) {
    std::vector<Ranked> candidates;
    for (std::size_t s = 0; s < shards_.size(); ++s)
      for (Ranked r : parts[s][q]) {
        r.index += static_cast<std::int64_t>(offsets_[s]);
        candidates.push_back(r);
      }
    out[q] = detail::merge_top_k(std::move(candidates), k);
  }
  return out;
}

}  // namespace rank_rerank::gpu
