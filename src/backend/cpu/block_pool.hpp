// Large float blocks of the CPU backend, kept after their last user lets go and handed out again.
//
// An encoder allocates the same few activation sizes on every forward pass (BERT-base over 4,096
// tokens: five buffers, 125 MB). Blocks that large come from mmap and go back to the kernel when
// freed, so every pass faulted its pages in again, each zeroed by the kernel: measured on a
// 16-thread Xeon, writing those five buffers fresh took 7.4 ms against 3.0 ms for written-to
// ones (69 against 24 ms on one thread). Small blocks skip the pool: malloc reuses them anyway.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace rank_rerank::backend::cpu {

class BlockPool : public std::enable_shared_from_this<BlockPool> {
 public:
  // Blocks below this many bytes are plain allocations.
  static constexpr std::size_t kMinBytes = std::size_t{1} << 20;
  // What the pool holds at most, in bytes and in blocks; past either, the oldest blocks go.
  static constexpr std::size_t kMaxBytes = std::size_t{512} << 20;
  static constexpr std::size_t kMaxBlocks = 16;

  static std::shared_ptr<BlockPool> make() { return std::shared_ptr<BlockPool>(new BlockPool); }

  // A block of at least `floats` floats (uninitialised): a kept one of between 1 and 1.25 times
  // the size when there is one, else a new one. The pool outliving it is not required.
  std::shared_ptr<void> take(std::size_t floats);

  // Bytes and blocks held for reuse (tests).
  std::size_t held_bytes() const;
  std::size_t held_blocks() const;

 private:
  BlockPool() = default;
  struct Block {
    std::unique_ptr<float[]> data;
    std::size_t floats = 0;
  };
  void keep(Block block);

  mutable std::mutex mutex_;
  std::vector<Block> held_;  // oldest first
  std::size_t held_bytes_ = 0;
};

}  // namespace rank_rerank::backend::cpu
