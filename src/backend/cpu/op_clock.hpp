// The CPU backend's per-op profiling (Backend::set_op_timing): wall time of each op on the host
// clock. CPU ops return when their work is done, so the span around the call is the op's time.
// Costs one branch per op while disabled (labels are not even built). Ops may run from several
// threads at once (encoders share a backend), so the totals are behind a mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "backend/op_totals.hpp"

namespace rank_rerank::backend::cpu {

class OpClock {
 public:
  void set_enabled(bool enabled) noexcept { enabled_ = enabled; }

  // Adds the time until it goes out of scope to its label's total.
  class Span {
   public:
    Span(OpClock* clock, std::string label)
        : clock_(clock), label_(std::move(label)), start_(std::chrono::steady_clock::now()) {}
    Span(const Span&) = delete;
    Span& operator=(const Span&) = delete;
    ~Span() {
      if (clock_ == nullptr) return;
      const std::chrono::duration<double, std::milli> elapsed =
          std::chrono::steady_clock::now() - start_;
      clock_->record(label_, elapsed.count());
    }

   private:
    OpClock* clock_;
    std::string label_;
    std::chrono::steady_clock::time_point start_;
  };

  // A span named by `label()`, which is called only when timing is on.
  template <typename Label>
  Span time(Label&& label) {
    if (!enabled_) return Span(nullptr, {});
    return Span(this, label());
  }

  std::vector<OpTime> take() {
    std::lock_guard lock(mutex_);
    return totals_.take();
  }

 private:
  void record(const std::string& label, double milliseconds) {
    std::lock_guard lock(mutex_);
    totals_.add(label, milliseconds);
  }

  std::atomic<bool> enabled_ = false;
  std::mutex mutex_;
  OpTotals totals_;
};

}  // namespace rank_rerank::backend::cpu
