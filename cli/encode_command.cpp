// `rank-rerank encode`: documents in (JSON lines {"id", "text"}, TSV id<TAB>text, or one text per
// line with the line number as id), one document vectors file out (docs/formats.md).
#include <iostream>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::cli {
namespace {

struct EncodeArgs {
  ModelArgs model;
  std::string input = "-";
  std::string format = "auto";
  std::string output;
  std::string storage = "float32";
  std::size_t chunk = 1024;
  bool json = false;
};

void read_documents(const EncodeArgs& args, LineReader& reader, std::vector<std::string>& ids,
                    std::vector<std::string>& texts) {
  const std::string format = args.format == "auto" ? reader.format_or("lines") : args.format;
  for (std::string line; reader.next(line);) {
    if (format == "jsonl") {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      const nlohmann::json j = parse_json_line(reader, line);
      const auto id = j.find("id");
      if (id == j.end() || !(id->is_string() || id->is_number_integer()))
        throw InputError(reader.name(), reader.line_number(),
                         "expected an \"id\" field (string or integer)");
      ids.push_back(id->is_string() ? id->get<std::string>() : id->dump());
      texts.push_back(string_field(reader, j, "text"));
    } else if (format == "tsv") {
      const std::size_t tab = line.find('\t');
      if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos)
        throw InputError(reader.name(), reader.line_number(),
                         "expected id<TAB>text (exactly one tab)");
      ids.push_back(line.substr(0, tab));
      texts.push_back(line.substr(tab + 1));
    } else {
      ids.push_back(std::to_string(reader.line_number()));
      texts.push_back(std::move(line));
    }
    if (ids.back().empty())
      throw InputError(reader.name(), reader.line_number(), "the document id is empty");
  }
  if (reader.failed()) throw std::runtime_error("cannot read " + reader.name());
}

DType storage_dtype(const std::string& name) {
  if (name == "float32" || name == "f32") return DType::f32;
  if (name == "float16" || name == "f16") return DType::f16;
  if (name == "bfloat16" || name == "bf16") return DType::bf16;
  throw_invalid("--storage must be float32, float16 or bfloat16, found '" + name + "'");
}

int run(const EncodeArgs& args) {
  if (args.format != "auto" && args.format != "jsonl" && args.format != "tsv" &&
      args.format != "lines") {
    std::cerr << "rank-rerank encode: --format must be auto, jsonl, tsv or lines\n";
    return exit_usage;
  }
  DType storage = DType::f32;
  try {
    storage = storage_dtype(args.storage);
  } catch (const Error& e) {
    std::cerr << "rank-rerank encode: " << e.what() << "\n";
    return exit_usage;
  }
  std::vector<std::string> ids, texts;
  try {
    LineReader reader(args.input);
    read_documents(args, reader, ids, texts);
  } catch (const InputError& e) {
    std::cerr << "rank-rerank encode: " << e.what() << "\n";
    return exit_bad_input;
  } catch (const std::runtime_error& e) {
    std::cerr << "rank-rerank encode: " << e.what() << "\n";
    return exit_io;
  }
  const std::optional<Reranker> reranker = load_reranker(args.model, "encode");
  if (!reranker) return exit_load;
  try {
    PackedEmbeddings all;
    all.dim = reranker->identity().dim;
    all.offsets.push_back(0);
    RerankStats total;
    Progress progress(texts.size(), "documents");
    for (std::size_t begin = 0; begin < texts.size(); begin += args.chunk) {
      const std::size_t end = std::min(texts.size(), begin + args.chunk);
      const std::vector<std::string_view> chunk(texts.begin() + static_cast<std::ptrdiff_t>(begin),
                                                texts.begin() + static_cast<std::ptrdiff_t>(end));
      RerankStats stats;
      const PackedEmbeddings part = reranker->encode_documents(chunk, &stats);
      all.values.insert(all.values.end(), part.values.begin(), part.values.end());
      for (std::size_t i = 1; i < part.offsets.size(); ++i)
        all.offsets.push_back(all.offsets[begin] + part.offsets[i]);
      total.texts += stats.texts;
      total.tokens += stats.tokens;
      total.tokenize_ms += stats.tokenize_ms;
      total.encode_ms += stats.encode_ms;
      total.total_ms += stats.total_ms;
      total.device = stats.device;
      total.batch_texts.insert(total.batch_texts.end(), stats.batch_texts.begin(),
                               stats.batch_texts.end());
      total.batch_tokens.insert(total.batch_tokens.end(), stats.batch_tokens.begin(),
                                stats.batch_tokens.end());
      progress.advance(end - begin);
    }
    progress.finish();
    write_document_vectors(args.output, all, ids, reranker->identity(), storage);
    if (args.model.stats) std::cerr << total.to_json() << "\n";
    const nlohmann::json summary = {{"output", args.output},
                                    {"documents", ids.size()},
                                    {"rows", all.offsets.back()},
                                    {"dim", all.dim},
                                    {"storage", args.storage},
                                    {"model", reranker->identity().name},
                                    {"fingerprint", reranker->identity().fingerprint}};
    if (args.json && !write_stdout(summary.dump() + "\n")) return exit_io;
    if (!args.json)
      std::cerr << "rank-rerank encode: " << ids.size() << " documents, " << all.offsets.back()
                << " vectors of " << all.dim << " -> " << args.output << "\n";
    return exit_ok;
  } catch (const Error& e) {
    std::cerr << "rank-rerank encode: " << e.what() << "\n";
    return e.kind() == ErrorKind::invalid_argument ? exit_bad_input : exit_runtime;
  }
}

}  // namespace

void add_encode_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EncodeArgs>();
  CLI::App* sub = app.add_subcommand(
      "encode",
      "Encode documents once into a vectors file that `rerank --vectors` scores by id: JSON "
      "lines {\"id\", \"text\"}, TSV id<TAB>text, or one text per line (id = line number).");
  add_model_options(*sub, args->model);
  sub->add_option("--input,-i", args->input, "input file (default stdin)");
  sub->add_option("--format", args->format, "auto (from the file name), jsonl, tsv, lines");
  sub->add_option("--output,-o", args->output, "the vectors file to write")->required();
  sub->add_option("--storage", args->storage, "float32, float16 or bfloat16 rows");
  sub->add_option("--chunk", args->chunk, "documents per progress step")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--json", args->json, "print a JSON summary on stdout");
  sub->callback([args, &exit_code] { exit_code = run(*args); });
}

}  // namespace rank_rerank::cli
