// Multi-GPU bindings: device lists and the sharded GPU document set. Thin: convert, release the
// GIL around the device work, hand back numpy arrays.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "device_args.hpp"
#include "rank_rerank/device.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/multi_gpu_maxsim.hpp"
#include "token_args.hpp"

namespace rank_rerank::python {

using namespace nb::literals;

namespace {

// A device list is required here: None is an empty list.
std::vector<Device> devices_of(nb::handle devices) {
  if (devices.is_none())
    throw_invalid("devices: the list is empty (expected e.g. 'cuda:0,cuda:1')");
  return devices_arg(devices);
}

std::vector<std::string> names_of(const std::vector<Device>& devices) {
  std::vector<std::string> out;
  for (const Device& d : devices) out.push_back(d.to_string());
  return out;
}

struct PyShardedSet {
  gpu::ShardedDocumentSet set;
  PyShardedSet(nb::handle tokens, nb::handle offsets, nb::handle devices, const std::string& dtype,
               nb::handle scales, std::optional<std::size_t> dim, std::size_t min_shard_bytes)
      : set(make(tokens, offsets, devices, dtype, scales, dim, min_shard_bytes)) {}
  static gpu::ShardedDocumentSet make(nb::handle tokens, nb::handle offsets, nb::handle devices,
                                      const std::string& dtype, nb::handle scales,
                                      std::optional<std::size_t> dim, std::size_t min_shard_bytes) {
    const TokenArg d = token_arg(tokens, dtype, scales, dim, "tokens");
    const IndexArg off = index_arg(offsets, "offsets");
    const std::vector<Device> list = devices_of(devices);
    nb::gil_scoped_release release;
    return gpu::ShardedDocumentSet(PackedTokens{d.matrix, off.values}, list, min_shard_bytes);
  }
  // One query (query_offsets None) or packed queries, read against the documents' storage.
  PackedTokens queries(nb::handle q, nb::handle query_offsets, TokenArg& rows,
                       std::vector<std::int64_t>& offsets) const {
    rows = query_arg(q, set.dtype(), set.dim(), query_offsets.is_none() ? "query" : "queries");
    if (query_offsets.is_none()) {
      offsets = {0, static_cast<std::int64_t>(rows.matrix.rows)};
    } else {
      const IndexArg qo = index_arg(query_offsets, "query_offsets");
      offsets.assign(qo.values.begin(), qo.values.end());
    }
    return {rows.matrix, offsets};
  }
};

}  // namespace

void bind_multi_gpu(nb::module_& m) {
  m.def(
      "parse_devices", [](nb::handle devices) { return names_of(devices_of(devices)); },
      "devices"_a,
      "A device list as the devices= options read it: 'cuda:0,cuda:1', 'cuda:all' (every\n"
      "visible CUDA device) or a sequence of device strings -> ['cuda:0', 'cuda:1']. A device\n"
      "may repeat (two replicas on one GPU). Raises ValueError for an empty list or entry, or\n"
      "several devices that are not all CUDA devices; RuntimeError when 'cuda:all' finds none.");
  nb::class_<PyShardedSet>(
      m, "ShardedGpuDocumentSet",
      "Packed documents split over several CUDA devices (contiguous shards of nearly equal token\n"
      "counts), scored on all of them at once; the same scores and rankings as one\n"
      "GpuDocumentSet holding every document.")
      .def(nb::init<nb::handle, nb::handle, nb::handle, const std::string&, nb::handle,
                    std::optional<std::size_t>, std::size_t>(),
           "tokens"_a, "offsets"_a, nb::kw_only(), "devices"_a, "dtype"_a = "auto",
           "scales"_a = nb::none(), "dim"_a = nb::none(), "min_shard_bytes"_a = gpu::kMinShardBytes,
           "tokens / offsets / dtype / scales / dim as GpuDocumentSet; devices: a device list\n"
           "(['cuda:0', 'cuda:1'], 'cuda:0,cuda:1', 'cuda:all'; a GPU may be listed twice).\n"
           "One shard per min_shard_bytes of documents (default 1 GiB), at most one per device:\n"
           "a small set stays on one device (0: one shard per device).")
      .def_prop_ro("size", [](const PyShardedSet& s) { return s.set.size(); })
      .def_prop_ro("dim", [](const PyShardedSet& s) { return s.set.dim(); })
      .def_prop_ro(
          "devices", [](const PyShardedSet& s) { return names_of(s.set.devices()); },
          "The device of each shard, in shard order.")
      .def_prop_ro(
          "shard_offsets", [](const PyShardedSet& s) { return s.set.shard_offsets(); },
          "Shard s holds documents [shard_offsets[s], shard_offsets[s + 1]).")
      .def(
          "device_memory",
          [](const PyShardedSet& s) {
            nb::list out;
            for (const DeviceMemory& mem : s.set.device_memory()) {
              nb::dict d;
              d["device"] = mem.device.to_string();
              d["bytes_in_use"] = mem.bytes_in_use;
              d["bytes_reserved"] = mem.bytes_reserved;
              out.append(d);
            }
            return out;
          },
          "Device memory per shard: a list of {'device', 'bytes_in_use', 'bytes_reserved'}.")
      .def(
          "score",
          [](const PyShardedSet& s, nb::handle query, nb::handle query_offsets,
             const std::string& similarity) {
            TokenArg rows;
            std::vector<std::int64_t> offsets;
            const PackedTokens queries = s.queries(query, query_offsets, rows, offsets);
            std::vector<float> out;
            {
              nb::gil_scoped_release release;
              out = s.set.score_all(queries, parse_similarity(similarity));
            }
            if (query_offsets.is_none()) return nb::cast(to_numpy(std::move(out)));
            return nb::cast(to_numpy(std::move(out), {queries.size(), s.set.size()}));
          },
          "query"_a, "query_offsets"_a = nb::none(), "similarity"_a = "dot",
          "Scores of one query [n_docs], or of packed queries [n_queries, n_docs].")
      .def(
          "top_k",
          [](const PyShardedSet& s, nb::handle query, std::size_t k, nb::handle query_offsets,
             const std::string& similarity) {
            TokenArg rows;
            std::vector<std::int64_t> offsets;
            const PackedTokens queries = s.queries(query, query_offsets, rows, offsets);
            std::vector<std::vector<Ranked>> ranked;
            {
              nb::gil_scoped_release release;
              ranked = s.set.top_k(queries, k, parse_similarity(similarity));
            }
            return ranked_rows_to_numpy(ranked, k);
          },
          "query"_a, "k"_a, "query_offsets"_a = nb::none(), "similarity"_a = "dot",
          "The k best documents of each query over every shard: (indices int64 [n_queries, k],\n"
          "scores float32 [n_queries, k]); higher first, ties by lower index, NaN last.");
}

}  // namespace rank_rerank::python
