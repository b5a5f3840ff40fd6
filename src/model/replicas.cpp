#include "model/replicas.hpp"

#include <mutex>
#include <numeric>

#include "core/device_workers.hpp"
#include "model/batching.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::model {

std::vector<std::string> DeviceBackends::names() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < devices.size(); ++i)
    out.push_back(devices[i].to_string() + " (devices[" + std::to_string(i) + "])");
  return out;
}

std::vector<DeviceMemory> DeviceBackends::memory_usage() const {
  std::vector<DeviceMemory> out;
  for (std::size_t i = 0; i < backends.size(); ++i) {
    DeviceMemory m = backends[i]->memory_usage();
    m.device = devices[i];
    out.push_back(m);
  }
  return out;
}

DeviceBackends make_model_backends(const std::optional<Device>& device,
                                   const std::vector<Device>& devices, DType dtype, int num_threads,
                                   const char* who) {
  DeviceBackends out;
  if (devices.empty()) {
    const Device chosen = device ? *device : Device::automatic();
    const DType computed = device || chosen.is_cuda() || dtype != DType::f16 ? dtype : DType::f32;
    out.devices.push_back(chosen);
    out.backends.push_back(backend::make_backend(chosen, computed, num_threads));
    return out;
  }
  if (device)
    throw_invalid(std::string(who) + ": give either device or devices, not both (device '" +
                  device->to_string() + "', devices '" + devices_to_string(devices) + "')");
  for (const Device& d : devices)
    if (devices.size() > 1 && !d.is_cuda())
      throw_invalid(std::string(who) + ": devices '" + devices_to_string(devices) +
                    "': a list of several devices must name CUDA devices only");
  for (const Device& d : devices) {
    out.devices.push_back(d);
    out.backends.push_back(backend::make_backend(d, dtype, num_threads));
  }
  return out;
}

void for_each_batch_on_devices(
    const std::vector<std::vector<std::size_t>>& batches, std::span<const std::size_t> lengths,
    const DeviceBackends& backends, const char* what, EncodeStats* stats,
    const std::function<void(std::size_t, std::span<const std::size_t>)>& run_pass) {
  std::mutex stats_mutex;
  const auto run = [&](std::size_t replica, std::span<const std::size_t> items) {
    run_pass(replica, items);
    std::size_t tokens = 0;
    for (std::size_t i : items) tokens += lengths[i];
    const std::lock_guard<std::mutex> lock(stats_mutex);
    record_pass(stats, items.size(), tokens);
  };
  if (backends.backends.size() == 1) {
    for_each_batch(batches, what, [&](std::span<const std::size_t> items) { run(0, items); });
    return;
  }
  std::vector<std::size_t> pass_tokens;
  for (const std::vector<std::size_t>& items : batches) {
    std::size_t tokens = 0;
    for (std::size_t i : items) tokens += lengths[i];
    pass_tokens.push_back(tokens);
  }
  const std::size_t total = std::accumulate(pass_tokens.begin(), pass_tokens.end(), std::size_t{0});
  const std::size_t used =
      detail::devices_to_use(total, batches.size(), backends.backends.size(), kMinTokensPerDevice);
  const std::vector<std::size_t> bounds = detail::split_contiguous(pass_tokens, used);
  std::vector<std::string> names = backends.names();
  names.resize(used);
  detail::run_on_devices(names, [&](std::size_t replica, const std::atomic<bool>& stop) {
    for (std::size_t p = bounds[replica]; p < bounds[replica + 1] && !stop; ++p)
      for_each_batch({batches[p]}, what,
                     [&](std::span<const std::size_t> items) { run(replica, items); });
  });
}

}  // namespace rank_rerank::model
