# Every dependency comes from a distribution package or PyPI; nothing is vendored.
find_package(hwy REQUIRED)          # Google Highway: SIMD with runtime dispatch
find_package(OpenMP REQUIRED)       # threads across documents
# No BLAS yet: the scoring core's GEMM-shaped work (MaxSim tiles, pooling and diversity
# similarity matrices) runs in fused Highway kernels, so no similarity matrix is written and
# read back, and a pthreads BLAS called from OpenMP workers would oversubscribe the cores.
find_package(nlohmann_json 3 REQUIRED)  # JSON: safetensors headers, config.json, shard indexes
find_package(CURL REQUIRED)             # Hugging Face Hub downloads

# CUDA is optional: AUTO builds it when a toolkit is found, ON insists, OFF skips it.
set(RANK_RERANK_HAS_CUDA OFF)
if(NOT RANK_RERANK_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # One architecture keeps CI builds lean; GPU hosts pass their own (e.g. 90a).
      set(CMAKE_CUDA_ARCHITECTURES 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(RANK_RERANK_HAS_CUDA ON)
  elseif(RANK_RERANK_CUDA STREQUAL "ON")
    message(FATAL_ERROR "RANK_RERANK_CUDA=ON but no CUDA compiler was found (is nvcc on PATH?)")
  endif()
endif()
message(STATUS "rank_rerank: CUDA backend ${RANK_RERANK_HAS_CUDA}")
