// Shared pieces of the model-using subcommands.
#include "common.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::cli {

void add_model_options(CLI::App& sub, ModelArgs& args) {
  sub.add_option("--model,-m", args.model,
                 "model directory or Hugging Face repo id (ColBERT, cross-encoder or "
                 "sentence-transformers)")
      ->required();
  sub.add_option("--kind", args.kind,
                 "auto (from the checkpoint), colbert, cross_encoder, dense, dense_maxsim");
  sub.add_option("--device", args.device, "auto, cpu, cuda, cuda:N");
  sub.add_option("--devices", args.devices,
                 "several GPUs, data parallel: cuda:0,cuda:1 or cuda:all (instead of --device)");
  sub.add_option("--dtype", args.dtype, "float32, float16 (CUDA only), bfloat16 (CUDA or CPU)");
  sub.add_option("--batch-tokens", args.batch_tokens, "tokens per encoder pass")
      ->check(CLI::PositiveNumber);
  sub.add_option("--max-length", args.max_length,
                 "document truncation in tokens (default: the checkpoint's)")
      ->check(CLI::Range(std::size_t{2}, std::size_t{1} << 20));
  sub.add_option("--query-length", args.query_length, "ColBERT query length in tokens")
      ->check(CLI::Range(std::size_t{2}, std::size_t{1} << 20));
  sub.add_option("--threads", args.threads, "CPU threads (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  sub.add_flag("--stats", args.stats, "print each call's statistics as JSON on stderr");
  sub.add_flag("--offline", args.offline, "never contact the Hugging Face Hub");
}

std::optional<Reranker> load_reranker(const ModelArgs& args, const char* command) {
  try {
    RerankerOptions o;
    o.kind = parse_reranker_kind(args.kind);
    o.device = args.device;
    o.devices = args.devices;
    o.dtype = args.dtype;
    o.max_batch_tokens = args.batch_tokens;
    if (args.max_length) o.max_length = args.max_length;
    if (args.query_length) o.query_length = args.query_length;
    o.num_threads = args.threads;
    if (args.offline) o.hub.offline = true;
    return Reranker::from_pretrained(args.model, o);
  } catch (const Error& e) {
    std::cerr << "rank-rerank " << command << ": " << e.what() << "\n";
    return std::nullopt;
  }
}

void print_stats(const ModelArgs& args) {
  if (args.stats) std::cerr << last_rerank_stats().to_json() << "\n";
}

LineReader::LineReader(const std::string& path) : in_(&std::cin), name_("<stdin>") {
  if (path.empty() || path == "-") return;
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*file) throw std::runtime_error("cannot open " + path);
  in_ = file.get();
  owned_ = std::move(file);
  name_ = path;
}

bool LineReader::next(std::string& line) {
  if (!std::getline(*in_, line)) return false;
  ++line_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

bool LineReader::failed() const { return in_->bad(); }

std::string LineReader::format_or(const std::string& fallback) const {
  if (name_.ends_with(".jsonl") || name_.ends_with(".json")) return "jsonl";
  if (name_.ends_with(".tsv")) return "tsv";
  return fallback;
}

nlohmann::json parse_json_line(const LineReader& reader, const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) throw InputError(reader.name(), reader.line_number(), "not valid JSON");
  if (!j.is_object())
    throw InputError(reader.name(), reader.line_number(), "expected a JSON object");
  return j;
}

std::string string_field(const LineReader& reader, const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    throw InputError(reader.name(), reader.line_number(),
                     std::string("expected a string field \"") + key + "\"");
  return it->get<std::string>();
}

Progress::Progress(std::size_t total, const char* what)
    : enabled_(::isatty(STDERR_FILENO) == 1),
      total_(total),
      what_(what),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void Progress::advance(std::size_t n) {
  done_ += n;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100) && (total_ == 0 || done_ < total_)) return;
  last_ = now;
  draw();
}

void Progress::draw() {
  constexpr int kWidth = 30;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
  if (total_ == 0) {  // the total is unknown (stdin): a counter
    std::fprintf(stderr, "\r%zu %s  %.0f/s", done_, what_, rate);
    std::fflush(stderr);
    return;
  }
  const double fraction = static_cast<double>(done_) / static_cast<double>(total_);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r[%s] %zu/%zu %s  %.0f/s", bar.c_str(), done_, total_, what_, rate);
  std::fflush(stderr);
}

void Progress::finish() {
  if (!enabled_) return;
  draw();
  std::fputc('\n', stderr);
}

bool write_stdout(const std::string& text) {
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() &&
         std::fflush(stdout) == 0;
}

}  // namespace rank_rerank::cli
