// Weights::open and Weights::open_sharded: choosing the reader and assembling shards.
#include <cstring>

#include "io/mapped_file.hpp"
#include "io/safetensors_format.hpp"
#include "io/strict_json.hpp"
#include "io/torch_checkpoint.hpp"
#include "io/weights_builder.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The checkpoint files a model directory may hold, in the order transformers prefers them.
constexpr std::string_view kCheckpointNames[] = {
    "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
    "pytorch_model.bin.index.json"};

void read_safetensors(const io::MappedFile& file, WeightsBuilder& builder) {
  const auto bytes = file.bytes();
  const io::SafetensorsLayout layout = io::parse_safetensors(bytes, file.path());
  for (const auto& [key, value] : layout.metadata) builder.add_metadata(key, value);
  for (const io::SafetensorsEntry& e : layout.entries)
    builder.add(e.name, e.dtype, e.shape,
                bytes.subspan(layout.data_offset + e.begin, e.end - e.begin));
}

bool is_torch_archive(const std::string& name, std::span<const std::byte> bytes) {
  if (ends_with(name, ".safetensors")) return false;
  // Sniff first: torch archives start with a zip local header ("PK"), legacy ones with a pickle
  // PROTO opcode; the torch reader explains what it refuses.
  if (bytes.size() >= 2 && std::to_integer<char>(bytes[0]) == 'P' &&
      std::to_integer<char>(bytes[1]) == 'K')
    return true;
  if (!bytes.empty() && bytes[0] == std::byte{0x80}) return true;
  return ends_with(name, ".bin") || ends_with(name, ".pt") || ends_with(name, ".pth");
}

Weights open_file(const fs::path& path) {
  const auto file = io::MappedFile::open(path);
  WeightsBuilder builder(file->path());
  builder.keep_alive(file);
  if (is_torch_archive(path.filename().string(), file->bytes()))
    io::read_torch_checkpoint(file->bytes(), file->path(), builder);
  else
    read_safetensors(*file, builder);
  return std::move(builder).finish();
}

// Shard names come from a downloaded file: keep them inside the checkpoint's directory.
void check_shard_name(const std::string& index, const std::string& tensor,
                      const std::string& shard) {
  const fs::path p(shard);
  bool escapes = shard.empty() || p.is_absolute();
  for (const fs::path& part : p) escapes = escapes || part == "..";
  if (escapes)
    throw_invalid(index + ": weight_map sends tensor '" + tensor + "' to '" + shard +
                  "', which is not a file name beside the index");
}

std::string read_text(const fs::path& path) {
  const auto file = io::MappedFile::open(path);
  return {reinterpret_cast<const char*>(file->bytes().data()), file->bytes().size()};
}

}  // namespace

Weights Weights::open(const fs::path& path) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    for (const std::string_view name : kCheckpointNames)
      if (fs::exists(path / name, error)) return open(path / name);
    throw_invalid("no checkpoint in directory '" + path.string() +
                  "' (looked for model.safetensors, model.safetensors.index.json, "
                  "pytorch_model.bin, pytorch_model.bin.index.json)");
  }
  if (ends_with(path.filename().string(), ".index.json")) {
    const fs::path dir = path.parent_path();
    return open_sharded(path, [&dir](const std::string& shard) { return dir / shard; });
  }
  return open_file(path);
}

Weights Weights::open_sharded(const fs::path& index_path,
                              const std::function<fs::path(const std::string&)>& resolve_shard) {
  const std::string index = index_path.string();
  const nlohmann::json json = io::parse_json(read_text(index_path), index);
  const auto map = json.is_object() ? json.find("weight_map") : json.end();
  if (map == json.end() || !map->is_object())
    throw_invalid(index + ": no 'weight_map' object (tensor name -> shard file)");

  // Shard name -> the tensors the index places there, each shard opened once.
  std::map<std::string, std::vector<std::string>> shards;
  for (const auto& [tensor, shard] : map->items()) {
    if (!shard.is_string())
      throw_invalid(index + ": weight_map['" + tensor + "'] is " +
                    std::string(io::json_type_name(shard)) + ", a file name expected");
    check_shard_name(index, tensor, shard.get<std::string>());
    shards[shard.get<std::string>()].push_back(tensor);
  }
  WeightsBuilder builder(index);
  for (const auto& [shard, tensors] : shards) {
    const Weights part = open_file(resolve_shard(shard));
    for (const std::string& tensor : tensors)
      if (!part.contains(tensor))
        throw_invalid(index + ": weight_map places tensor '" + tensor + "' in " + shard +
                      ", which does not contain it");
    builder.merge(part);
  }
  return std::move(builder).finish();
}

}  // namespace rank_rerank
