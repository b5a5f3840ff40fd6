// Whether an accelerator backend can be used in this process, and if not, why.
#pragma once

#include <string>

namespace rank_rerank {

struct BackendStatus {
  bool compiled = false;   // the library was built with this backend
  int device_count = 0;    // usable devices found at run time
  std::string reason;      // empty when usable, else why not (no toolkit, no driver, no GPU)

  bool usable() const noexcept { return compiled && device_count > 0; }
};

// Probes the CUDA runtime once per call; never throws, never aborts on a machine without a
// GPU or driver.
BackendStatus cuda_status();

}  // namespace rank_rerank
