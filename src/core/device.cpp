#include "rank_rerank/device.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank {
namespace {

std::string lowercase_trimmed(std::string_view text) {
  const auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && blank(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && blank(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string cpu_model_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) return line.substr(colon + 2);
  }
  return "CPU";
}

}  // namespace

Device Device::automatic() {
  const BackendStatus status = cuda_status();
  if (status.usable()) return cuda(0);
  // Only a build that could have used a GPU says why it does not; a CPU-only build is expected
  // to run on the CPU.
  if (status.compiled) {
    static std::once_flag logged;
    std::call_once(logged, [&] {
      std::fprintf(stderr, "rank_rerank: running on the CPU: %s\n", status.reason.c_str());
    });
  }
  return cpu();
}

Device Device::parse(std::string_view text) {
  const std::string t = lowercase_trimmed(text);
  if (t == "auto") return automatic();
  if (t == "cpu") return cpu();
  if (t == "metal" || t == "mps") return {DeviceKind::metal, 0};
  if (t == "cuda" || t == "gpu") return cuda(0);
  if (t.rfind("cuda:", 0) == 0 && t.size() > 5) {
    int index = -1;
    const char* first = t.data() + 5;
    const char* last = t.data() + t.size();
    const auto [end, ec] = std::from_chars(first, last, index);
    if (ec == std::errc() && end == last && index >= 0) return cuda(index);
  }
  throw_invalid(
      "device '" + std::string(text) +
      "' is not understood: expected 'cpu', 'cuda', 'cuda:N' (N >= 0), 'metal' or 'auto'");
}

std::string Device::to_string() const {
  switch (kind) {
    case DeviceKind::cpu:
      return "cpu";
    case DeviceKind::cuda:
      return "cuda:" + std::to_string(index);
    case DeviceKind::metal:
      return "metal";
  }
  return "cpu";
}

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> devices;
  DeviceInfo host;
  host.device = Device::cpu();
  host.name = cpu_model_name();
  host.multiprocessors = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  devices.push_back(host);
  const std::vector<CudaDeviceProperties> gpus = cuda_device_properties();
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    DeviceInfo d;
    d.device = Device::cuda(static_cast<int>(i));
    d.name = gpus[i].name;
    d.compute_major = gpus[i].compute_major;
    d.compute_minor = gpus[i].compute_minor;
    d.multiprocessors = gpus[i].multiprocessors;
    d.free_bytes = gpus[i].free_bytes;
    d.total_bytes = gpus[i].total_bytes;
    devices.push_back(std::move(d));
  }
  return devices;
}

std::string unusable_reason(const Device& device) {
  switch (device.kind) {
    case DeviceKind::cpu:
      return "";
    case DeviceKind::metal:
      return "metal: the Metal backend is only built on macOS";
    case DeviceKind::cuda: {
      const BackendStatus status = cuda_status();
      if (!status.usable()) return device.to_string() + ": " + status.reason;
      if (device.index >= status.device_count)
        return device.to_string() + " does not exist: " + std::to_string(status.device_count) +
               " CUDA device" + (status.device_count == 1 ? "" : "s") + " visible (cuda:0" +
               (status.device_count > 1 ? " to cuda:" + std::to_string(status.device_count - 1)
                                        : std::string()) +
               ")";
      return "";
    }
  }
  return "unknown device";
}

void require_usable(const Device& device) {
  const std::string reason = unusable_reason(device);
  if (!reason.empty()) throw_unsupported("device " + reason);
}

std::string gpu_device_name() { return cuda_status().usable() ? "cuda" : "cpu"; }

}  // namespace rank_rerank
