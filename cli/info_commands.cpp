// `rank-rerank devices` (what can run work here) and `rank-rerank info` (what a model is).
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "common.hpp"
#include "rank_rerank/cpu_blas.hpp"
#include "rank_rerank/device.hpp"

namespace rank_rerank::cli {
namespace {

int run_devices(bool json) {
  const std::vector<DeviceInfo> devices = list_devices();
  nlohmann::json list = nlohmann::json::array();
  std::string text;
  const CpuBlasStatus blas = cpu_blas_status();
  for (const DeviceInfo& d : devices) {
    list.push_back({{"device", d.device.to_string()},
                    {"name", d.name},
                    {"compute_capability",
                     std::to_string(d.compute_major) + "." + std::to_string(d.compute_minor)},
                    {"multiprocessors", d.multiprocessors},
                    {"free_bytes", d.free_bytes},
                    {"total_bytes", d.total_bytes}});
    char line[512];
    if (d.device.is_cuda())
      std::snprintf(line, sizeof line, "%-8s %s  sm_%d%d  %d SMs  %.1f / %.1f GiB free\n",
                    d.device.to_string().c_str(), d.name.c_str(), d.compute_major, d.compute_minor,
                    d.multiprocessors, static_cast<double>(d.free_bytes) / (1 << 30),
                    static_cast<double>(d.total_bytes) / (1 << 30));
    else {
      list.back()["blas"] = blas.core;
      list.back()["bf16_kernel"] = blas.bf16_kernel;
      std::snprintf(line, sizeof line, "%-8s %s  %d threads  OpenBLAS %s kernels  bf16 %s\n",
                    d.device.to_string().c_str(), d.name.c_str(), d.multiprocessors,
                    blas.core.c_str(), blas.bf16_kernel.c_str());
    }
    text += line;
  }
  if (!json) {
    const std::string why = unusable_reason(Device::cuda());
    if (!why.empty()) text += "(cuda: " + why + ")\n";
  }
  return write_stdout(json ? list.dump() + "\n" : text) ? exit_ok : exit_io;
}

int run_info(const ModelArgs& args, bool json) {
  const std::optional<Reranker> reranker = load_reranker(args, "info");
  if (!reranker) return exit_load;
  const ModelIdentity& id = reranker->identity();
  const nlohmann::json info = {{"model", id.name},
                               {"kind", id.kind},
                               {"device", reranker->device()},
                               {"dtype", reranker->dtype()},
                               {"dim", id.dim},
                               {"max_length", reranker->max_length()},
                               {"fingerprint", id.fingerprint}};
  if (json) return write_stdout(info.dump() + "\n") ? exit_ok : exit_io;
  std::string text;
  for (const auto& [key, value] : info.items())
    text += key + ": " + (value.is_string() ? value.get<std::string>() : value.dump()) + "\n";
  return write_stdout(text) ? exit_ok : exit_io;
}

}  // namespace

void add_devices_command(CLI::App& app, int& exit_code) {
  auto json = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand(
      "devices", "List the devices this build can run on (the CPU, then usable CUDA GPUs).");
  sub->add_flag("--json", *json, "a JSON array instead of text");
  sub->callback([json, &exit_code] { exit_code = run_devices(*json); });
}

void add_info_command(CLI::App& app, int& exit_code) {
  struct InfoArgs {
    ModelArgs model;
    bool json = false;
  };
  auto args = std::make_shared<InfoArgs>();
  CLI::App* sub = app.add_subcommand(
      "info", "Load a model and print what it is: kind, dimension, lengths, device, fingerprint.");
  add_model_options(*sub, args->model);
  sub->add_flag("--json", args->json, "a JSON object instead of text");
  sub->callback([args, &exit_code] { exit_code = run_info(args->model, args->json); });
}

}  // namespace rank_rerank::cli
