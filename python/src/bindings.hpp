// One registration function per area; module.cpp calls them all.
#pragma once

#include <nanobind/nanobind.h>

namespace rank_rerank::python {

void bind_core(nanobind::module_& m);
void bind_maxsim(nanobind::module_& m);
void bind_quantize(nanobind::module_& m);
void bind_vectors(nanobind::module_& m);
void bind_pooling(nanobind::module_& m);
void bind_diversity(nanobind::module_& m);
void bind_fusion(nanobind::module_& m);
void bind_io(nanobind::module_& m);
void bind_tokenizer(nanobind::module_& m);
void bind_models(nanobind::module_& m);
void bind_gpu_maxsim(nanobind::module_& m);
void bind_pipeline(nanobind::module_& m);
void bind_multi_gpu(nanobind::module_& m);

}  // namespace rank_rerank::python
