#include <gtest/gtest.h>

#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/device.hpp"
#include "rank_rerank/error.hpp"

using rank_rerank::Device;
using rank_rerank::DeviceKind;

TEST(Device, ParsesTorchSpellings) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse(" CUDA "), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:3"), Device::cuda(3));
  EXPECT_EQ(Device::parse("metal").kind, DeviceKind::metal);
  EXPECT_EQ(Device::parse("cuda:12").to_string(), "cuda:12");
}

TEST(Device, RejectsMalformedNamesWithTheAcceptedForms) {
  for (const char* bad : {"", "cuda:", "cuda:-1", "cuda:1x", "tpu", "cuda:99999999999"}) {
    try {
      Device::parse(bad);
      FAIL() << "accepted '" << bad << "'";
    } catch (const rank_rerank::Error& e) {
      EXPECT_EQ(e.kind(), rank_rerank::ErrorKind::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("'cuda:N'"), std::string::npos) << e.what();
    }
  }
}

TEST(Device, AutomaticMatchesTheCudaProbe) {
  const Device d = Device::automatic();
  EXPECT_EQ(d.is_cuda(), rank_rerank::cuda_status().usable());
  EXPECT_EQ(rank_rerank::gpu_device_name(), d.is_cuda() ? "cuda" : "cpu");
}

TEST(Device, ListsTheCpuFirstThenEveryGpu) {
  const auto devices = rank_rerank::list_devices();
  ASSERT_FALSE(devices.empty());
  EXPECT_EQ(devices[0].device, Device::cpu());
  EXPECT_GE(devices[0].multiprocessors, 1);
  const auto status = rank_rerank::cuda_status();
  EXPECT_EQ(devices.size(), 1u + static_cast<std::size_t>(status.device_count));
  for (std::size_t i = 1; i < devices.size(); ++i) {
    EXPECT_EQ(devices[i].device, Device::cuda(static_cast<int>(i - 1)));
    EXPECT_GE(devices[i].compute_major, 5);
    EXPECT_GT(devices[i].total_bytes, 0u);
  }
}

TEST(Device, UnavailableDevicesAreErrorsThatSayWhy) {
  EXPECT_NO_THROW(rank_rerank::require_usable(Device::cpu()));
  EXPECT_THROW(rank_rerank::require_usable(Device::parse("metal")), rank_rerank::Error);
  EXPECT_NE(rank_rerank::unusable_reason(Device::parse("metal")).find("macOS"), std::string::npos);
  const auto status = rank_rerank::cuda_status();
  const Device missing = Device::cuda(status.device_count);  // one past the last
  const std::string reason = rank_rerank::unusable_reason(missing);
  EXPECT_FALSE(reason.empty());
  EXPECT_THROW(rank_rerank::require_usable(missing), rank_rerank::Error);
}
