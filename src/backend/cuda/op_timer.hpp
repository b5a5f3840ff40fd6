// Device time per op for profiling: CUDA events recorded around each op on the backend's stream,
// summed per label when read. Costs nothing while disabled (labels are not even built).
#pragma once

#include <cuda_runtime.h>

#include <string>
#include <utility>
#include <vector>

#include "backend/backend.hpp"

namespace rank_rerank::backend::cuda {

class OpTimer {
 public:
  explicit OpTimer(cudaStream_t stream) : stream_(stream) {}
  ~OpTimer();
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

  bool enabled() const noexcept { return enabled_; }
  void set_enabled(bool enabled) noexcept { enabled_ = enabled; }

  // Ends the op's time span when it goes out of scope.
  class Span {
   public:
    Span(OpTimer* timer, std::string label) : timer_(timer), label_(std::move(label)) {}
    Span(const Span&) = delete;
    Span& operator=(const Span&) = delete;
    ~Span() {
      if (timer_ != nullptr) timer_->end(std::move(label_));
    }

   private:
    OpTimer* timer_;
    std::string label_;
  };

  // A span over the work enqueued until it is destroyed; `label()` names it (called only when
  // timing is on).
  template <typename Label>
  Span time(Label&& label) {
    if (!enabled_) return Span(nullptr, {});
    begin();
    return Span(this, label());
  }

  // Per-label totals since the last call, largest first (waits for the recorded events).
  std::vector<OpTime> take();

 private:
  struct Mark {
    cudaEvent_t start, stop;
    std::string label;
  };
  void begin();
  void end(std::string label);
  cudaEvent_t event();

  cudaStream_t stream_;
  bool enabled_ = false;
  cudaEvent_t open_ = nullptr;
  std::vector<Mark> marks_;
  std::vector<cudaEvent_t> spare_;
};

}  // namespace rank_rerank::backend::cuda
