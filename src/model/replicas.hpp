// Encoders on several devices at once (data parallelism): one backend per listed device, each
// holding its own copy of the parameters uploaded from the one checkpoint read from disk, and the
// planned forward passes of a request spread over them. docs/multi_gpu.md has the design.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "rank_rerank/device.hpp"
#include "rank_rerank/encode_stats.hpp"

namespace rank_rerank::model {

// A request of fewer tokens than this per device stays on fewer devices (one below 2x this): a
// forward pass of about this many tokens already runs near a GPU's full throughput, so cutting a
// smaller request would only add thread and launch overhead (bench/bench_multi_gpu.py measures
// tokens/s against pass size).
inline constexpr std::size_t kMinTokensPerDevice = 4096;

// The backends of an encoder and the device each runs on, in the order the options list them.
struct DeviceBackends {
  std::vector<Device> devices;
  std::vector<std::shared_ptr<backend::Backend>> backends;
  // "cuda:1 (devices[1])": unambiguous even when a device is listed twice.
  std::vector<std::string> names() const;
  std::vector<DeviceMemory> memory_usage() const;
};

// The backends for an encoder's options. `devices` empty: one backend on `device`, or when that
// is nullopt on Device::automatic() (f16 becomes f32 when that falls back to the CPU, which
// computes in f32 or bf16). `devices` given: one backend per entry, each device checked by
// require_usable (a device that does not exist throws naming it); `device` must then be nullopt.
// `who` names the class in messages. Several entries must all be CUDA devices.
DeviceBackends make_model_backends(const std::optional<Device>& device,
                                   const std::vector<Device>& devices, DType dtype, int num_threads,
                                   const char* who);

// Runs a request's planned passes (plan_batches; lengths are the items' token counts) on the
// backends: with one backend, for_each_batch on the calling thread. With several, the passes in
// their planned, length-sorted order are cut into contiguous shares of nearly equal token count
// (detail::split_contiguous) over detail::devices_to_use(...) devices (the first ones), and each
// share runs through for_each_batch (out-of-memory splitting included) on a thread of its own
// (detail::run_on_devices: every thread joined, the first failure rethrown naming its device, the
// other shares stopped at their next pass). run(replica, items) computes items on backend
// `replica` and writes only those items' results. Every pass keeps the composition the plan gave
// it, so the numbers equal a single-device run of the same plan bit for bit. Every pass that ran
// is added to `stats` when given (under a lock: passes finish on several threads).
void for_each_batch_on_devices(
    const std::vector<std::vector<std::size_t>>& batches, std::span<const std::size_t> lengths,
    const DeviceBackends& backends, const char* what, EncodeStats* stats,
    const std::function<void(std::size_t, std::span<const std::size_t>)>& run);

}  // namespace rank_rerank::model
