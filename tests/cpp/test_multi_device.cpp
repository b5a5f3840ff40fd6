// Multi-device parts that need no GPU: device lists, the token-balanced contiguous split, how many
// devices a request uses, the worker threads' error propagation (fake failing workers), the
// encoders' pass distribution over replicas (CPU backends standing in for GPUs), the merge of
// per-shard top-k lists, and the argument errors of the multi-device options.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "core/device_workers.hpp"
#include "io_test_support.hpp"
#include "model/batching.hpp"
#include "model/replicas.hpp"
#include "pipeline/placement.hpp"
#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/colbert_encoder.hpp"
#include "rank_rerank/cross_encoder.hpp"
#include "rank_rerank/multi_gpu_maxsim.hpp"
#include "rank_rerank/sentence_encoder.hpp"
#include "scoring/top_k_merge.hpp"

namespace rank_rerank {
namespace {

using io_test::error_of;

// ---- device lists ----

TEST(DeviceList, ParsesCommaListsAndSequences) {
  EXPECT_EQ(parse_devices("cuda:0,cuda:1"),
            (std::vector<Device>{Device::cuda(0), Device::cuda(1)}));
  EXPECT_EQ(parse_devices(" cuda:1 , CUDA:0 "),
            (std::vector<Device>{Device::cuda(1), Device::cuda(0)}));
  // The same GPU twice: two replicas (how one-GPU hosts test multi-GPU code).
  EXPECT_EQ(parse_devices("cuda:0,cuda:0"),
            (std::vector<Device>{Device::cuda(0), Device::cuda(0)}));
  EXPECT_EQ(parse_devices("cpu"), std::vector<Device>{Device::cpu()});
  EXPECT_EQ(parse_devices("cuda"), std::vector<Device>{Device::cuda(0)});
  const std::vector<std::string> list{"cuda:2", "cuda:0"};
  EXPECT_EQ(parse_devices(std::span<const std::string>(list)),
            (std::vector<Device>{Device::cuda(2), Device::cuda(0)}));
  EXPECT_EQ(devices_to_string(parse_devices("cuda:0,cuda:3")), "cuda:0,cuda:3");
}

TEST(DeviceList, CudaAllIsEveryVisibleGpuOrSaysWhyNot) {
  const BackendStatus status = cuda_status();
  if (status.usable()) {
    const std::vector<Device> all = parse_devices("CUDA:ALL");
    ASSERT_EQ(all.size(), static_cast<std::size_t>(status.device_count));
    for (std::size_t i = 0; i < all.size(); ++i)
      EXPECT_EQ(all[i], Device::cuda(static_cast<int>(i)));
  } else {
    EXPECT_NE(error_of([] { (void)parse_devices("cuda:all"); }, ErrorKind::unsupported)
                  .find(status.reason),
              std::string::npos);
  }
}

TEST(DeviceList, BadListsAreClearErrors) {
  EXPECT_NE(error_of([] { (void)parse_devices(""); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([] { (void)parse_devices("cuda:0,,cuda:1"); }).find("empty"),
            std::string::npos);
  EXPECT_NE(error_of([] { (void)parse_devices("cuda:0,"); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([] { (void)parse_devices(std::span<const std::string>()); }).find("empty"),
            std::string::npos);
  EXPECT_NE(error_of([] { (void)parse_devices("cuda:all,cuda:0"); }).find("only entry"),
            std::string::npos);
  EXPECT_NE(error_of([] { (void)parse_devices("cuda:0,cpu"); }).find("CUDA devices only"),
            std::string::npos);
  EXPECT_NE(error_of([] { (void)parse_devices("cuda:0,tpu"); }).find("'tpu'"), std::string::npos);
}

// ---- the split ----

std::size_t run_sum(std::span<const std::size_t> w, std::size_t begin, std::size_t end) {
  return std::accumulate(w.begin() + static_cast<long>(begin), w.begin() + static_cast<long>(end),
                         std::size_t{0});
}

TEST(SplitContiguous, EvenWeightsSplitEvenly) {
  const std::vector<std::size_t> w(8, 100);
  EXPECT_EQ(detail::split_contiguous(w, 2), (std::vector<std::size_t>{0, 4, 8}));
  EXPECT_EQ(detail::split_contiguous(w, 4), (std::vector<std::size_t>{0, 2, 4, 6, 8}));
  EXPECT_EQ(detail::split_contiguous(w, 1), (std::vector<std::size_t>{0, 8}));
}

TEST(SplitContiguous, BalancedContiguousAndComplete) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = 1 + rng() % 40;
    const std::size_t parts = 1 + rng() % 8;
    std::vector<std::size_t> w(n);
    for (std::size_t& x : w) x = rng() % 3 == 0 ? 16384 : 1 + rng() % 5000;
    std::sort(w.rbegin(), w.rend());  // passes come longest first
    const std::vector<std::size_t> b = detail::split_contiguous(w, parts);
    ASSERT_EQ(b.size(), parts + 1);
    EXPECT_EQ(b.front(), 0u);
    EXPECT_EQ(b.back(), n);
    const std::size_t total = run_sum(w, 0, n);
    const std::size_t largest = *std::max_element(w.begin(), w.end());
    for (std::size_t k = 0; k < parts; ++k) {
      ASSERT_LE(b[k], b[k + 1]);
      if (n >= parts) {
        EXPECT_LT(b[k], b[k + 1]) << "empty run with enough items";
      }
      EXPECT_LE(run_sum(w, b[k], b[k + 1]), total / parts + largest + 1);
    }
  }
}

TEST(SplitContiguous, FewerItemsThanPartsLeavesTheLastRunsEmpty) {
  const std::vector<std::size_t> w{5, 5};
  const std::vector<std::size_t> b = detail::split_contiguous(w, 4);
  EXPECT_EQ(b.front(), 0u);
  EXPECT_EQ(b.back(), 2u);
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
  EXPECT_EQ(detail::split_contiguous(std::vector<std::size_t>{}, 3),
            (std::vector<std::size_t>{0, 0, 0, 0}));
  EXPECT_FALSE(
      error_of([] { (void)detail::split_contiguous(std::vector<std::size_t>{1}, 0); }).empty());
}

TEST(DevicesToUse, SmallRequestsStayOnOneDevice) {
  EXPECT_EQ(detail::devices_to_use(100, 1, 4, 4096), 1u);
  EXPECT_EQ(detail::devices_to_use(8191, 8, 4, 4096), 1u);
  EXPECT_EQ(detail::devices_to_use(8192, 8, 4, 4096), 2u);
  EXPECT_EQ(detail::devices_to_use(1 << 20, 8, 4, 4096), 4u);
  EXPECT_EQ(detail::devices_to_use(1 << 20, 3, 4, 4096), 3u);  // at most one per pass
  EXPECT_EQ(detail::devices_to_use(0, 0, 4, 4096), 1u);
}

// ---- worker threads ----

std::vector<std::string> names(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back("cuda:" + std::to_string(i));
  return out;
}

TEST(RunOnDevices, EveryWorkerRunsOnItsOwnThread) {
  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::vector<int> ran(4, 0);
  detail::run_on_devices(names(4), [&](std::size_t i, const std::atomic<bool>&) {
    std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
    ++ran[i];
  });
  EXPECT_EQ(ran, (std::vector<int>{1, 1, 1, 1}));
  EXPECT_EQ(threads.size(), 4u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  // One device: the calling thread, no thread started.
  std::thread::id seen;
  detail::run_on_devices(
      names(1), [&](std::size_t, const std::atomic<bool>&) { seen = std::this_thread::get_id(); });
  EXPECT_EQ(seen, std::this_thread::get_id());
}

TEST(RunOnDevices, AFailingWorkerIsAnErrorNamingItsDeviceAndStopsTheOthers) {
  std::atomic<int> finished{0};
  std::atomic<bool> others_saw_stop{false};
  const std::string message = error_of(
      [&] {
        detail::run_on_devices(names(3), [&](std::size_t i, const std::atomic<bool>& stop) {
          if (i == 1) throw std::runtime_error("CUDA device allocation: out of memory");
          // The healthy workers keep going until told to stop (a hang if stop never came).
          const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
          while (!stop && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          if (stop) others_saw_stop = true;
          ++finished;
        });
      },
      ErrorKind::runtime);
  EXPECT_NE(message.find("cuda:1: CUDA device allocation: out of memory"), std::string::npos)
      << message;
  EXPECT_EQ(finished.load(), 2);  // every thread joined before the error came out
  EXPECT_TRUE(others_saw_stop.load());
}

TEST(RunOnDevices, KeepsTheErrorKindAndReportsTheFirstFailure) {
  const std::string message = error_of(
      [] {
        detail::run_on_devices(names(2), [](std::size_t i, const std::atomic<bool>&) {
          if (i == 0) throw_invalid("queries: dimension 7");
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          throw_unsupported("later failure");
        });
      },
      ErrorKind::invalid_argument);
  EXPECT_EQ(message, "cuda:0: queries: dimension 7");
  EXPECT_NE(error_of(
                [] {
                  detail::run_on_devices(names(1),
                                         [](std::size_t, const std::atomic<bool>&) { throw 42; });
                },
                ErrorKind::runtime)
                .find("cuda:0: unknown failure"),
            std::string::npos);
}

// ---- passes over replicas (CPU backends stand in for GPUs) ----

model::DeviceBackends fake_replicas(std::size_t n) {
  model::DeviceBackends b;
  for (std::size_t i = 0; i < n; ++i) {
    b.devices.push_back(Device::cuda(static_cast<int>(i)));
    b.backends.push_back(backend::make_cpu_backend(1));
  }
  return b;
}

struct Recorded {
  std::mutex mutex;
  std::vector<std::size_t> replica_of;  // per item
  std::vector<std::set<std::thread::id>> threads;
  std::vector<std::size_t> tokens;  // per replica
  EncodeStats stats;                // as the encoders collect it
};

void distribute(const std::vector<std::size_t>& lengths, std::size_t replicas, Recorded& r) {
  const model::DeviceBackends backends = fake_replicas(replicas);
  const auto batches = model::plan_batches(lengths, 32, 1024);
  r.replica_of.assign(lengths.size(), SIZE_MAX);
  r.threads.assign(replicas, {});
  r.tokens.assign(replicas, 0);
  model::for_each_batch_on_devices(batches, lengths, backends, "test", &r.stats,
                                   [&](std::size_t replica, std::span<const std::size_t> items) {
                                     std::lock_guard lock(r.mutex);
                                     r.threads[replica].insert(std::this_thread::get_id());
                                     for (std::size_t i : items) {
                                       EXPECT_EQ(r.replica_of[i], SIZE_MAX) << "item run twice";
                                       r.replica_of[i] = replica;
                                       r.tokens[replica] += lengths[i];
                                     }
                                   });
}

TEST(PassesOnDevices, LargeRequestsShareByTokensInContiguousLengthRuns) {
  std::vector<std::size_t> lengths;
  for (std::size_t i = 0; i < 600; ++i) lengths.push_back(8 + (i * 37) % 120);
  Recorded r;
  distribute(lengths, 2, r);
  for (std::size_t replica : r.replica_of) ASSERT_LT(replica, 2u);
  const std::size_t total = std::accumulate(lengths.begin(), lengths.end(), std::size_t{0});
  ASSERT_GE(total, 2 * model::kMinTokensPerDevice);
  // Balanced within one pass's budget, each share on one thread of its own.
  EXPECT_LE(std::max(r.tokens[0], r.tokens[1]) - std::min(r.tokens[0], r.tokens[1]), 1024u);
  EXPECT_EQ(r.threads[0].size(), 1u);
  EXPECT_EQ(r.threads[1].size(), 1u);
  EXPECT_NE(*r.threads[0].begin(), *r.threads[1].begin());
  // Every pass recorded once, from both threads.
  EXPECT_EQ(r.stats.texts, lengths.size());
  EXPECT_EQ(r.stats.tokens, total);
  EXPECT_EQ(
      std::accumulate(r.stats.batch_tokens.begin(), r.stats.batch_tokens.end(), std::size_t{0}),
      total);
  EXPECT_EQ(r.stats.batch_texts.size(), r.stats.batch_tokens.size());
  // Contiguous in the length-sorted plan: replica 0 has the longest texts.
  std::size_t shortest_on_0 = SIZE_MAX, longest_on_1 = 0;
  for (std::size_t i = 0; i < lengths.size(); ++i)
    if (r.replica_of[i] == 0)
      shortest_on_0 = std::min(shortest_on_0, lengths[i]);
    else
      longest_on_1 = std::max(longest_on_1, lengths[i]);
  EXPECT_GE(shortest_on_0, longest_on_1);
}

TEST(PassesOnDevices, SmallRequestsStayOnTheFirstDevice) {
  const std::vector<std::size_t> lengths(60, 100);  // 6000 tokens < 2 x 4096
  Recorded r;
  distribute(lengths, 4, r);
  for (std::size_t replica : r.replica_of) EXPECT_EQ(replica, 0u);
}

TEST(PassesOnDevices, AFailingReplicaNamesItsDeviceAndEntry) {
  const model::DeviceBackends backends = fake_replicas(2);
  const std::vector<std::size_t> lengths(200, 100);
  const auto batches = model::plan_batches(lengths, 32, 1024);
  const std::string message = error_of(
      [&] {
        model::for_each_batch_on_devices(batches, lengths, backends, "test", nullptr,
                                         [&](std::size_t replica, std::span<const std::size_t>) {
                                           if (replica == 1)
                                             throw Error(ErrorKind::runtime,
                                                         "CUDA matmul: illegal address");
                                         });
      },
      ErrorKind::runtime);
  EXPECT_NE(message.find("cuda:1 (devices[1]): CUDA matmul: illegal address"), std::string::npos)
      << message;
}

TEST(PassesOnDevices, OutOfMemoryIsSplitOnTheDeviceThatRanOutThenNamed) {
  const model::DeviceBackends backends = fake_replicas(2);
  const std::vector<std::size_t> lengths(200, 100);
  const auto batches = model::plan_batches(lengths, 32, 1024);
  std::atomic<int> split_runs{0};
  // Replica 1 holds at most 4 items per pass: its passes are halved and retried, and finish.
  model::for_each_batch_on_devices(batches, lengths, backends, "test", nullptr,
                                   [&](std::size_t replica, std::span<const std::size_t> items) {
                                     if (replica == 1 && items.size() > 4)
                                       throw backend::DeviceOutOfMemory("out of memory");
                                     if (replica == 1) ++split_runs;
                                   });
  EXPECT_GT(split_runs.load(), 0);
  // A single item that never fits: an Error naming the device and the input.
  const std::string message = error_of(
      [&] {
        model::for_each_batch_on_devices(
            batches, lengths, backends, "ColbertEncoder.encode", nullptr,
            [&](std::size_t replica, std::span<const std::size_t>) {
              if (replica == 1) throw backend::DeviceOutOfMemory("CUDA device allocation");
            });
      },
      ErrorKind::runtime);
  EXPECT_NE(message.find("cuda:1 (devices[1]): ColbertEncoder.encode: input"), std::string::npos)
      << message;
}

// ---- options ----

TEST(MultiDeviceOptions, DeviceAndDevicesTogetherOrCpuListsAreErrors) {
  const std::string fixture =
      (io_test::source_dir() / "tests/fixtures/models/cross_tiny_1").string();
  CrossEncoderOptions both;
  both.device = Device::cpu();
  both.devices = {Device::cuda(0), Device::cuda(1)};
  EXPECT_NE(error_of([&] {
              (void)CrossEncoder::from_pretrained(fixture, both);
            }).find("either device or devices"),
            std::string::npos);
  SentenceEncoderOptions cpus;
  cpus.devices = {Device::cpu(), Device::cpu()};
  EXPECT_NE(error_of([&] {
              (void)SentenceEncoder::from_pretrained(fixture, cpus);
            }).find("CUDA devices only"),
            std::string::npos);
  // One CPU entry is the CPU, as device would be.
  CrossEncoderOptions one;
  one.devices = {Device::cpu()};
  const CrossEncoder model = CrossEncoder::from_pretrained(fixture, one);
  EXPECT_EQ(model.devices(), std::vector<Device>{Device::cpu()});
  ASSERT_EQ(model.device_memory().size(), 1u);
  EXPECT_EQ(model.device_memory()[0].bytes_in_use, 0u);
  if (!cuda_status().usable()) {
    ColbertEncoderOptions gpus;
    gpus.devices = {Device::cuda(0), Device::cuda(0)};
    EXPECT_NE(error_of([&] { (void)ColbertEncoder::from_pretrained(fixture, gpus); },
                       ErrorKind::unsupported)
                  .find("cuda:0"),
              std::string::npos);
  }
}

TEST(MultiDeviceOptions, RerankerPlacementTakesADeviceList) {
  using pipeline::resolve_placement;
  EXPECT_NE(error_of([] {
              (void)resolve_placement("cuda:0", "float32", "cuda:0,cuda:1");
            }).find("either device or devices"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              (void)resolve_placement("auto", "float32", "cpu,cuda:0");
            }).find("CUDA devices only"),
            std::string::npos);
  const pipeline::Placement single = resolve_placement("cpu", "float32");
  EXPECT_EQ(single.devices, std::vector<Device>{Device::cpu()});
  if (!cuda_status().usable()) {
    EXPECT_FALSE(error_of([] { (void)resolve_placement("auto", "float16", "cuda:0,cuda:0"); },
                          ErrorKind::unsupported)
                     .empty());
  }
}

// ---- top-k merge across shards ----

TEST(MergeTopK, EqualsTopKOfTheWholeVectorWithTiesAndNaN) {
  std::mt19937 rng(3);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = 1 + rng() % 60;
    std::vector<float> scores(n);
    for (float& s : scores) {
      const unsigned r = rng() % 10;
      s = r == 0 ? nan : static_cast<float>(rng() % 7) * 0.5f - 1.0f;  // many ties
    }
    const std::size_t k = rng() % (n + 1);
    const std::size_t shards = 1 + rng() % 5;
    const std::vector<std::size_t> sizes(n, 1);
    const std::vector<std::size_t> bounds = detail::split_contiguous(sizes, shards);
    std::vector<Ranked> candidates;
    for (std::size_t s = 0; s < shards; ++s) {
      const std::span<const float> part(scores.data() + bounds[s], bounds[s + 1] - bounds[s]);
      for (Ranked r : top_k(part, std::min(k, part.size()))) {
        r.index += static_cast<std::int64_t>(bounds[s]);
        candidates.push_back(r);
      }
    }
    const std::vector<Ranked> got = detail::merge_top_k(candidates, k);
    const std::vector<Ranked> want = top_k(scores, k);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].index, want[i].index) << "trial " << trial << " rank " << i;
      EXPECT_TRUE(got[i].score == want[i].score ||
                  (std::isnan(got[i].score) && std::isnan(want[i].score)));
    }
  }
}

// ---- sharded document set: argument errors everywhere ----

TEST(ShardedDocumentSet, BadArgumentsAreErrorsWithOrWithoutCuda) {
  std::vector<float> tokens(4 * 32, 0.5f);
  const std::vector<std::int64_t> offsets{0, 2, 4};
  const PackedTokens docs{{DType::f32, tokens.data(), 4, 32, nullptr}, offsets};
  EXPECT_NE(
      error_of([&] { gpu::ShardedDocumentSet(docs, std::span<const Device>()); }).find("empty"),
      std::string::npos);
  const std::vector<Device> cpu{Device::cpu()};
  EXPECT_NE(error_of([&] { gpu::ShardedDocumentSet(docs, cpu); }).find("'cpu'"), std::string::npos);
  const std::vector<std::int64_t> bad_offsets{0, 5};
  const PackedTokens bad{{DType::f32, tokens.data(), 4, 32, nullptr}, bad_offsets};
  const std::vector<Device> gpus{Device::cuda(0), Device::cuda(0)};
  EXPECT_FALSE(error_of([&] { gpu::ShardedDocumentSet(bad, gpus); }).empty());
  if (!cuda_status().usable()) {
    EXPECT_FALSE(
        error_of([&] { gpu::ShardedDocumentSet(docs, gpus); }, ErrorKind::unsupported).empty());
  }
}

}  // namespace
}  // namespace rank_rerank
