// Tokenizing ahead of the device (model/tokenize_ahead.hpp): how inputs are cut into chunks, the
// background thread, and the pipeline's order, results, statistics and failures.
#include "model/tokenize_ahead.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace rank_rerank::model {
namespace {

using namespace std::chrono_literals;

void expect_cover(const std::vector<TextChunk>& chunks, std::size_t n) {
  std::size_t next = 0;
  for (const TextChunk& c : chunks) {
    EXPECT_EQ(c.begin, next);
    EXPECT_LT(c.begin, c.end);
    next = c.end;
  }
  EXPECT_EQ(next, n);
}

TEST(TokenizeAhead, ChunksCoverTheInputsInOrder) {
  EXPECT_TRUE(plan_chunks({}, 512, 4, 100).empty());
  // Empty texts count their two special tokens: 2 x 100 tokens make a chunk of 100 texts, but
  // 2 x 4 items stop it first.
  const std::vector<std::size_t> empty(20, 0);
  const auto by_items = plan_chunks(empty, 512, 4, 100);
  expect_cover(by_items, 20);
  for (const TextChunk& c : by_items) EXPECT_LE(c.end - c.begin, 8u);
  EXPECT_EQ(by_items.size(), 3u);
  // 400 bytes ~ 102 tokens: two texts reach 2 x 100 tokens.
  const std::vector<std::size_t> long_texts(7, 400);
  const auto by_tokens = plan_chunks(long_texts, 512, 100, 100);
  expect_cover(by_tokens, 7);
  EXPECT_EQ(by_tokens.front().end, 2u);
  // Truncation caps a text's estimate: 1 MB texts at max_length 10 need 20 per chunk.
  const std::vector<std::size_t> huge(45, std::size_t{1} << 20);
  const auto capped = plan_chunks(huge, 10, 1000, 100);
  expect_cover(capped, 45);
  EXPECT_EQ(capped.front().end, 20u);
  const std::vector<std::string_view> texts{"ab", "", "abcdef"};
  EXPECT_EQ(byte_sizes(texts), (std::vector<std::size_t>{2, 0, 6}));
  EXPECT_EQ(estimated_tokens(texts, 512), 2u + 2u + 3u);  // a quarter of the bytes + 2 each
  EXPECT_EQ(estimated_tokens(texts, 2), 6u);              // capped at max_length
  EXPECT_EQ((TextChunk{1, 3}.of(texts)), (std::vector<std::string_view>{"", "abcdef"}));
}

TEST(TokenizeAhead, ThreadRunsTasksInOrderAndDrainsOnDestruction) {
  std::vector<int> order;
  std::vector<std::future<int>> results;
  {
    TokenizerThread thread;
    for (int i = 0; i < 50; ++i)
      results.push_back(thread.submit([i, &order] {
        order.push_back(i);  // one task at a time: no lock needed
        return i * i;
      }));
  }  // joins after the tasks already submitted
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
    EXPECT_EQ(results[static_cast<std::size_t>(i)].get(), i * i);
  }
  TokenizerThread thread;
  auto failed = thread.submit([]() -> int { throw std::runtime_error("bad text"); });
  EXPECT_THROW(failed.get(), std::runtime_error);
  EXPECT_EQ(thread.submit([] { return 7; }).get(), 7);  // the thread survives a failed task
}

TEST(TokenizeAhead, PipelineKeepsOrderAndTokenizesAheadOnTheThread) {
  const std::vector<TextChunk> chunks{{0, 2}, {2, 3}, {3, 7}};
  for (const bool threaded : {false, true}) {
    TokenizerThread thread;
    std::vector<std::thread::id> tokenized_on;
    std::vector<std::size_t> encoded;
    EncodeStats stats;
    tokenize_ahead(
        threaded ? &thread : nullptr, std::span<const TextChunk>(chunks),
        [&](const TextChunk& c) {
          tokenized_on.push_back(std::this_thread::get_id());
          std::this_thread::sleep_for(2ms);
          return std::to_string(c.begin) + "-" + std::to_string(c.end);
        },
        [&](const TextChunk& c, const std::string& tokenized) {
          EXPECT_EQ(tokenized, std::to_string(c.begin) + "-" + std::to_string(c.end));
          encoded.push_back(c.begin);
          std::this_thread::sleep_for(2ms);
        },
        &stats);
    EXPECT_EQ(encoded, (std::vector<std::size_t>{0, 2, 3}));
    ASSERT_EQ(tokenized_on.size(), 3u);
    // The first chunk has nothing to hide behind: it is tokenized on the calling thread.
    EXPECT_EQ(tokenized_on[0], std::this_thread::get_id());
    for (std::size_t k = 1; k < 3; ++k)
      EXPECT_EQ(tokenized_on[k] != std::this_thread::get_id(), threaded) << k;
    EXPECT_GE(stats.encode_ms, 3 * 2.0);
    EXPECT_GE(stats.tokenize_ms, 2.0);
  }
}

TEST(TokenizeAhead, FailuresWaitForThePendingTaskThenPropagate) {
  const std::vector<TextChunk> chunks{{0, 1}, {1, 2}, {2, 3}};
  TokenizerThread thread;
  std::atomic<int> finished{0};
  const auto tokenize = [&](const TextChunk& c) {
    if (c.begin == 1) std::this_thread::sleep_for(20ms);  // still running when encode(0) throws
    ++finished;
    return c.begin;
  };
  EXPECT_THROW(
      tokenize_ahead(
          &thread, std::span<const TextChunk>(chunks), tokenize,
          [](const TextChunk&, std::size_t) { throw std::invalid_argument("encode"); }, nullptr),
      std::invalid_argument);
  EXPECT_EQ(finished.load(), 2);  // chunk 1's tokenization ended before the exception left
  std::vector<std::size_t> encoded;
  EXPECT_THROW(tokenize_ahead(
                   &thread, std::span<const TextChunk>(chunks),
                   [](const TextChunk& c) {
                     if (c.begin == 2) throw std::runtime_error("tokenizer");
                     return c.begin;
                   },
                   [&](const TextChunk&, std::size_t k) { encoded.push_back(k); }, nullptr),
               std::runtime_error);
  EXPECT_EQ(encoded, (std::vector<std::size_t>{0, 1}));
}

}  // namespace
}  // namespace rank_rerank::model
