// Building a Tokenizer from tokenizer.json, a BERT vocab.txt, or a model directory.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tokenizer/loaders.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/unicode_text.hpp"

namespace rank_rerank {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_invalid("tokenizer: cannot open '" + path + "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::unique_ptr<tok::Model> load_model_json(tok::Json obj, const simdjson::padded_string& source) {
  const tok::Fields f(obj, "model");
  std::string type;
  if (f.has("type")) {
    type = f.str("type");
  } else if (f.has("merges")) {
    type = "BPE";
  } else if (f.has("continuing_subword_prefix") || f.has("max_input_chars_per_word")) {
    type = "WordPiece";
  } else {
    f.fail("type", "is missing and the model kind cannot be inferred");
  }
  const tok::Fields typed(obj, "model " + type);
  if (type == "WordPiece") return tok::load_wordpiece(typed);
  if (type == "BPE") return tok::load_bpe(typed);
  if (type == "Unigram") return tok::load_unigram(typed, source);
  throw_unsupported("tokenizer.json: model type '" + type + "' is not supported");
}

std::vector<tok::AddedToken> load_added_tokens(const tok::Fields& root) {
  std::vector<tok::AddedToken> out;
  if (!root.has("added_tokens")) return out;
  for (tok::Json item : root.array("added_tokens")) {
    const tok::Fields f(item, "added_tokens entry");
    tok::AddedToken t;
    t.id = static_cast<std::int32_t>(f.integer_in("id", 0, INT32_MAX));
    t.content = f.str("content");
    t.single_word = f.boolean_or("single_word", false);
    t.lstrip = f.boolean_or("lstrip", false);
    t.rstrip = f.boolean_or("rstrip", false);
    t.special = f.boolean_or("special", false);
    t.normalized = f.boolean_or("normalized", !t.special);
    out.push_back(std::move(t));
  }
  return out;
}

Side parse_side(const tok::Fields& f, std::string_view key) {
  const std::string v = f.str_or(std::string(key), "Right");
  if (v == "Right") return Side::right;
  if (v == "Left") return Side::left;
  f.fail(key, "must be Left or Right");
}

}  // namespace

namespace {

std::unique_ptr<Tokenizer::Impl> load_impl(const simdjson::padded_string& padded) {
  using Impl = Tokenizer::Impl;
  simdjson::dom::parser parser;
  simdjson::dom::element root_el;
  if (auto err = parser.parse(padded).get(root_el)) {
    throw_invalid(std::string("tokenizer.json: not valid JSON: ") + simdjson::error_message(err));
  }
  const tok::Fields root(root_el, "tokenizer");
  auto impl = std::make_unique<Impl>();
  if (auto n = root.maybe("normalizer")) impl->normalizer = tok::load_normalizer(*n);
  if (auto p = root.maybe("pre_tokenizer")) impl->pre_tokenizer = tok::load_pre_tokenizer(*p);
  impl->model = load_model_json(root.at("model"), padded);
  if (auto p = root.maybe("post_processor")) impl->post_processor = tok::load_post_processor(*p);
  if (auto d = root.maybe("decoder")) impl->decoder = tok::load_decoder(*d);
  impl->added.build(load_added_tokens(root), impl->normalizer.get());
  if (auto t = root.maybe("truncation")) {
    const tok::Fields f(*t, "truncation");
    TruncationOptions o;
    o.max_length = static_cast<std::size_t>(f.integer_in("max_length", 0, INT64_MAX));
    const std::string strategy = f.str_or("strategy", "LongestFirst");
    if (strategy == "OnlyFirst") {
      o.strategy = TruncationStrategy::only_first;
    } else if (strategy == "OnlySecond") {
      o.strategy = TruncationStrategy::only_second;
    } else if (strategy != "LongestFirst") {
      f.fail("strategy", "has unknown value '" + strategy + "'");
    }
    o.direction = parse_side(f, "direction");
    impl->truncation = o;
  }
  if (auto p = root.maybe("padding")) {
    const tok::Fields f(*p, "padding");
    PaddingOptions o;
    if (f.has("strategy")) {
      std::string_view s;
      if (!f.at("strategy").get(s)) {
        if (s != "BatchLongest") f.fail("strategy", "has unknown value");
      } else {
        const tok::Fields fixed(f.at("strategy"), "padding strategy");
        o.max_length = static_cast<std::size_t>(fixed.integer_in("Fixed", 0, kMaxPaddedLength));
      }
    }
    o.direction = parse_side(f, "direction");
    o.pad_to_multiple_of =
        static_cast<std::size_t>(f.integer_in_or("pad_to_multiple_of", 0, kMaxPaddedLength, 0));
    o.pad_id = static_cast<std::int32_t>(f.integer_in_or("pad_id", 0, INT32_MAX, 0));
    o.pad_type_id = static_cast<std::int32_t>(f.integer_in_or("pad_type_id", 0, INT32_MAX, 0));
    o.pad_token = f.str_or("pad_token", "[PAD]");
    impl->padding = o;
  }
  return impl;
}

}  // namespace

