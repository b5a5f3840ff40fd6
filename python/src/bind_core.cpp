#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/cpu_blas.hpp"
#include "rank_rerank/device.hpp"
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
  m.def("get_gpu_device", &gpu_device_name,
        "'cuda' when a CUDA device is usable, 'metal' for Metal, else 'cpu'.");
  m.def(
      "list_devices",
      [] {
        nb::list out;
        for (const DeviceInfo& info : list_devices()) {
          nb::dict d;
          d["device"] = info.device.to_string();
          d["name"] = info.name;
          d["compute_capability"] = nb::make_tuple(info.compute_major, info.compute_minor);
          d["multiprocessors"] = info.multiprocessors;
          d["free_bytes"] = info.free_bytes;
          d["total_bytes"] = info.total_bytes;
          out.append(d);
        }
        return out;
      },
      "The CPU, then every usable CUDA device: name, compute capability, SMs, free/total memory.");
  m.def(
      "cpu_blas",
      [] {
        const CpuBlasStatus s = cpu_blas_status();
        nb::dict d;
        d["core"] = s.core;
        d["recommended"] = s.recommended;
        d["generic"] = s.generic();
        d["bf16_kernel"] = s.bf16_kernel;
        return d;
      },
      "The OpenBLAS kernels the CPU backend's GEMMs run on ('core'), the ones this CPU allows\n"
      "('recommended'), whether OpenBLAS fell back to generic ones ('generic': set\n"
      "OPENBLAS_CORETYPE before the process starts; importing rank_rerank does it when unset),\n"
      "and the kernel of dtype='bfloat16' linear layers on the CPU ('bf16_kernel': 'amx',\n"
      "'avx512_bf16', or 'decoded_f32', i.e. bf16 weights decoded for the float32 GEMMs).");
  m.def(
      "resolve_device",
      [](const std::string& text) {
        const Device device = Device::parse(text);
        require_usable(device);
        return device.to_string();
      },
      nb::arg("device"),
      "Parse 'cpu', 'cuda', 'cuda:N', 'metal' or 'auto' and check the device is usable; returns "
      "the canonical name ('auto' falls back to 'cpu' and says why once).");
}

}  // namespace rank_rerank::python
