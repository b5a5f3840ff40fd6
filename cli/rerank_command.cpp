// `rank-rerank rerank`: queries with their candidate documents in, one ranked JSON line per query
// out. Inputs:
//   jsonl  {"query": "...", "documents": ["...", {"id": "...", "text": "..."}], "id": ...}
//          with --vectors: {"query": "...", "ids": ["...", ...]} scored from the vectors file
//   tsv    query<TAB>document (or query<TAB>doc_id with --vectors); consecutive lines with the
//          same query are one candidate list
//   lines  with --query: one document (or doc id with --vectors) per line
#include <iostream>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::cli {
namespace {

struct RerankArgs {
  ModelArgs model;
  std::string input = "-";
  std::string format = "auto";
  std::string query;
  std::string vectors;
  std::size_t top_k = 0;
  bool return_documents = false;
  std::size_t group = 32;
};

// One query and its candidates, as read.
struct Record {
  nlohmann::json query_id;  // null when the input gave none
  std::string query;
  std::vector<std::string> texts;  // documents, or ids with --vectors
  std::vector<std::string> ids;    // document ids given in the input (may be empty)
};

Record jsonl_record(const LineReader& reader, const std::string& line, bool by_id) {
  const nlohmann::json j = parse_json_line(reader, line);
  Record r;
  r.query = string_field(reader, j, "query");
  if (j.contains("id")) r.query_id = j["id"];
  const char* key = by_id ? "ids" : "documents";
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array())
    throw InputError(reader.name(), reader.line_number(),
                     std::string("expected an array field \"") + key + "\"");
  for (const nlohmann::json& d : *it) {
    if (d.is_string()) {
      r.texts.push_back(d.get<std::string>());
    } else if (!by_id && d.is_object() && d.contains("text") && d["text"].is_string()) {
      r.texts.push_back(d["text"].get<std::string>());
      if (d.contains("id"))
        r.ids.push_back(d["id"].is_string() ? d["id"].get<std::string>() : d["id"].dump());
    } else {
      throw InputError(reader.name(), reader.line_number(),
                       std::string("each entry of \"") + key + "\" must be a string" +
                           (by_id ? "" : " or an object with a string \"text\""));
    }
  }
  if (!r.ids.empty() && r.ids.size() != r.texts.size())
    throw InputError(reader.name(), reader.line_number(),
                     "give an \"id\" for every document or for none");
  return r;
}

std::string result_line(const Record& r, const std::vector<RerankHit>& hits, bool by_id,
                        bool return_documents) {
  nlohmann::json out;
  if (!r.query_id.is_null()) out["id"] = r.query_id;
  out["query"] = r.query;
  nlohmann::json results = nlohmann::json::array();
  for (const RerankHit& h : hits) {
    const auto i = static_cast<std::size_t>(h.index);
    nlohmann::json hit = {{"index", h.index}, {"score", h.score}};
    if (by_id) hit["id"] = r.texts[i];
    if (!r.ids.empty()) hit["id"] = r.ids[i];
    if (return_documents && !by_id) hit["text"] = r.texts[i];
    results.push_back(std::move(hit));
  }
  out["results"] = std::move(results);
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

class Runner {
 public:
  Runner(const RerankArgs& args, const Reranker& reranker, const DocumentVectors* vectors)
      : args_(args), reranker_(reranker), vectors_(vectors), progress_(0, "queries") {}
  ~Runner() { progress_.finish(); }

  // Scores and writes the pending records; false when stdout fails.
  bool flush() {
    if (pending_.empty()) return true;
    const std::optional<std::size_t> k =
        args_.top_k ? std::optional<std::size_t>(args_.top_k) : std::nullopt;
    std::vector<std::vector<RerankHit>> hits;
    if (vectors_) {
      for (const Record& r : pending_) {
        const std::vector<std::string_view> ids(r.texts.begin(), r.texts.end());
        hits.push_back(reranker_.rerank_precomputed(r.query, *vectors_, ids, k));
        print_stats(args_.model);
      }
    } else {
      std::vector<std::string_view> queries;
      std::vector<std::vector<std::string_view>> docs;
      for (const Record& r : pending_) {
        queries.push_back(r.query);
        docs.emplace_back(r.texts.begin(), r.texts.end());
      }
      hits = reranker_.rerank_many(queries, docs, k);
      print_stats(args_.model);
    }
    std::string out;
    for (std::size_t i = 0; i < pending_.size(); ++i)
      out += result_line(pending_[i], hits[i], vectors_ != nullptr, args_.return_documents);
    progress_.advance(pending_.size());
    pending_.clear();
    return write_stdout(out);
  }
  bool add(Record r) {
    pending_.push_back(std::move(r));
    return pending_.size() < args_.group || flush();
  }

 private:
  const RerankArgs& args_;
  const Reranker& reranker_;
  const DocumentVectors* vectors_;
  std::vector<Record> pending_;
  Progress progress_;
};

int read_and_rerank(const RerankArgs& args, LineReader& reader, Runner& runner) {
  const bool by_id = !args.vectors.empty();
  std::string format = args.format == "auto"
                           ? reader.format_or(args.query.empty() ? "jsonl" : "lines")
                           : args.format;
  if (!args.query.empty() && format != "lines") format = "lines";
  Record current;
  bool open = false;
  for (std::string line; reader.next(line);) {
    if (format == "jsonl") {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      if (!runner.add(jsonl_record(reader, line, by_id))) return exit_io;
    } else if (format == "tsv") {
      const std::size_t tab = line.find('\t');
      if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos)
        throw InputError(reader.name(), reader.line_number(),
                         "expected query<TAB>document (exactly one tab)");
      std::string query = line.substr(0, tab);
      if (open && query != current.query) {
        if (!runner.add(std::move(current))) return exit_io;
        current = Record{};
      }
      current.query = std::move(query);
      current.texts.push_back(line.substr(tab + 1));
      open = true;
    } else {
      current.query = args.query;
      current.texts.push_back(line);
      open = true;
    }
  }
  if (reader.failed()) {
    std::cerr << "rank-rerank rerank: cannot read " << reader.name() << "\n";
    return exit_io;
  }
  if (!open && format == "lines") current.query = args.query, open = true;
  if (open && !runner.add(std::move(current))) return exit_io;
  return runner.flush() ? exit_ok : exit_io;
}