Tokenizer Tokenizer::from_json(std::string_view json) {
  return Tokenizer(load_impl(simdjson::padded_string(json)));
}

Tokenizer Tokenizer::from_file(const std::string& path) {
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".txt") == 0)
    return from_vocab_txt(path, true);
  // Read straight into simdjson's padded buffer: one copy of a file that can be tens of MB.
  simdjson::padded_string padded;
  if (simdjson::padded_string::load(path).get(padded))
    throw_invalid("tokenizer: cannot open '" + path + "'");
  return Tokenizer(load_impl(padded));
}

Tokenizer Tokenizer::from_vocab_txt(const std::string& path, bool lowercase) {
  std::istringstream in(read_file(path));
  tok::Vocab vocab;
  std::string line;
  std::int32_t id = 0;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    vocab.add(line, id++);
  }
  auto impl = std::make_unique<Impl>();
  impl->normalizer = tok::make_bert_normalizer(true, true, lowercase, lowercase);
  impl->pre_tokenizer = tok::make_bert_pre_tokenizer();
  const auto cls = vocab.find("[CLS]"), sep = vocab.find("[SEP]");
  if (!cls || !sep) throw_invalid("vocab.txt: '" + path + "' lacks [CLS] or [SEP]");
  std::vector<tok::AddedToken> specials;
  for (const char* name : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    if (auto t = vocab.find(name))
      specials.push_back(tok::AddedToken{*t, name, false, false, false, false, true});
  }
  impl->post_processor = tok::make_bert_processing("[SEP]", *sep, "[CLS]", *cls);
  impl->decoder = tok::make_wordpiece_decoder();
  impl->model = tok::make_wordpiece(std::move(vocab));
  impl->added.build(std::move(specials), impl->normalizer.get());
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::from_pretrained(const std::string& directory) {
  namespace fs = std::filesystem;
  const fs::path dir(directory);
  if (fs::exists(dir / "tokenizer.json")) return from_file((dir / "tokenizer.json").string());
  if (fs::exists(dir / "vocab.txt")) {
    bool lower = true;
    if (fs::exists(dir / "tokenizer_config.json")) {
      simdjson::dom::parser parser;
      simdjson::dom::element cfg;
      auto padded = simdjson::padded_string::load((dir / "tokenizer_config.json").string());
      bool v;
      if (!padded.error() && !parser.parse(padded.value()).get(cfg) && !cfg["do_lower_case"].get(v))
        lower = v;
    }
    return from_vocab_txt((dir / "vocab.txt").string(), lower);
  }
  throw_invalid("from_pretrained: '" + directory + "' has neither tokenizer.json nor vocab.txt");
}

}  // namespace rank_rerank
