// `rank-rerank score`: (query, document) pairs in (TSV query<TAB>document or JSON lines
// {"query", "document"}), one score per pair out, in input order. Consecutive pairs with the same
// query are encoded together.
#include <cstdio>
#include <iostream>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::cli {
namespace {

struct ScoreArgs {
  ModelArgs model;
  std::string input = "-";
  std::string format = "auto";
  bool json = false;
};

struct Group {
  std::string query;
  std::vector<std::string> documents;
};

int run(const ScoreArgs& args) {
  if (args.format != "auto" && args.format != "jsonl" && args.format != "tsv") {
    std::cerr << "rank-rerank score: --format must be auto, jsonl or tsv\n";
    return exit_usage;
  }
  std::vector<Group> groups;
  try {
    LineReader reader(args.input);
    const std::string format = args.format == "auto" ? reader.format_or("tsv") : args.format;
    for (std::string line; reader.next(line);) {
      std::string query, document;
      if (format == "jsonl") {
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const nlohmann::json j = parse_json_line(reader, line);
        query = string_field(reader, j, "query");
        document = string_field(reader, j, "document");
      } else {
        const std::size_t tab = line.find('\t');
        if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos)
          throw InputError(reader.name(), reader.line_number(),
                           "expected query<TAB>document (exactly one tab)");
        query = line.substr(0, tab);
        document = line.substr(tab + 1);
      }
      if (groups.empty() || groups.back().query != query) groups.push_back({query, {}});
      groups.back().documents.push_back(std::move(document));
    }
    if (reader.failed()) throw std::runtime_error("cannot read " + reader.name());
  } catch (const InputError& e) {
    std::cerr << "rank-rerank score: " << e.what() << "\n";
    return exit_bad_input;
  } catch (const std::runtime_error& e) {
    std::cerr << "rank-rerank score: " << e.what() << "\n";
    return exit_io;
  }
  const std::optional<Reranker> reranker = load_reranker(args.model, "score");
  if (!reranker) return exit_load;
  try {
    std::vector<std::string_view> queries;
    std::vector<std::vector<std::string_view>> documents;
    for (const Group& g : groups) {
      queries.push_back(g.query);
      documents.emplace_back(g.documents.begin(), g.documents.end());
    }
    const auto hits = reranker->rerank_many(queries, documents);
    print_stats(args.model);
    std::string out;
    char number[32];
    for (const auto& list : hits) {
      std::vector<float> scores(list.size());
      for (const RerankHit& h : list) scores[static_cast<std::size_t>(h.index)] = h.score;
      for (float s : scores) {
        std::snprintf(number, sizeof number, "%.9g", static_cast<double>(s));
        out += args.json ? "{\"score\":" + std::string(number) + "}\n" : std::string(number) + "\n";
      }
    }
    return write_stdout(out) ? exit_ok : exit_io;
  } catch (const Error& e) {
    std::cerr << "rank-rerank score: " << e.what() << "\n";
    return e.kind() == ErrorKind::invalid_argument ? exit_bad_input : exit_runtime;
  }
}

}  // namespace

void add_score_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* sub = app.add_subcommand(
      "score",
      "Score (query, document) pairs: TSV query<TAB>document or JSON lines {\"query\", "
      "\"document\"} in, one score per line out (a JSON object per line with --json).");
  add_model_options(*sub, args->model);
  sub->add_option("--input,-i", args->input, "input file (default stdin)");
  sub->add_option("--format", args->format, "auto (from the file name; else tsv), jsonl, tsv");
  sub->add_flag("--json", args->json, "one {\"score\": s} object per line");
  sub->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace rank_rerank::cli
