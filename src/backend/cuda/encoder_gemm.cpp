#include "backend/cuda/encoder_gemm.hpp"

#include <algorithm>
#include <bit>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "backend/cuda/cuda_check.hpp"

namespace rank_rerank::backend::cuda {
namespace {

constexpr std::size_t kWorkspaceBytes = std::size_t{32} << 20;
constexpr std::size_t kMaxPlans = 4096;  // exact shapes kept; variable lengths make many
constexpr int kCandidates = 16;          // heuristic proposals timed per shape bucket
// Up to this many rows a kernel lasts a few microseconds: time 20 launches, not 3.
constexpr std::size_t kManyLaunchRows = 4096;

cudaDataType_t data_type(Element e) {
  switch (e) {
    case Element::f16:
      return CUDA_R_16F;
    case Element::bf16:
      return CUDA_R_16BF;
    case Element::f32:
      break;
  }
  return CUDA_R_32F;
}

cublasLtEpilogue_t lt_epilogue(GemmEpilogue e) {
  switch (e) {
    case GemmEpilogue::bias:
      return CUBLASLT_EPILOGUE_BIAS;
    case GemmEpilogue::relu:
      return CUBLASLT_EPILOGUE_RELU;
    case GemmEpilogue::bias_relu:
      return CUBLASLT_EPILOGUE_RELU_BIAS;
    case GemmEpilogue::gelu_tanh:
      return CUBLASLT_EPILOGUE_GELU;
    case GemmEpilogue::bias_gelu_tanh:
      return CUBLASLT_EPILOGUE_GELU_BIAS;
    case GemmEpilogue::none:
      break;
  }
  return CUBLASLT_EPILOGUE_DEFAULT;
}

bool has_bias(GemmEpilogue e) {
  return e == GemmEpilogue::bias || e == GemmEpilogue::bias_relu ||
         e == GemmEpilogue::bias_gelu_tanh;
}

// Largest power of two (at most 256) dividing the address: cuBLASLt picks kernels by alignment.
unsigned alignment_of(const void* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  if (address == 0) return 256;
  return static_cast<unsigned>(std::min<std::uintptr_t>(address & (~address + 1), 256));
}

std::size_t row_bucket(std::size_t rows) { return std::bit_ceil(std::max<std::size_t>(rows, 16)); }

// The algorithm chosen per (GPU model, dtype, shape bucket), shared by every LtGemm of the
// process: timing picks among near-equal candidates, so backends choosing on their own could sum
// in different orders; sharing the first choice makes every model in a process compute the same
// numbers, on every device of one model.
using BucketKey =
    std::tuple<std::string, Element, std::size_t, std::size_t, std::size_t, GemmEpilogue, unsigned>;
struct ChosenAlgorithms {
  std::mutex mutex;
  std::map<BucketKey, cublasLtMatmulAlgo_t> by_bucket;
};
ChosenAlgorithms& chosen_algorithms() {
  static ChosenAlgorithms chosen;
  return chosen;
}

}  // namespace

struct LtGemm::Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  std::size_t rows = 0;
  ~Plan() {
    if (c != nullptr) cublasLtMatrixLayoutDestroy(c);
    if (b != nullptr) cublasLtMatrixLayoutDestroy(b);
    if (a != nullptr) cublasLtMatrixLayoutDestroy(a);
    if (op != nullptr) cublasLtMatmulDescDestroy(op);
  }
};

LtGemm::LtGemm(std::shared_ptr<DeviceContext> context, Element element)
    : context_(std::move(context)), element_(element) {
  cudaDeviceProp properties{};
  check(cudaGetDeviceProperties(&properties, context_->device()), "cudaGetDeviceProperties");
  device_model_ = std::string(properties.name) + " sm" + std::to_string(properties.major) +
                  std::to_string(properties.minor) + " x" +
                  std::to_string(properties.multiProcessorCount);
  check(cublasLtCreate(&handle_), "create handle");
  workspace_ = DeviceContext::allocate(context_, kWorkspaceBytes);
  workspace_bytes_ = kWorkspaceBytes;
}

LtGemm::~LtGemm() {
  plans_.clear();
  if (handle_ != nullptr) cublasLtDestroy(handle_);
}

cublasStatus_t LtGemm::run(const Plan& plan, const cublasLtMatmulAlgo_t& algo,
                           const Operands& operands) {
  const float one = 1.0f;
  const float zero = 0.0f;
  return cublasLtMatmul(handle_, plan.op, &one, operands.weight, plan.a, operands.x, plan.b, &zero,
                        operands.y, plan.c, operands.y, plan.c, &algo, workspace_.get(),
                        workspace_bytes_, context_->stream());
}

