#include "backend/cuda/graph_recording.hpp"

#include <algorithm>
#include <string>

#include "backend/cuda/cuda_check.hpp"

namespace rank_rerank::backend::cuda {
namespace {

std::size_t round_up(std::size_t bytes) { return (bytes + 255) / 256 * 256; }

[[noreturn]] void mismatch(const std::string& what) {
  throw Error(ErrorKind::runtime, "CUDA graph replay: " + what);
}

}  // namespace

GraphRecording::GraphRecording(const std::shared_ptr<DeviceContext>& context,
                               std::size_t device_bytes, std::size_t host_bytes)
    : arena_(DeviceContext::allocate(context, round_up(device_bytes))),
      device_bytes_(round_up(device_bytes)),
      host_bytes_(round_up(host_bytes)) {
  void* host = nullptr;
  check(cudaMallocHost(&host, host_bytes_), "cudaMallocHost (graph inputs)");
  host_ = static_cast<std::byte*>(host);
  check(cudaEventCreateWithFlags(&launched_, cudaEventDisableTiming), "cudaEventCreate");
}

GraphRecording::~GraphRecording() {
  // The owner synchronised the stream first; errors at teardown are ignored.
  if (exec_ != nullptr) cudaGraphExecDestroy(exec_);
  if (launched_ != nullptr) cudaEventDestroy(launched_);
  if (host_ != nullptr) cudaFreeHost(host_);
  cudaGetLastError();
}

std::shared_ptr<void> GraphRecording::device(std::size_t bytes) {
  bytes = round_up(std::max<std::size_t>(bytes, 1));
  if (device_used_ + bytes > device_bytes_)
    mismatch("arena of " + std::to_string(device_bytes_) + " bytes is too small");
  void* address = static_cast<std::byte*>(arena_.get()) + device_used_;
  device_used_ += bytes;
  return {arena_, address};  // aliasing: keeps the arena alive
}

void* GraphRecording::record_input(std::size_t bytes) {
  const std::size_t size = round_up(bytes);
  if (host_used_ + size > host_bytes_)
    mismatch("input area of " + std::to_string(host_bytes_) + " bytes is too small");
  slots_.emplace_back(host_used_, bytes);
  host_used_ += size;
  return host_ + slots_.back().first;
}

void* GraphRecording::replay_input(std::size_t bytes) {
  if (next_slot_ >= slots_.size() || slots_[next_slot_].second != bytes)
    mismatch("the forward pass staged different inputs than when it was recorded");
  return host_ + slots_[next_slot_++].first;
}

void GraphRecording::instantiate(cudaGraph_t graph) {
  const cudaError_t status = cudaGraphInstantiate(&exec_, graph, 0);
  cudaGraphDestroy(graph);
  check(status, "cudaGraphInstantiate");
}

void GraphRecording::set_output(const void* address, std::size_t bytes) {
  const auto* base = static_cast<const std::byte*>(arena_.get());
  const auto* p = static_cast<const std::byte*>(address);
  if (p < base || p + bytes > base + device_bytes_)
    mismatch("the forward pass returned memory outside its recording");
  output_offset_ = static_cast<std::size_t>(p - base);
  output_bytes_ = bytes;
}

const void* GraphRecording::output() const noexcept {
  return static_cast<const std::byte*>(arena_.get()) + output_offset_;
}

void GraphRecording::begin_replay() {
  check(cudaEventSynchronize(launched_), "graph input reuse");
  device_used_ = 0;
  next_slot_ = 0;
}

void GraphRecording::launch(cudaStream_t stream) {
  check(cudaGraphLaunch(exec_, stream), "cudaGraphLaunch");
  check(cudaEventRecord(launched_, stream), "cudaEventRecord");
}

}  // namespace rank_rerank::backend::cuda
