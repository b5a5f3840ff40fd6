// Tokenizing the next inputs while the device works on the current ones (GPU encoders).
//
// An encoder call cuts its inputs into chunks of consecutive texts, each about two forward passes
// long (plan_chunks), tokenizes chunk k + 1 on a background thread while the calling thread runs
// chunk k's passes, and waits only where the tokenizer is behind. The thread is the encoder's own
// and lives as long as it: the tokenizer parallelises with OpenMP, and a thread made per call would
// build a new OpenMP team on every request (measured: a 100-document ColBERT request went from
// 9.6 to 12.6 ms that way). CPU encoders do not use it: there the tokenizer and the encoder would
// compete for the same cores.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/stopwatch.hpp"
#include "rank_rerank/device.hpp"
#include "rank_rerank/encode_stats.hpp"

namespace rank_rerank::model {

// Runs submitted tasks one at a time, in order, on one thread started with the object and joined
// by its destructor (after the tasks already submitted).
class TokenizerThread {
 public:
  TokenizerThread();
  ~TokenizerThread();
  TokenizerThread(const TokenizerThread&) = delete;
  TokenizerThread& operator=(const TokenizerThread&) = delete;

  // The task's result (or exception) arrives through the future.
  template <typename Task>
  std::future<std::invoke_result_t<Task&>> submit(Task task) {
    auto packaged =
        std::make_shared<std::packaged_task<std::invoke_result_t<Task&>()>>(std::move(task));
    auto result = packaged->get_future();
    enqueue([packaged] { (*packaged)(); });
    return result;
  }

 private:
  void enqueue(std::function<void()> task);
  void loop();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

// The background thread for an encoder whose (first) backend runs on `device`: none on the CPU,
// nor when the environment sets RANK_RERANK_TOKENIZE_AHEAD=0.
std::unique_ptr<TokenizerThread> tokenizer_thread_for(const Device& device);

// Threads for the tokenizer of an encoder whose backend runs `backend_threads`: one fewer when it
// tokenizes on `thread` (when given), leaving a core to the calling thread, which feeds the device
// meanwhile (OpenMP teams slow down badly when a core they spin on is taken).
inline int tokenizer_threads(int backend_threads, const TokenizerThread* thread) {
  return thread != nullptr && backend_threads > 1 ? backend_threads - 1 : backend_threads;
}

// Consecutive texts [begin, end) tokenized and encoded together.
struct TextChunk {
  std::size_t begin = 0;
  std::size_t end = 0;
  // texts[begin, end) as the tokenizer takes them.
  std::vector<std::string_view> of(std::span<const std::string_view> texts) const {
    return {texts.begin() + static_cast<std::ptrdiff_t>(begin),
            texts.begin() + static_cast<std::ptrdiff_t>(end)};
  }
};

// Cuts inputs of text_bytes[i] UTF-8 bytes each into chunks of at most 2 x max_items inputs and
// about 2 x max_tokens tokens, estimating an input's tokens from its length (a quarter of its
// bytes plus 2 special tokens, at most max_length): each chunk then makes about two forward passes,
// so cutting costs the device little, while the next chunk's tokenization has a pass or more to
// hide behind.
std::vector<TextChunk> plan_chunks(std::span<const std::size_t> text_bytes, std::size_t max_length,
                                   std::size_t max_items, std::size_t max_tokens);

// The tokens plan_chunks estimates for an input of `bytes` UTF-8 bytes, and for all of `texts`
// (what an encoder reserves for its output up front).
std::size_t estimated_tokens(std::size_t bytes, std::size_t max_length);
std::size_t estimated_tokens(std::span<const std::string_view> texts, std::size_t max_length);

// The UTF-8 lengths of texts, for plan_chunks.
std::vector<std::size_t> byte_sizes(std::span<const std::string_view> texts);

// For every chunk in order: tokenized = tokenize(chunk), then encode(chunk, tokenized) (a chunk
// is whatever the caller cuts its work into, TextChunk or its own). With a
// thread, chunk k + 1 is tokenized on it while chunk k is encoded on the calling thread; without
// one, everything runs on the calling thread. `stats` (when given) gets the calling thread's time
// spent tokenizing or waiting for the tokenizer as tokenize_ms and its time encoding as
// encode_ms, so the two add up to the call's wall time. An exception from either is rethrown once
// no task of this call is left running.
template <typename Chunk, typename Tokenize, typename Encode>
void tokenize_ahead(TokenizerThread* thread, std::span<const Chunk> chunks, Tokenize&& tokenize,
                    Encode&& encode, EncodeStats* stats) {
  using Tokenized = std::invoke_result_t<Tokenize&, const Chunk&>;
  if (chunks.empty()) return;
  const auto add = [stats](double EncodeStats::*field, const Stopwatch& clock) {
    if (stats) stats->*field += clock.ms();
  };
  Stopwatch clock;
  Tokenized current = tokenize(chunks[0]);
  add(&EncodeStats::tokenize_ms, clock);
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    const bool more = k + 1 < chunks.size();
    std::future<Tokenized> next;
    if (more && thread != nullptr)
      next = thread->submit([&tokenize, chunk = chunks[k + 1]] { return tokenize(chunk); });
    try {
      clock = Stopwatch();
      encode(chunks[k], current);
      add(&EncodeStats::encode_ms, clock);
    } catch (...) {
      if (next.valid()) next.wait();  // the task refers to this call's arguments
      throw;
    }
    if (!more) break;
    clock = Stopwatch();
    current = next.valid() ? next.get() : tokenize(chunks[k + 1]);
    add(&EncodeStats::tokenize_ms, clock);
  }
}

}  // namespace rank_rerank::model