int run(const RerankArgs& args) {
  if (args.format != "auto" && args.format != "jsonl" && args.format != "tsv" &&
      args.format != "lines") {
    std::cerr << "rank-rerank rerank: --format must be auto, jsonl, tsv or lines\n";
    return exit_usage;
  }
  if (args.format == "lines" && args.query.empty()) {
    std::cerr << "rank-rerank rerank: --format lines needs --query\n";
    return exit_usage;
  }
  std::optional<DocumentVectors> vectors;
  if (!args.vectors.empty()) {
    try {
      vectors.emplace(DocumentVectors::open(args.vectors));
    } catch (const Error& e) {
      std::cerr << "rank-rerank rerank: " << e.what() << "\n";
      return exit_load;
    }
  }
  const std::optional<Reranker> reranker = load_reranker(args.model, "rerank");
  if (!reranker) return exit_load;
  if (vectors) {
    if (const std::string why = vectors->model().mismatch(reranker->identity()); !why.empty()) {
      std::cerr << "rank-rerank rerank: " << args.vectors
                << ": cannot score these vectors with this model: " << why << "\n";
      return exit_load;
    }
  }
  try {
    LineReader reader(args.input);
    Runner runner(args, *reranker, vectors ? &*vectors : nullptr);
    return read_and_rerank(args, reader, runner);
  } catch (const InputError& e) {
    std::cerr << "rank-rerank rerank: " << e.what() << "\n";
    return exit_bad_input;
  } catch (const Error& e) {
    std::cerr << "rank-rerank rerank: " << e.what() << "\n";
    return e.kind() == ErrorKind::invalid_argument ? exit_bad_input : exit_runtime;
  } catch (const std::runtime_error& e) {
    std::cerr << "rank-rerank rerank: " << e.what() << "\n";
    return exit_io;
  }
}

}  // namespace

void add_rerank_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RerankArgs>();
  CLI::App* sub = app.add_subcommand(
      "rerank",
      "Rank each query's documents: JSON lines {\"query\", \"documents\"} (or TSV query<TAB>doc, "
      "or --query with one document per line) in, one JSON line {\"query\", \"results\": "
      "[{\"index\", \"score\"}]} per query out, best first.");
  add_model_options(*sub, args->model);
  sub->add_option("--input,-i", args->input, "input file (default stdin)");
  sub->add_option("--format", args->format, "auto (from the file name), jsonl, tsv, lines");
  sub->add_option("--query,-q", args->query, "one query for all input lines (format lines)");
  sub->add_option("--vectors", args->vectors,
                  "score by document id from a vectors file (rank-rerank encode)");
  sub->add_option("--top-k,-k", args->top_k, "keep the best k per query")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--return-documents", args->return_documents, "include each document's text");
  sub->add_option("--group", args->group, "queries encoded together")->check(CLI::PositiveNumber);
  sub->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace rank_rerank::cli
