// `rank-rerank tokenize`: one text per line on stdin (or text<TAB>pair with --pair), one JSON
// object per line on stdout with the ids, type ids, attention mask and offsets `tokenizers` would
// give.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/tokenizer.hpp"

namespace rank_rerank::cli {
namespace {

struct TokenizeArgs {
  std::string tokenizer;
  bool pair = false;
  std::size_t max_length = 0;
  bool no_special_tokens = false;
  int threads = 0;
  std::size_t batch = 1024;
};

void append_ints(std::string& out, const char* key, const std::vector<std::int32_t>& values) {
  out += '"';
  out += key;
  out += "\":[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  out += ']';
}

void append_json(std::string& out, const Encoding& e) {
  out += '{';
  append_ints(out, "ids", e.ids);
  out += ',';
  append_ints(out, "type_ids", e.type_ids);
  out += ',';
  append_ints(out, "attention_mask", e.attention_mask);
  out += ",\"offsets\":[";
  for (std::size_t i = 0; i < e.offsets.size(); ++i) {
    if (i) out += ',';
    out +=
        '[' + std::to_string(e.offsets[i].first) + ',' + std::to_string(e.offsets[i].second) + ']';
  }
  out += "]}\n";
}

Tokenizer load(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) ? Tokenizer::from_pretrained(path)
                                                 : Tokenizer::from_file(path);
}

// Encodes one batch of lines (first_line is the number of the first, from 1) and writes them.
int flush(const Tokenizer& tok, const TokenizeArgs& args, const EncodeOptions& options,
          std::vector<std::string>& lines, std::size_t first_line) {
  std::vector<std::string_view> texts, pairs;
  texts.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (!args.pair) {
      texts.push_back(line);
      continue;
    }
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos || line.find('\t', tab + 1) != std::string_view::npos) {
      std::cerr << "rank-rerank tokenize: line " << first_line + i
                << ": expected text<TAB>pair (exactly one tab) with --pair\n";
      return exit_bad_input;
    }
    texts.push_back(line.substr(0, tab));
    pairs.push_back(line.substr(tab + 1));
  }
  std::vector<Encoding> encodings;
  try {
    encodings = tok.encode_batch(texts, pairs, options);
  } catch (const Error& e) {
    std::cerr << "rank-rerank tokenize: lines " << first_line << "-"
              << first_line + lines.size() - 1 << ": " << e.what() << "\n";
    return exit_bad_input;
  }
  std::string out;
  for (const Encoding& e : encodings) append_json(out, e);
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::cerr << "rank-rerank tokenize: cannot write to stdout\n";
    return exit_io;
  }
  lines.clear();
  return exit_ok;
}

int run(const TokenizeArgs& args) {
  std::optional<Tokenizer> tok;
  try {
    tok.emplace(load(args.tokenizer));
  } catch (const Error& e) {
    std::cerr << "rank-rerank tokenize: " << e.what() << "\n";
    return exit_load;
  }
  EncodeOptions options;
  options.add_special_tokens = !args.no_special_tokens;
  options.num_threads = args.threads;
  if (args.max_length > 0) {
    TruncationOptions t;
    t.max_length = args.max_length;
    options.truncation = std::optional<TruncationOptions>(t);
  }
  std::ios::sync_with_stdio(false);
  std::vector<std::string> lines;
  std::size_t line_number = 0, first_line = 1;
  for (std::string line; std::getline(std::cin, line);) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    if (lines.size() == args.batch) {
      if (const int code = flush(*tok, args, options, lines, first_line)) return code;
      first_line = line_number + 1;
    }
  }
  if (std::cin.bad()) {
    std::cerr << "rank-rerank tokenize: cannot read stdin\n";
    return exit_io;
  }
  return lines.empty() ? exit_ok : flush(*tok, args, options, lines, first_line);
}

}  // namespace

void add_tokenize_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* sub = app.add_subcommand(
      "tokenize",
      "Tokenize stdin, one text per line (invalid UTF-8 is replaced by U+FFFD), into one JSON "
      "object per line: ids, type_ids, attention_mask, offsets (code points of the line).");
  sub->add_option("--tokenizer", args->tokenizer,
                  "tokenizer.json, a BERT vocab.txt, or a model directory holding one of them")
      ->required();
  sub->add_flag("--pair", args->pair, "each line is text<TAB>pair, encoded as a pair");
  sub->add_option("--max-length", args->max_length,
                  "truncate to this many tokens, special tokens included (longest first)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--no-special-tokens", args->no_special_tokens,
                "leave out [CLS]/[SEP], <s>/</s> and the like");
  sub->add_option("--threads", args->threads, "threads per batch of lines (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--batch", args->batch, "lines encoded together")->check(CLI::PositiveNumber);
  sub->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace rank_rerank::cli
