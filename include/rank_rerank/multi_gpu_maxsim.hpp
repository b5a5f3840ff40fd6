// MaxSim over a document collection sharded across several GPUs: each listed device holds one
// contiguous shard (documents split so the shards have nearly equal token counts), every query is
// scored on all shards at once (one worker thread per device), and the per-shard top-k lists are
// merged on the host. Scores equal those of one GpuDocumentSet holding every document, bit for bit
// (each document's score is computed by itself), and the merged ranking is the one-device ranking:
// higher first, ties by lower (global) index, NaN last. A device may be listed twice (two shards
// on one GPU), which is how this is tested on a one-GPU host.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "rank_rerank/device.hpp"
#include "rank_rerank/gpu_maxsim.hpp"

namespace rank_rerank::gpu {

// Below this many bytes of documents per shard, fewer devices are used (one below twice this):
// scanning 1 GiB takes about 0.4 ms on an H100, the order of what a second device costs in thread
// start and launches (measured on one H100, docs/performance.md), so a smaller set would gain
// nothing from another device and could lose.
inline constexpr std::size_t kMinShardBytes = std::size_t{1} << 30;

class ShardedDocumentSet {
 public:
  // Validates `docs` and the devices as GpuDocumentSet does (dimension 32 / 64 / 96 / 128, every
  // device a usable CUDA device), then uploads each shard to its device in parallel. Shards:
  // one per min_shard_bytes of documents (tokens and scales), at least one, at most one per
  // device and one per document (0 and 1: one per device while documents last); the first devices
  // of the list get them. Throws Error naming the device whose upload failed (e.g. out of memory),
  // after every upload has finished.
  ShardedDocumentSet(const PackedTokens& docs, std::span<const Device> devices,
                     std::size_t min_shard_bytes = kMinShardBytes);
  ~ShardedDocumentSet();
  ShardedDocumentSet(ShardedDocumentSet&&) noexcept;
  ShardedDocumentSet& operator=(ShardedDocumentSet&&) noexcept;

  std::size_t size() const noexcept;  // documents, all shards together
  std::size_t dim() const noexcept;
  DType dtype() const noexcept;
  // The devices holding a shard, in shard order.
  std::vector<Device> devices() const;
  // Shard s holds documents [offsets[s], offsets[s + 1]); shards() + 1 entries.
  std::vector<std::size_t> shard_offsets() const;
  std::size_t shards() const noexcept;
  // Device memory held by each shard (documents, scales, offsets), in shard order.
  std::vector<DeviceMemory> device_memory() const;

  // The same results as GpuDocumentSet's methods over all documents.
  std::vector<float> score(const TokenMatrix& query, Similarity similarity = Similarity::dot,
                           std::span<const float> query_weights = {}) const;
  std::vector<float> score_all(const PackedTokens& queries, Similarity similarity = Similarity::dot,
                               std::span<const float> query_weights = {}) const;
  std::vector<std::vector<Ranked>> top_k(const PackedTokens& queries, std::size_t k,
                                         Similarity similarity = Similarity::dot,
                                         std::span<const float> query_weights = {}) const;

 private:
  std::vector<GpuDocumentSet> shards_;
  std::vector<std::size_t> offsets_;  // shards_.size() + 1 document boundaries
};

}  // namespace rank_rerank::gpu
