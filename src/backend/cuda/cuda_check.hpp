// Turning CUDA runtime and cuBLASLt status codes into the library's exceptions.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <string>

#include "backend/backend.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::backend::cuda {

// Throws DeviceOutOfMemory for allocation failures (the model layer splits the batch and
// retries), Error (runtime) for anything else, naming `what`.
inline void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call does not report it again
  const std::string message = std::string("CUDA ") + what + ": " + cudaGetErrorString(status);
  if (status == cudaErrorMemoryAllocation) throw DeviceOutOfMemory(message);
  throw Error(ErrorKind::runtime, message);
}

// After a kernel launch: configuration errors surface here, asynchronous faults at the next sync.
inline void check_launch(const char* what) { check(cudaGetLastError(), what); }

inline void check(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  const std::string message =
      std::string("cuBLASLt ") + what + ": " + cublasLtGetStatusString(status);
  if (status == CUBLAS_STATUS_ALLOC_FAILED) throw DeviceOutOfMemory(message);
  throw Error(ErrorKind::runtime, message);
}

}  // namespace rank_rerank::backend::cuda
