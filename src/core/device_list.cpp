// Device lists for multi-GPU work: parsing and printing (device.hpp).
#include <string>
#include <vector>

#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/device.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank {
namespace {

std::string trimmed(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return std::string(text);
}

bool names_all(const std::string& entry) {
  std::string lower = entry;
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return lower == "cuda:all";
}

std::vector<Device> every_cuda_device() {
  const BackendStatus status = cuda_status();
  if (!status.usable()) throw_unsupported("devices 'cuda:all': " + status.reason);
  std::vector<Device> all;
  for (int i = 0; i < status.device_count; ++i) all.push_back(Device::cuda(i));
  return all;
}

}  // namespace

std::vector<Device> parse_devices(std::span<const std::string> entries) {
  if (entries.empty()) throw_invalid("devices: the list is empty (expected e.g. 'cuda:0,cuda:1')");
  std::vector<Device> devices;
  for (const std::string& raw : entries) {
    const std::string entry = trimmed(raw);
    if (entry.empty())
      throw_invalid("devices: an entry is empty in a list of " + std::to_string(entries.size()));
    if (names_all(entry)) {
      if (entries.size() != 1)
        throw_invalid("devices: 'cuda:all' must be the only entry, found it among " +
                      std::to_string(entries.size()));
      return every_cuda_device();
    }
    devices.push_back(Device::parse(entry));
  }
  if (devices.size() > 1)
    for (const Device& d : devices)
      if (!d.is_cuda())
        throw_invalid("devices: a list of several devices must name CUDA devices only, found '" +
                      d.to_string() + "' (the CPU backend already uses every core)");
  return devices;
}

std::vector<Device> parse_devices(std::string_view text) {
  std::vector<std::string> entries;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    entries.emplace_back(
        text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (entries.size() == 1 && trimmed(entries[0]).empty())
    throw_invalid("devices: the list is empty (expected e.g. 'cuda:0,cuda:1' or 'cuda:all')");
  return parse_devices(std::span<const std::string>(entries));
}

std::string devices_to_string(std::span<const Device> devices) {
  std::string out;
  for (const Device& d : devices) {
    if (!out.empty()) out += ',';
    out += d.to_string();
  }
  return out;
}

}  // namespace rank_rerank
