// Kind detection from config.json / sentence-transformers files, and the model fingerprint.
#include "pipeline/model_identity.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/reranker.hpp"

namespace rank_rerank {

namespace pipeline {

namespace {

// FNV-1a, 64 bits: enough to tell models apart, not a security measure.
struct Fnv1a {
  std::uint64_t state = 0xcbf29ce484222325ull;
  void add(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
      state ^= p[i];
      state *= 0x100000001b3ull;
    }
  }
  void add(std::string_view s) {
    const std::uint64_t n = s.size();
    add(&n, sizeof n);
    add(s.data(), s.size());
  }
};

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorKind::runtime, "cannot read " + path.string());
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) throw_invalid(path.string() + ": not valid JSON");
  return j;
}

// Small files whole; large ones (weights) by size plus three 64 KiB windows, which any
// fine-tuning changes, so fingerprinting a 400 MB checkpoint reads 192 KiB.
void add_file(Fnv1a& h, const std::filesystem::path& path, const std::string& relative) {
  constexpr std::size_t kWindow = 64 * 1024;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::runtime, "cannot read " + path.string());
  const std::uintmax_t size = std::filesystem::file_size(path);
  h.add(relative);
  h.add(&size, sizeof size);
  std::vector<char> buffer;
  auto window = [&](std::uintmax_t at, std::size_t n) {
    buffer.resize(n);
    in.seekg(static_cast<std::streamoff>(at));
    in.read(buffer.data(), static_cast<std::streamsize>(n));
    h.add(buffer.data(), static_cast<std::size_t>(in.gcount()));
  };
  if (size <= 3 * kWindow) {
    window(0, static_cast<std::size_t>(size));
  } else {
    window(0, kWindow);
    window(size / 2, kWindow);
    window(size - kWindow, kWindow);
  }
}

bool is_model_file(const std::string& name) {
  static constexpr std::array<std::string_view, 8> kNames = {"config.json",
                                                             "tokenizer.json",
                                                             "tokenizer_config.json",
                                                             "vocab.txt",
                                                             "modules.json",
                                                             "config_sentence_transformers.json",
                                                             "sentence_bert_config.json",
                                                             "artifact.metadata"};
  if (std::find(kNames.begin(), kNames.end(), name) != kNames.end()) return true;
  const bool weights = (name.starts_with("model") && name.ends_with(".safetensors")) ||
                       (name.starts_with("pytorch_model") && name.ends_with(".bin")) ||
                       name.ends_with(".index.json");
  return weights;
}

// Module folders named in modules.json ("1_Dense", "1_Pooling", ...).
std::vector<std::string> module_folders(const std::filesystem::path& directory) {
  std::vector<std::string> folders;
  const std::filesystem::path modules = directory / "modules.json";
  if (!std::filesystem::exists(modules)) return folders;
  const nlohmann::json j = read_json(modules);
  if (!j.is_array()) return folders;
  for (const nlohmann::json& m : j)
    if (m.is_object() && m.contains("path") && m["path"].is_string() &&
        !m["path"].get<std::string>().empty())
      folders.push_back(m["path"].get<std::string>());
  return folders;
}

}  // namespace

std::filesystem::path model_directory(std::string_view path_or_id, const HubOptions& hub) {
  return hf_resolve(path_or_id, "config.json", hub).parent_path();
}

std::string model_fingerprint(const std::filesystem::path& directory) {
  Fnv1a h;
  std::vector<std::string> folders{""};
  for (std::string& f : module_folders(directory)) folders.push_back(std::move(f));
  for (const std::string& folder : folders) {
    const std::filesystem::path dir = folder.empty() ? directory : directory / folder;
    if (!std::filesystem::is_directory(dir)) continue;
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.is_regular_file() && is_model_file(entry.path().filename().string()))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const std::string& name : names)
      add_file(h, dir / name, folder.empty() ? name : folder + "/" + name);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 0; i < 16; ++i)
    out[static_cast<std::size_t>(i)] = kHex[(h.state >> (60 - 4 * i)) & 0xf];
  return out;
}

}  // namespace pipeline

RerankerKind detect_reranker_kind(std::string_view path_or_id, const HubOptions& hub) {
  const std::filesystem::path config_path = hf_resolve(path_or_id, "config.json", hub);
  const nlohmann::json config = pipeline::read_json(config_path);
  std::vector<std::string> architectures;
  if (config.is_object() && config.contains("architectures") && config["architectures"].is_array())
    for (const nlohmann::json& a : config["architectures"])
      if (a.is_string()) architectures.push_back(a.get<std::string>());
  auto has = [&](auto predicate) {
    return std::any_of(architectures.begin(), architectures.end(), predicate);
  };
  if (has([](const std::string& a) { return a == "HF_ColBERT"; })) return RerankerKind::colbert;
  if (const auto st = hf_resolve_optional(path_or_id, "config_sentence_transformers.json", hub)) {
    const nlohmann::json j = pipeline::read_json(*st);
    if (j.is_object() &&
        ((j.contains("model_type") && j["model_type"] == "ColBERT") ||
         (j.contains("similarity_fn_name") && j["similarity_fn_name"] == "MaxSim")))
      return RerankerKind::colbert;
  }
  if (const auto modules = hf_resolve_optional(path_or_id, "modules.json", hub)) {
    const nlohmann::json j = pipeline::read_json(*modules);
    if (j.is_array())
      for (const nlohmann::json& m : j)
        if (m.is_object() && m.contains("type") && m["type"].is_string() &&
            m["type"].get<std::string>().starts_with("pylate."))
          return RerankerKind::colbert;
  }
  if (has([](const std::string& a) { return a.ends_with("ForSequenceClassification"); }))
    return RerankerKind::cross_encoder;
  return RerankerKind::dense;
}

}  // namespace rank_rerank
