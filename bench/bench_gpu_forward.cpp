// Times the BERT encoder's forward pass on token ids (no tokenization): the number the GPU
// encoder targets are stated in. Prints one JSON line.
//   bench_gpu_forward MODEL_DIR DEVICE DTYPE BATCH MIN_LEN MAX_LEN REPEATS [--profile]
// Lengths are uniform in [MIN_LEN, MAX_LEN] (fixed when equal), drawn once with a fixed seed.
// DEVICE may be "cpu" as well. --profile: afterwards, a table (on stderr) of time per op kind and
// shape over a forward pass, each op timed on its own (CUDA events, with no graph replay; the host
// clock on the CPU), averaged over 5 passes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "model/pretrained.hpp"
#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/compute_dtype.hpp"

int main(int argc, char** argv) {
  using namespace rank_rerank;
  const bool profile = argc == 9 && std::strcmp(argv[8], "--profile") == 0;
  if (argc != 8 && !profile) {
    std::fprintf(stderr,
                 "usage: %s MODEL_DIR DEVICE DTYPE BATCH MIN_LEN MAX_LEN REPEATS [--profile]\n",
                 argv[0]);
    return 2;
  }
  const Device device = Device::parse(argv[2]);
  const DType dtype = parse_compute_dtype(argv[3]);
  const auto batch = static_cast<std::size_t>(std::stoul(argv[4]));
  const auto min_len = static_cast<std::int64_t>(std::stol(argv[5]));
  const auto max_len = static_cast<std::int64_t>(std::stol(argv[6]));
  const int repeats = std::stoi(argv[7]);
  const auto free_bytes = [&]() -> std::size_t {
    if (!device.is_cuda()) return 0;
    const auto props = cuda_device_properties();
    return props.empty() ? 0 : props[static_cast<std::size_t>(device.index)].free_bytes;
  };
  const std::size_t free_before = free_bytes();
  model::PretrainedTransformer bert =
      model::load_transformer(argv[1], HubOptions{}, backend::make_backend(device, dtype));

  std::mt19937 rng(7);
  std::uniform_int_distribution<std::int64_t> length(min_len, max_len);
  std::uniform_int_distribution<std::int32_t> id(1000, 29000);
  model::PackedIds ids;
  for (std::size_t s = 0; s < batch; ++s) {
    const std::int64_t n = length(rng);
    for (std::int64_t t = 0; t < n; ++t) {
      ids.ids.push_back(id(rng));
      ids.type_ids.push_back(0);
    }
    ids.offsets.push_back(static_cast<std::int64_t>(ids.ids.size()));
  }
  backend::Backend& be = bert.encoder.backend();
  float probe = 0;
  const auto run = [&] {
    const backend::Buffer out = bert.encoder.forward(ids.view());
    be.download(out.data(), 1, &probe);  // waits for the whole pass
  };
  for (int i = 0; i < 3; ++i) run();
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  if (profile) {
    constexpr int kPasses = 5;
    be.set_op_timing(true);
    for (int i = 0; i < kPasses; ++i) run();
    const std::vector<backend::OpTime> times = be.take_op_times();
    be.set_op_timing(false);
    double total = 0;
    for (const auto& t : times) total += t.milliseconds / kPasses;
    std::fprintf(stderr, "| op | calls / pass | ms / pass | share |\n|---|---|---|---|\n");
    for (const auto& t : times)
      std::fprintf(stderr, "| %s | %zu | %.4f | %.1f%% |\n", t.op.c_str(), t.calls / kPasses,
                   t.milliseconds / kPasses, 100.0 * t.milliseconds / kPasses / total);
    std::fprintf(stderr, "| sum of op times | | %.4f | (wall median %.4f) |\n", total, median);
  }
  const std::size_t used = free_before > 0 ? free_before - free_bytes() : 0;
  std::printf(
      "{\"tokens\": %zu, \"median_ms\": %.4f, \"min_ms\": %.4f, \"tokens_per_s\": %.1f, "
      "\"device_bytes\": %zu}\n",
      ids.ids.size(), median, ms.front(), double(ids.ids.size()) / (median / 1000.0), used);
  return 0;
}
