// Checkpoint reading and Hugging Face resolution for Python: thin wrappers over weights.hpp and
// hub.hpp.
#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include "bindings.hpp"
#include "rank_rerank/hub.hpp"
#include "rank_rerank/weights.hpp"

namespace nb = nanobind;

namespace rank_rerank::python {
namespace {

using ReadOnlyArray = nb::ndarray<nb::numpy, nb::ro>;

// numpy has no bfloat16 or 8-bit floats: those come back as the unsigned integers of the same
// width holding the raw bits, sub-byte formats as their packed bytes.
struct NumpyLayout {
  nb::dlpack::dtype dtype;
  bool flat_bytes = false;
};

NumpyLayout numpy_layout(WeightDType d) {
  using Code = nb::dlpack::dtype_code;
  const auto make = [](Code code, int bits) {
    return nb::dlpack::dtype{static_cast<std::uint8_t>(code), static_cast<std::uint8_t>(bits), 1};
  };
  switch (d) {
    case WeightDType::boolean:
      return {make(Code::Bool, 8)};
    case WeightDType::u8:
      return {make(Code::UInt, 8)};
    case WeightDType::i8:
      return {make(Code::Int, 8)};
    case WeightDType::i16:
      return {make(Code::Int, 16)};
    case WeightDType::u16:
      return {make(Code::UInt, 16)};
    case WeightDType::i32:
      return {make(Code::Int, 32)};
    case WeightDType::u32:
      return {make(Code::UInt, 32)};
    case WeightDType::i64:
      return {make(Code::Int, 64)};
    case WeightDType::u64:
      return {make(Code::UInt, 64)};
    case WeightDType::f16:
      return {make(Code::Float, 16)};
    case WeightDType::f32:
      return {make(Code::Float, 32)};
    case WeightDType::f64:
      return {make(Code::Float, 64)};
    case WeightDType::c64:
      return {make(Code::Complex, 64)};
    case WeightDType::bf16:
      return {make(Code::UInt, 16)};
    case WeightDType::f4:
    case WeightDType::f6_e2m3:
    case WeightDType::f6_e3m2:
      return {make(Code::UInt, 8), true};
    default:
      return {make(Code::UInt, 8)};  // the 8-bit float formats
  }
}

// Arrays view the mapped files; the capsule keeps them mapped while any array is alive.
nb::dict to_arrays(const Weights& weights) {
  auto* kept = new Weights(weights);
  nb::capsule owner(kept, [](void* p) noexcept { delete static_cast<Weights*>(p); });
  nb::dict out;
  for (const std::string& name : weights.names()) {
    const WeightTensor& t = weights.get(name);
    const NumpyLayout layout = numpy_layout(t.dtype);
    std::vector<std::size_t> shape;
    if (layout.flat_bytes)
      shape.push_back(t.bytes.size());
    else
      for (const std::int64_t d : t.shape) shape.push_back(static_cast<std::size_t>(d));
    out[nb::str(name.data(), name.size())] =
        ReadOnlyArray(t.bytes.data(), shape.size(), shape.data(), owner, nullptr, layout.dtype);
  }
  return out;
}

nb::dict describe(const Weights& weights) {
  nb::dict tensors;
  for (const std::string& name : weights.names()) {
    const WeightTensor& t = weights.get(name);
    nb::list shape;
    for (const std::int64_t d : t.shape) shape.append(d);
    nb::dict entry;
    entry["dtype"] = std::string(weight_dtype_name(t.dtype));
    entry["shape"] = shape;
    tensors[nb::str(name.data(), name.size())] = entry;
  }
  nb::dict metadata;
  for (const auto& [key, value] : weights.metadata())
    metadata[nb::str(key.data(), key.size())] = value;
  nb::dict out;
  out["source"] = weights.source();
  out["tensors"] = tensors;
  out["metadata"] = metadata;
  return out;
}

HubOptions hub_options(const std::string& revision, const std::optional<std::string>& cache_dir,
                       const std::optional<std::string>& endpoint,
                       const std::optional<std::string>& token, std::optional<bool> offline) {
  HubOptions o;
  o.revision = revision;
  o.cache_dir = cache_dir.value_or("");
  o.endpoint = endpoint.value_or("");
  o.token = token.value_or("");
  o.offline = offline;
  return o;
}

Weights open_weights(const std::filesystem::path& path) {
  nb::gil_scoped_release release;
  return Weights::open(path);
}

}  // namespace

void bind_io(nb::module_& m) {
  m.def(
      "load_weights",
      [](const std::filesystem::path& path) { return to_arrays(open_weights(path)); },
      nb::arg("path"),
      "Read a checkpoint: a .safetensors file, a sharded *.index.json, a torch.save zip archive\n"
      "(pytorch_model.bin; pickles are read by a restricted reader that executes nothing), or a\n"
      "model directory. Returns {name: read-only numpy array}. Arrays view the memory-mapped file\n"
      "without a copy where the layout allows (strided torch views are copied). BF16 comes back\n"
      "as uint16 bit patterns and the 8-bit float formats as uint8, since numpy lacks them;\n"
      "weights_info() gives the real dtypes.");
  m.def(
      "weights_info",
      [](const std::filesystem::path& path) { return describe(open_weights(path)); },
      nb::arg("path"),
      "Describe a checkpoint without touching tensor data: {'source', 'tensors': {name: {'dtype',\n"
      "'shape'}}, 'metadata': safetensors __metadata__}.");
  m.def(
      "hf_cache_dir", &hf_cache_dir,
      "The Hugging Face hub cache directory the environment selects (HF_HUB_CACHE, HF_HOME, ...).");
  m.def(
      "hf_resolve",
      [](const std::string& repo_or_path, const std::string& filename, const std::string& revision,
         const std::optional<std::string>& cache_dir, const std::optional<std::string>& endpoint,
         const std::optional<std::string>& token, std::optional<bool> offline,
         bool missing_ok) -> std::optional<std::filesystem::path> {
        const HubOptions options = hub_options(revision, cache_dir, endpoint, token, offline);
        nb::gil_scoped_release release;
        if (missing_ok) return hf_resolve_optional(repo_or_path, filename, options);
        return hf_resolve(repo_or_path, filename, options);
      },
      nb::arg("repo_or_path"), nb::arg("filename"), nb::arg("revision") = "main",
      nb::arg("cache_dir") = nb::none(), nb::arg("endpoint") = nb::none(),
      nb::arg("token") = nb::none(), nb::arg("offline") = nb::none(), nb::arg("missing_ok") = false,
      "Local path of `filename` from a model directory or a Hugging Face repo id, using the\n"
      "huggingface_hub cache and downloading into it when needed. Unset options come from\n"
      "HF_HUB_CACHE / HF_HOME, HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE. With missing_ok=True a\n"
      "file that does not exist in the repository gives None instead of an error.");
  m.def(
      "hf_load_weights",
      [](const std::string& repo_or_path, const std::string& revision,
         const std::optional<std::string>& cache_dir, const std::optional<std::string>& endpoint,
         const std::optional<std::string>& token, std::optional<bool> offline) {
        const HubOptions options = hub_options(revision, cache_dir, endpoint, token, offline);
        Weights weights;
        {
          nb::gil_scoped_release release;
          weights = hf_load_weights(repo_or_path, options);
        }
        return to_arrays(weights);
      },
      nb::arg("repo_or_path"), nb::arg("revision") = "main", nb::arg("cache_dir") = nb::none(),
      nb::arg("endpoint") = nb::none(), nb::arg("token") = nb::none(),
      nb::arg("offline") = nb::none(),
      "The checkpoint of a model directory or Hugging Face repo (model.safetensors, its sharded\n"
      "index, pytorch_model.bin, or its sharded index, in that order of preference), as\n"
      "load_weights() returns it.");
}

}  // namespace rank_rerank::python
