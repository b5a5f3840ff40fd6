#include <nanobind/nanobind.h>

#include "bindings.hpp"
#include "rank_rerank/error.hpp"

namespace nb = nanobind;

NB_MODULE(_core, m) {
  m.doc() = "rank_rerank native core: late-interaction scoring and reranking.";
  // Bad arguments are ValueError, everything else RuntimeError.
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const rank_rerank::Error& e) {
      PyErr_SetString(e.kind() == rank_rerank::ErrorKind::invalid_argument ? PyExc_ValueError
                                                                           : PyExc_RuntimeError,
                      e.what());
    }
  });
  rank_rerank::python::bind_core(m);
  rank_rerank::python::bind_maxsim(m);
  rank_rerank::python::bind_quantize(m);
  rank_rerank::python::bind_vectors(m);
  rank_rerank::python::bind_pooling(m);
  rank_rerank::python::bind_diversity(m);
  rank_rerank::python::bind_fusion(m);
  rank_rerank::python::bind_io(m);
  rank_rerank::python::bind_tokenizer(m);
  rank_rerank::python::bind_models(m);
  rank_rerank::python::bind_gpu_maxsim(m);
  rank_rerank::python::bind_pipeline(m);
  rank_rerank::python::bind_multi_gpu(m);
}
