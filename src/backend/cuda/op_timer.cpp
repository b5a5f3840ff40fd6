#include "backend/cuda/op_timer.hpp"

#include "backend/cuda/cuda_check.hpp"
#include "backend/op_totals.hpp"

namespace rank_rerank::backend::cuda {

OpTimer::~OpTimer() {
  for (const Mark& m : marks_) {
    cudaEventDestroy(m.start);
    cudaEventDestroy(m.stop);
  }
  for (cudaEvent_t e : spare_) cudaEventDestroy(e);
  if (open_ != nullptr) cudaEventDestroy(open_);
}

cudaEvent_t OpTimer::event() {
  if (!spare_.empty()) {
    cudaEvent_t e = spare_.back();
    spare_.pop_back();
    return e;
  }
  cudaEvent_t e = nullptr;
  check(cudaEventCreate(&e), "cudaEventCreate (op timing)");
  return e;
}

void OpTimer::begin() {
  if (open_ == nullptr) open_ = event();
  check(cudaEventRecord(open_, stream_), "cudaEventRecord (op timing)");
}

void OpTimer::end(std::string label) {
  cudaEvent_t stop = event();
  check(cudaEventRecord(stop, stream_), "cudaEventRecord (op timing)");
  marks_.push_back({open_, stop, std::move(label)});
  open_ = nullptr;
}

std::vector<OpTime> OpTimer::take() {
  OpTotals totals;
  for (const Mark& m : marks_) {
    check(cudaEventSynchronize(m.stop), "cudaEventSynchronize (op timing)");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, m.start, m.stop), "cudaEventElapsedTime");
    totals.add(m.label, ms);
    spare_.push_back(m.start);
    spare_.push_back(m.stop);
  }
  marks_.clear();
  return totals.take();
}

}  // namespace rank_rerank::backend::cuda