bool LtGemm::choose_algorithm(const Plan& plan, unsigned alignment, const Operands& operands,
                              bool time_candidates, cublasLtMatmulAlgo_t& algo) {
  cublasLtMatmulPreference_t preference = nullptr;
  check(cublasLtMatmulPreferenceCreate(&preference), "preference create");
  const std::uint64_t workspace = workspace_bytes_;
  const std::uint32_t align = alignment;
  cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                       &workspace, sizeof(workspace));
  for (auto attribute :
       {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES})
    cublasLtMatmulPreferenceSetAttribute(preference, attribute, &align, sizeof(align));
  cublasLtMatmulHeuristicResult_t results[kCandidates] = {};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      handle_, plan.op, plan.a, plan.b, plan.c, plan.c, preference, kCandidates, results, &found);
  cublasLtMatmulPreferenceDestroy(preference);
  if (status != CUBLAS_STATUS_SUCCESS || found == 0) return false;
  algo = results[0].algo;
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  check(cudaStreamIsCapturing(context_->stream(), &capturing), "cudaStreamIsCapturing");
  if (!time_candidates || found == 1 || capturing != cudaStreamCaptureStatusNone) return true;

  // Time each proposal on these operands (y is overwritten; the caller's run follows), the way
  // the forward pass runs it: launches back to back inside a CUDA Graph. Launched one by one, a
  // small shape's kernels take less time than cuBLASLt's host-side launch, so the timing would
  // measure the host and the pick would be a coin toss (at 128 rows it cost 4 us a layer).
  const int launches = plan.rows <= kManyLaunchRows ? 20 : 3;
  cudaEvent_t start = nullptr, stop = nullptr;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  float best = 0;
  bool timed = false;
  for (int i = 0; i < found; ++i) {
    if (results[i].state != CUBLAS_STATUS_SUCCESS) continue;
    float ms = 0;
    if (!time_in_graph(plan, results[i].algo, operands, launches, start, stop, ms)) continue;
    if (!timed || ms < best) {
      best = ms;
      algo = results[i].algo;
      timed = true;
    }
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cudaGetLastError();
  return true;
}

bool LtGemm::time_in_graph(const Plan& plan, const cublasLtMatmulAlgo_t& algo,
                           const Operands& operands, int launches, cudaEvent_t start,
                           cudaEvent_t stop, float& ms) {
  cudaStream_t stream = context_->stream();
  // An eager run first: it rejects what cannot run and loads the kernel outside the capture.
  if (run(plan, algo, operands) != CUBLAS_STATUS_SUCCESS) return false;
  if (cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess) return false;
  bool ok = true;
  for (int r = 0; r < launches && ok; ++r) ok = run(plan, algo, operands) == CUBLAS_STATUS_SUCCESS;
  cudaGraph_t graph = nullptr;
  ok = cudaStreamEndCapture(stream, &graph) == cudaSuccess && ok;
  cudaGraphExec_t exec = nullptr;
  ok = ok && cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess;
  if (graph != nullptr) cudaGraphDestroy(graph);
  // One launch to warm up, then the faster of two timed ones.
  for (int r = 0; r < 3 && ok; ++r) {
    ok = cudaEventRecord(start, stream) == cudaSuccess &&
         cudaGraphLaunch(exec, stream) == cudaSuccess &&
         cudaEventRecord(stop, stream) == cudaSuccess && cudaEventSynchronize(stop) == cudaSuccess;
    float elapsed = 0;
    ok = ok && cudaEventElapsedTime(&elapsed, start, stop) == cudaSuccess;
    if (ok && r == 1) ms = elapsed;
    if (ok && r == 2) ms = std::min(ms, elapsed);
  }
  if (exec != nullptr) cudaGraphExecDestroy(exec);
  return ok;
}

