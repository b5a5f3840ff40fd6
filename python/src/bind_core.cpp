#include <nanobind/stl/string.h>

#include "bindings.hpp"
#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/threading.hpp"

namespace nb = nanobind;

namespace rank_rerank::python {

void bind_core(nb::module_& m) {
  m.def("get_num_threads", &default_num_threads,
        "Worker threads used by the parallel scoring functions.");
  m.def("set_num_threads", &set_default_num_threads, nb::arg("n"),
        "Set the worker thread count; 0 restores the hardware default.");
  m.def(
      "cuda_status",
      [] {
        const BackendStatus s = cuda_status();
        nb::dict d;
        d["compiled"] = s.compiled;
        d["device_count"] = s.device_count;
        d["usable"] = s.usable();
        d["reason"] = s.reason;
        return d;
      },
      "Whether the CUDA backend is built and usable, with the reason when it is not.");
}

}  // namespace rank_rerank::python
