// Linear layers on cuBLASLt: y[rows, out] = x[rows, in] W^T (+ bias, + an activation cuBLASLt
// can fuse into its epilogue), W in the torch [out, in] layout.
//
// Descriptors are built once per exact shape. The algorithm is chosen once per shape bucket (rows
// rounded up to a power of two, the other dimensions exact) and shared by the whole process, so a
// new batch size costs nothing when its bucket has been seen. In f16 / bf16 cuBLASLt's heuristic
// proposes its top 16 and each is timed on the first real operands of the bucket (launched back to
// back inside a CUDA Graph, as the forward pass runs them); f32 takes the
// heuristic's first pick (reproducible numbers, as the CPU-matching default dtype should give).
// While the stream is captured into a CUDA Graph nothing can be timed: the first pick is taken.
#pragma once

#include <cublasLt.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "backend/cuda/device_memory.hpp"
#include "backend/cuda/encoder_kernels.hpp"

namespace rank_rerank::backend::cuda {

// Epilogues cuBLASLt computes exactly as our activations: its GELU is the tanh approximation
// (so exact-erf GELU, tanh and sigmoid run as a separate fused bias + activation kernel).
enum class GemmEpilogue : std::uint8_t { none, bias, relu, bias_relu, gelu_tanh, bias_gelu_tanh };

class LtGemm {
 public:
  LtGemm(std::shared_ptr<DeviceContext> context, Element element);
  ~LtGemm();
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

  void linear(const void* x, std::size_t rows, std::size_t in, const void* weight, const void* bias,
              std::size_t out, GemmEpilogue epilogue, void* y);

 private:
  struct Plan;
  struct Operands {
    const void* x;
    const void* weight;
    const void* bias;  // read by the epilogue when it has one
    void* y;
  };
  using ShapeKey = std::tuple<std::size_t, std::size_t, std::size_t, GemmEpilogue, unsigned>;
  Plan& plan_for(std::size_t rows, std::size_t in, std::size_t out, GemmEpilogue epilogue,
                 unsigned alignment, const Operands& operands);
  bool choose_algorithm(const Plan& plan, unsigned alignment, const Operands& operands,
                        bool time_candidates, cublasLtMatmulAlgo_t& algo);
  // Times `launches` runs of `algo` captured in one CUDA Graph; false if it cannot run.
  bool time_in_graph(const Plan& plan, const cublasLtMatmulAlgo_t& algo, const Operands& operands,
                     int launches, cudaEvent_t start, cudaEvent_t stop, float& ms);
  cublasStatus_t run(const Plan& plan, const cublasLtMatmulAlgo_t& algo, const Operands& operands);

  std::shared_ptr<DeviceContext> context_;
  Element element_;
  std::string device_model_;  // name, compute capability, SMs: devices that choose alike
  cublasLtHandle_t handle_ = nullptr;
  std::shared_ptr<void> workspace_;
  std::size_t workspace_bytes_ = 0;
  std::map<ShapeKey, std::unique_ptr<Plan>> plans_;  // exact shapes
};

}  // namespace rank_rerank::backend::cuda
