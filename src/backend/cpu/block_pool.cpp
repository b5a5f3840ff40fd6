#include "backend/cpu/block_pool.hpp"

#include <utility>

namespace rank_rerank::backend::cpu {

std::shared_ptr<void> BlockPool::take(std::size_t floats) {
  if (floats * sizeof(float) < kMinBytes)
    return std::shared_ptr<void>(std::make_shared_for_overwrite<float[]>(floats));
  Block block;
  {
    std::lock_guard lock(mutex_);
    // The smallest held block that fits without wasting more than a quarter.
    auto best = held_.end();
    for (auto it = held_.begin(); it != held_.end(); ++it)
      if (it->floats >= floats && it->floats <= floats + floats / 4 &&
          (best == held_.end() || it->floats < best->floats))
        best = it;
    if (best != held_.end()) {
      block = std::move(*best);
      held_.erase(best);
      held_bytes_ -= block.floats * sizeof(float);
    }
  }
  if (!block.data) {
    block.data = std::make_unique_for_overwrite<float[]>(floats);
    block.floats = floats;
  }
  float* data = block.data.release();
  const std::size_t size = block.floats;
  return std::shared_ptr<void>(data, [pool = weak_from_this(), size](void* p) {
    Block returned{std::unique_ptr<float[]>(static_cast<float*>(p)), size};
    if (const std::shared_ptr<BlockPool> alive = pool.lock()) alive->keep(std::move(returned));
  });
}

void BlockPool::keep(Block block) {
  std::vector<Block> dropped;  // freed after the lock is released
  std::lock_guard lock(mutex_);
  held_bytes_ += block.floats * sizeof(float);
  held_.push_back(std::move(block));
  while (!held_.empty() && (held_bytes_ > kMaxBytes || held_.size() > kMaxBlocks)) {
    held_bytes_ -= held_.front().floats * sizeof(float);
    dropped.push_back(std::move(held_.front()));
    held_.erase(held_.begin());
  }
}

std::size_t BlockPool::held_bytes() const {
  std::lock_guard lock(mutex_);
  return held_bytes_;
}

std::size_t BlockPool::held_blocks() const {
  std::lock_guard lock(mutex_);
  return held_.size();
}

}  // namespace rank_rerank::backend::cpu
