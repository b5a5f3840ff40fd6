// Memory and graph of one recorded forward pass (CUDA Graphs for repeated batch shapes).
//
// While recording, the backend's allocations come from this recording's device arena and its
// small host inputs (token ids, offsets) go through this recording's pinned input slots, so the
// graph's kernels and copies name addresses that stay valid for its whole life. A replay re-runs
// only the host side of the forward pass: the inputs land in the same slots, in the same order,
// and one graph launch does all the device work.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "backend/cuda/device_memory.hpp"

namespace rank_rerank::backend::cuda {

class GraphRecording {
 public:
  GraphRecording(const std::shared_ptr<DeviceContext>& context, std::size_t device_bytes,
                 std::size_t host_bytes);
  ~GraphRecording();
  GraphRecording(const GraphRecording&) = delete;
  GraphRecording& operator=(const GraphRecording&) = delete;

  std::size_t device_bytes() const noexcept { return device_bytes_; }

  // The next `bytes` of the arena (256-byte aligned); the pointer keeps the arena alive. Throws
  // Error (runtime) when the arena is full.
  std::shared_ptr<void> device(std::size_t bytes);
  // Recording: a new pinned input slot of `bytes`. Replay: the next slot, which must have the
  // same size (the forward pass stages the same inputs in the same order).
  void* record_input(std::size_t bytes);
  void* replay_input(std::size_t bytes);

  // Takes the captured graph (and destroys it once instantiated).
  void instantiate(cudaGraph_t graph);
  // The forward pass's output: `bytes` at `address`, which must lie in the arena.
  void set_output(const void* address, std::size_t bytes);
  const void* output() const noexcept;
  std::size_t output_bytes() const noexcept { return output_bytes_; }

  // Before a replay re-runs the host side: waits until the previous launch has read its inputs,
  // then rewinds the arena and the slots.
  void begin_replay();
  void launch(cudaStream_t stream);

 private:
  std::shared_ptr<void> arena_;
  std::size_t device_bytes_;
  std::size_t device_used_ = 0;
  std::byte* host_ = nullptr;
  std::size_t host_bytes_;
  std::size_t host_used_ = 0;
  std::vector<std::pair<std::size_t, std::size_t>> slots_;  // offset, bytes
  std::size_t next_slot_ = 0;
  cudaGraphExec_t exec_ = nullptr;
  cudaEvent_t launched_ = nullptr;
  std::size_t output_offset_ = 0;
  std::size_t output_bytes_ = 0;
};

}  // namespace rank_rerank::backend::cuda