LtGemm::Plan& LtGemm::plan_for(std::size_t rows, std::size_t in, std::size_t out,
                               GemmEpilogue epilogue, unsigned alignment,
                               const Operands& operands) {
  const ShapeKey key{rows, in, out, epilogue, alignment};
  // The bias differs between layers of one shape: set on every call, before any run.
  const auto set_bias = [&](Plan& p) {
    if (has_bias(epilogue))
      check(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &operands.bias,
                                           sizeof(operands.bias)),
            "set bias");
  };
  if (auto it = plans_.find(key); it != plans_.end()) {
    set_bias(*it->second);
    return *it->second;
  }
  if (plans_.size() >= kMaxPlans) plans_.clear();
  auto plan = std::make_unique<Plan>();
  plan->rows = rows;
  const cudaDataType_t type = data_type(element_);
  check(cublasLtMatmulDescCreate(&plan->op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul desc");
  // Column-major view of the row-major product: y^T [out, rows] = W [out, in] . x^T [in, rows],
  // where W is the stored [in, out] column-major matrix transposed.
  const cublasOperation_t transpose = CUBLAS_OP_T;
  const cublasOperation_t keep = CUBLAS_OP_N;
  check(cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_TRANSA, &transpose,
                                       sizeof(transpose)),
        "set transa");
  check(cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_TRANSB, &keep, sizeof(keep)),
        "set transb");
  const cublasLtEpilogue_t lt = lt_epilogue(epilogue);
  check(cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &lt, sizeof(lt)),
        "set epilogue");
  if (has_bias(epilogue))
    check(cublasLtMatmulDescSetAttribute(plan->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &type,
                                         sizeof(type)),
          "set bias type");
  const auto u = [](std::size_t v) { return static_cast<std::uint64_t>(v); };
  const auto ld = [](std::size_t v) { return static_cast<std::int64_t>(v); };
  check(cublasLtMatrixLayoutCreate(&plan->a, type, u(in), u(out), ld(in)), "layout A");
  check(cublasLtMatrixLayoutCreate(&plan->b, type, u(in), u(rows), ld(in)), "layout B");
  check(cublasLtMatrixLayoutCreate(&plan->c, type, u(out), u(rows), ld(out)), "layout C");
  set_bias(*plan);

  // The algorithm is chosen once per (GPU model, dtype, shape bucket) and shared by every LtGemm
  // of the process, so replicas on several devices (or listed twice) compute the same numbers as
  // one device (docs/multi_gpu.md). f32 takes the heuristic's pick for the bucket's own row count,
  // so its numbers depend on a pass's shape alone, never on what ran before; f16 / bf16 time the
  // heuristic's candidates on the first shape of the bucket.
  const std::size_t bucket_rows = row_bucket(rows);
  const BucketKey bucket{device_model_, element_, bucket_rows, in, out, epilogue, alignment};
  ChosenAlgorithms& chosen = chosen_algorithms();
  {
    std::lock_guard lock(chosen.mutex);
    if (auto it = chosen.by_bucket.find(bucket); it != chosen.by_bucket.end()) {
      plan->algo = it->second;
      return *plans_.emplace(key, std::move(plan)).first->second;
    }
  }
  if (element_ == Element::f32 && bucket_rows != rows) {
    plan->algo = plan_for(bucket_rows, in, out, epilogue, alignment, operands).algo;
    return *plans_.emplace(key, std::move(plan)).first->second;
  }
  if (!choose_algorithm(*plan, alignment, operands, element_ != Element::f32, plan->algo))
    throw Error(ErrorKind::runtime, "cuBLASLt has no algorithm for a linear layer [" +
                                        std::to_string(rows) + ", " + std::to_string(in) + "] x [" +
                                        std::to_string(out) + ", " + std::to_string(in) + "]^T");
  {
    std::lock_guard lock(chosen.mutex);
    plan->algo = chosen.by_bucket.emplace(bucket, plan->algo).first->second;  // first one wins
  }
  return *plans_.emplace(key, std::move(plan)).first->second;
}

void LtGemm::linear(const void* x, std::size_t rows, std::size_t in, const void* weight,
                    const void* bias, std::size_t out, GemmEpilogue epilogue, void* y) {
  if (rows == 0 || out == 0) return;
  const unsigned alignment =
      std::min({alignment_of(x), alignment_of(weight), alignment_of(y), alignment_of(bias)});
  const Operands operands{x, weight, bias, y};
  Plan& plan = plan_for(rows, in, out, epilogue, alignment, operands);
  cublasStatus_t status = run(plan, plan.algo, operands);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED || status == CUBLAS_STATUS_INVALID_VALUE) {
    // The bucket's algorithm does not suit this exact shape: the heuristic's pick for this one.
    if (!choose_algorithm(plan, alignment, operands, false, plan.algo)) check(status, "matmul");
    status = run(plan, plan.algo, operands);
  }
  check(status, "matmul");
}

}  // namespace rank_rerank::backend::cuda
