#include "model/tokenize_ahead.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace rank_rerank::model {

TokenizerThread::TokenizerThread() : thread_([this] { loop(); }) {}

TokenizerThread::~TokenizerThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_one();
  thread_.join();
}

void TokenizerThread::enqueue(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
}

void TokenizerThread::loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and nothing left to run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();  // a packaged_task: its exception goes to its future
  }
}

std::unique_ptr<TokenizerThread> tokenizer_thread_for(const Device& device) {
  if (device.kind == DeviceKind::cpu) return nullptr;
  // The switch for measuring what the overlap gains, and for hosts where a spare core is scarce.
  const char* setting = std::getenv("RANK_RERANK_TOKENIZE_AHEAD");
  if (setting != nullptr && std::string_view(setting) == "0") return nullptr;
  return std::make_unique<TokenizerThread>();
}

std::vector<TextChunk> plan_chunks(std::span<const std::size_t> text_bytes, std::size_t max_length,
                                   std::size_t max_items, std::size_t max_tokens) {
  const std::size_t chunk_items = 2 * std::max<std::size_t>(max_items, 1);
  const std::size_t chunk_tokens = 2 * std::max<std::size_t>(max_tokens, 1);
  std::vector<TextChunk> chunks;
  TextChunk chunk;
  std::size_t tokens = 0;
  for (std::size_t i = 0; i < text_bytes.size(); ++i) {
    tokens += estimated_tokens(text_bytes[i], max_length);
    chunk.end = i + 1;
    if (chunk.end - chunk.begin >= chunk_items || tokens >= chunk_tokens) {
      chunks.push_back(chunk);
      chunk = TextChunk{chunk.end, chunk.end};
      tokens = 0;
    }
  }
  if (chunk.end > chunk.begin) chunks.push_back(chunk);
  return chunks;
}

std::size_t estimated_tokens(std::size_t bytes, std::size_t max_length) {
  constexpr std::size_t kSpecialTokens = 2;
  constexpr std::size_t kBytesPerToken = 4;
  return std::min(max_length, bytes / kBytesPerToken + kSpecialTokens);
}

std::size_t estimated_tokens(std::span<const std::string_view> texts, std::size_t max_length) {
  std::size_t tokens = 0;
  for (std::string_view text : texts) tokens += estimated_tokens(text.size(), max_length);
  return tokens;
}

std::vector<std::size_t> byte_sizes(std::span<const std::string_view> texts) {
  std::vector<std::size_t> bytes;
  bytes.reserve(texts.size());
  for (std::string_view text : texts) bytes.push_back(text.size());
  return bytes;
}

}  // namespace rank_rerank::model
