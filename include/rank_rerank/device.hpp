// Where work runs: the CPU, a CUDA device, or (on macOS builds only) Metal.
//
// Strings follow PyTorch's spelling: "cpu", "cuda" (device 0), "cuda:N", "metal". "auto" picks a
// usable CUDA device when the build has CUDA support and one is present, else the CPU; when it
// falls back it says why on stderr, once per process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rank_rerank {

enum class DeviceKind : std::uint8_t { cpu, cuda, metal };

struct Device {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;  // the CUDA ordinal; 0 otherwise

  static Device cpu() noexcept { return {DeviceKind::cpu, 0}; }
  static Device cuda(int index = 0) noexcept { return {DeviceKind::cuda, index}; }
  // CUDA device 0 when usable, else the CPU (logging the reason once). ("auto" is a C++
  // keyword, hence the name.)
  static Device automatic();
  // "cpu", "cuda", "cuda:N", "metal" or "auto" (case-insensitive, surrounding blanks ignored).
  // Throws Error (invalid_argument) naming the text and the accepted forms. Parsing does not
  // check that the device exists: see require_usable.
  static Device parse(std::string_view text);

  std::string to_string() const;  // "cpu", "cuda:N", "metal"
  bool is_cuda() const noexcept { return kind == DeviceKind::cuda; }
  friend bool operator==(const Device&, const Device&) = default;
};

// One entry of list_devices().
struct DeviceInfo {
  Device device;
  std::string name;       // "NVIDIA H100 80GB HBM3", or the CPU model
  int compute_major = 0;  // CUDA compute capability; 0 for the CPU
  int compute_minor = 0;
  int multiprocessors = 0;     // SMs; logical cores for the CPU
  std::size_t free_bytes = 0;  // device memory; 0 for the CPU
  std::size_t total_bytes = 0;
};

// The CPU first, then every usable CUDA device. Never throws for a missing driver or GPU.
std::vector<DeviceInfo> list_devices();

// Empty when `device` can run work in this process, else why not ("rank_rerank was built
// without CUDA", "no CUDA device is visible", "cuda:3 does not exist: 1 device visible",
// "Metal is only built on macOS").
std::string unusable_reason(const Device& device);

// Throws Error (unsupported) with unusable_reason when the device cannot be used. Explicitly
// requested devices go through this: asking for what is not there is an error, not a fallback.
void require_usable(const Device& device);

// The seed's spelling: "cuda" when a CUDA device is usable, "metal" for Metal, else "cpu".
std::string gpu_device_name();

// ---- Device lists: one process using several GPUs (docs/multi_gpu.md) ----

// "cuda:0,cuda:1" (comma-separated, blanks ignored), "cuda:all" (every visible CUDA device), or a
// single device as Device::parse reads it. An entry may repeat: ["cuda:0", "cuda:0"] is two
// replicas on one GPU (their own streams and threads), which is how multi-GPU code is tested on a
// one-GPU host. Throws Error (invalid_argument) for an empty list or entry, "cuda:all" beside
// other entries, or several devices that are not all CUDA devices (the CPU backend already uses
// every core); Error (unsupported) with the reason when "cuda:all" finds no usable device. Like
// Device::parse, it does not check that the listed devices exist: see require_usable.
std::vector<Device> parse_devices(std::string_view text);
// The same, one entry per element (each a device, or "cuda:all" as the only element).
std::vector<Device> parse_devices(std::span<const std::string> entries);
// "cuda:0,cuda:1".
std::string devices_to_string(std::span<const Device> devices);

// Memory that one object (a model replica, a document shard) holds on one device.
struct DeviceMemory {
  Device device;
  std::size_t bytes_in_use = 0;    // live allocations: weights, workspaces, documents
  std::size_t bytes_reserved = 0;  // taken from the driver, cached blocks ready for reuse included
};

}  // namespace rank_rerank
