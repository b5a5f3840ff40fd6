// Whether an accelerator backend can be used in this process, and if not, why.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace rank_rerank {

struct BackendStatus {
  bool compiled = false;  // the library was built with this backend
  int device_count = 0;   // usable devices found at run time
  std::string reason;     // empty when usable, else why not (no toolkit, no driver, no GPU)

  bool usable() const noexcept { return compiled && device_count > 0; }
};

// Probes the CUDA runtime once per call; never throws, never aborts on a machine without a
// GPU or driver.
BackendStatus cuda_status();

// What the CUDA runtime reports about one device.
struct CudaDeviceProperties {
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  int multiprocessors = 0;
  std::size_t free_bytes = 0;
  std::size_t total_bytes = 0;
};

// Every visible CUDA device in ordinal order; empty without CUDA, driver or GPU. Never throws.
std::vector<CudaDeviceProperties> cuda_device_properties();

}  // namespace rank_rerank
