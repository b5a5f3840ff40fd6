// Python binding of the pipeline: Reranker, its results and statistics, DocumentVectors. Thin:
// convert texts, release the GIL around loading, encoding and scoring, hand back Python objects.
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "device_args.hpp"
#include "rank_rerank/device.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/quantize.hpp"
#include "rank_rerank/reranker.hpp"

namespace rank_rerank::python {

namespace {

// What rerank returns: a read-only sequence of {"index", "score"[, "text"]} dicts with .stats.
struct RerankResult {
  std::vector<RerankHit> hits;
  std::vector<std::string> texts;  // the documents given, when return_documents
  RerankStats stats;
};

nb::dict hit_dict(const RerankResult& r, std::size_t i) {
  nb::dict d;
  d["index"] = r.hits[i].index;
  d["score"] = r.hits[i].score;
  if (!r.texts.empty()) d["text"] = r.texts[static_cast<std::size_t>(r.hits[i].index)];
  return d;
}

nb::list hit_list(const RerankResult& r) {
  nb::list out;
  for (std::size_t i = 0; i < r.hits.size(); ++i) out.append(hit_dict(r, i));
  return out;
}

std::vector<std::string_view> views_of(const std::vector<std::string>& texts) {
  return {texts.begin(), texts.end()};
}

nb::dict stats_dict(const RerankStats& s) {
  nb::dict d;
  d["queries"] = s.queries;
  d["texts"] = s.texts;
  d["tokens"] = s.tokens;
  d["tokenize_ms"] = s.tokenize_ms;
  d["encode_ms"] = s.encode_ms;
  d["score_ms"] = s.score_ms;
  d["total_ms"] = s.total_ms;
  d["device"] = s.device;
  d["batch_texts"] = s.batch_texts;
  d["batch_tokens"] = s.batch_tokens;
  d["tokens_per_second"] = s.tokens_per_second();
  return d;
}

nb::dict identity_dict(const ModelIdentity& m) {
  nb::dict d;
  d["name"] = m.name;
  d["kind"] = m.kind;
  d["fingerprint"] = m.fingerprint;
  d["dim"] = m.dim;
  d["max_length"] = m.max_length;
  return d;
}

DType storage_dtype(const std::string& name) {
  if (name == "float32" || name == "f32") return DType::f32;
  if (name == "float16" || name == "f16") return DType::f16;
  if (name == "bfloat16" || name == "bf16") return DType::bf16;
  throw_invalid("dtype '" + name + "' is not a vectors storage type (float32, float16, bfloat16)");
}

}  // namespace

void bind_pipeline(nb::module_& m) {
  nb::class_<RerankStats>(m, "RerankStats",
                          "Measurements of one Reranker call (times in milliseconds).")
      .def_ro("queries", &RerankStats::queries)
      .def_ro("texts", &RerankStats::texts)
      .def_ro("tokens", &RerankStats::tokens)
      .def_ro("tokenize_ms", &RerankStats::tokenize_ms)
      .def_ro("encode_ms", &RerankStats::encode_ms)
      .def_ro("score_ms", &RerankStats::score_ms)
      .def_ro("total_ms", &RerankStats::total_ms)
      .def_ro("device", &RerankStats::device)
      .def_ro("batch_texts", &RerankStats::batch_texts)
      .def_ro("batch_tokens", &RerankStats::batch_tokens)
      .def_prop_ro("tokens_per_second", &RerankStats::tokens_per_second)
      .def("as_dict", &stats_dict, "Every field (and tokens_per_second) as a dict.")
      .def("to_json", &RerankStats::to_json, "One JSON object, as the CLI's --stats prints.")
      .def("__repr__", [](const RerankStats& s) { return "RerankStats(" + s.to_json() + ")"; });

  nb::class_<RerankResult>(m, "RerankResult",
                           "Ranked documents, best first: a sequence of {'index', 'score'} dicts\n"
                           "('text' too with return_documents=True); .stats holds the call's\n"
                           "measurements.")
      .def("__len__", [](const RerankResult& r) { return r.hits.size(); })
      .def("__getitem__",
           [](const RerankResult& r, std::int64_t i) {
             const auto n = static_cast<std::int64_t>(r.hits.size());
             if (i < 0) i += n;
             if (i < 0 || i >= n) throw nb::index_error("RerankResult index out of range");
             return hit_dict(r, static_cast<std::size_t>(i));
           })
      .def("__iter__", [](const RerankResult& r) { return nb::iter(hit_list(r)); })
      .def("__eq__",
           [](const RerankResult& r, const nb::list& other) { return hit_list(r).equal(other); })
      .def("to_list", &hit_list, "The hits as a list of dicts.")
      .def("__repr__", [](const RerankResult& r) { return nb::repr(hit_list(r)); })
      .def_ro("stats", &RerankResult::stats);

  nb::class_<DocumentVectors>(
      m, "DocumentVectors",
      "A document vectors file (Reranker.save_vectors) mapped read-only; see docs/formats.md.")
      .def(
          "__init__",
          [](DocumentVectors* self, const std::filesystem::path& path) {
            nb::gil_scoped_release release;
            new (self) DocumentVectors(DocumentVectors::open(path));
          },
          nb::arg("path"), "Open and validate the file; ValueError names what is wrong.")
      .def("__len__", &DocumentVectors::size)
      .def("__contains__",
           [](const DocumentVectors& v, const std::string& id) { return v.find(id).has_value(); })
      .def_prop_ro("dim", &DocumentVectors::dim)
      .def_prop_ro("dtype", [](const DocumentVectors& v) { return dtype_name(v.dtype()); })
      .def_prop_ro("total_rows", &DocumentVectors::total_rows)
      .def_prop_ro("model", [](const DocumentVectors& v) { return identity_dict(v.model()); })
      .def(
          "ids",
          [](const DocumentVectors& v) {
            std::vector<std::string> ids;
            for (std::size_t i = 0; i < v.size(); ++i) ids.emplace_back(v.id(i));
            return ids;
          },
          "Every id, in file order.")
      .def(
          "vectors",
          [](const DocumentVectors& v, const std::string& id) {
            const std::optional<std::size_t> at = v.find(id);
            if (!at) throw_invalid("document id '" + id + "' is not in " + v.source());
            return to_numpy(dequantize(v.packed().item(*at)), {v.packed().item(*at).rows, v.dim()});
          },
          nb::arg("id"), "The rows of one document as float32 [n, dim] (a copy).");

  nb::class_<Reranker>(
      m, "Reranker",
      "Text in, ranked documents out, with any supported model: ColBERT (MaxSim), cross-encoder,\n"
      "dense bi-encoder (cosine), or a dense model's token vectors (kind='dense_maxsim').")
      .def(
          "__init__",
          [](Reranker* self, const std::string& name_or_path, const std::string& kind,
             const std::string& device, nb::handle devices, const std::string& dtype,
             std::size_t max_batch_tokens, std::optional<std::size_t> max_length,
             std::optional<std::size_t> query_length, int num_threads, const std::string& revision,
             std::optional<std::string> cache_dir, std::optional<bool> offline) {
            RerankerOptions o;
            o.kind = parse_reranker_kind(kind);
            o.device = device;
            // A string is kept as given (resolve_placement parses it: "cuda:all" included).
            if (nb::isinstance<nb::str>(devices))
              o.devices = nb::cast<std::string>(devices);
            else if (!devices.is_none())
              o.devices = devices_to_string(devices_arg(devices));
            o.dtype = dtype;
            o.max_batch_tokens = max_batch_tokens;
            o.max_length = max_length;
            o.query_length = query_length;
            o.num_threads = num_threads;
            o.hub.revision = revision;
            if (cache_dir) o.hub.cache_dir = *cache_dir;
            o.hub.offline = offline;
            nb::gil_scoped_release release;
            new (self) Reranker(Reranker::from_pretrained(name_or_path, o));
          },
          nb::arg("name_or_path"), nb::kw_only(), nb::arg("kind") = "auto",
          nb::arg("device") = "auto", nb::arg("devices") = nb::none(), nb::arg("dtype") = "float32",
          nb::arg("max_batch_tokens") = 32768, nb::arg("max_length") = nb::none(),
          nb::arg("query_length") = nb::none(), nb::arg("num_threads") = 0,
          nb::arg("revision") = "main", nb::arg("cache_dir") = nb::none(),
          nb::arg("offline") = nb::none(),
          "Load a model from a directory or Hugging Face repo id. kind: auto (detected from the\n"
          "checkpoint), colbert, cross_encoder, dense, dense_maxsim. max_batch_tokens: tokens per\n"
          "encoder pass. max_length: document truncation; query_length: ColBERT queries.\n"
          "device: 'auto', 'cpu', 'cuda:N'; devices (instead of device): several GPUs, data\n"
          "parallel, as ['cuda:0', 'cuda:1'], 'cuda:0,cuda:1' or 'cuda:all'.")
      .def(
          "rerank",
          [](const Reranker& r, const std::string& query, const std::vector<std::string>& documents,
             std::optional<std::size_t> top_k, bool return_documents) {
            RerankResult out;
            {
              nb::gil_scoped_release release;
              const std::vector<std::string_view> docs = views_of(documents);
              out.hits = r.rerank(query, docs, top_k, &out.stats);
            }
            if (return_documents) out.texts = documents;
            return out;
          },
          nb::arg("query"), nb::arg("documents"), nb::arg("top_k") = nb::none(),
          nb::arg("return_documents") = false,
          "Documents ranked best first as [{'index', 'score'(, 'text')}], ties by index; top_k\n"
          "keeps the best k. result.stats (and rank_rerank.last_stats()) hold the timings.")
      .def(
          "rerank_many",
          [](const Reranker& r, const std::vector<std::string>& queries,
             const std::vector<std::vector<std::string>>& documents,
             std::optional<std::size_t> top_k, bool return_documents) {
            std::vector<std::vector<RerankHit>> hits;
            RerankStats stats;
            {
              nb::gil_scoped_release release;
              const std::vector<std::string_view> q = views_of(queries);
              std::vector<std::vector<std::string_view>> d;
              for (const auto& list : documents) d.push_back(views_of(list));
              hits = r.rerank_many(q, d, top_k, &stats);
            }
            std::vector<RerankResult> out(hits.size());
            for (std::size_t i = 0; i < hits.size(); ++i) {
              out[i].hits = std::move(hits[i]);
              out[i].stats = stats;
              if (return_documents) out[i].texts = documents[i];
            }
            return out;
          },
          nb::arg("queries"), nb::arg("documents"), nb::arg("top_k") = nb::none(),
          nb::arg("return_documents") = false,
          "Each query with its own candidate list (documents[i] for queries[i]), encoded in\n"
          "shared passes; one RerankResult per query, all with the call's stats.")
      .def(
          "score",
          [](const Reranker& r, const std::string& query,
             const std::vector<std::string>& documents) {
            std::vector<float> scores;
            {
              nb::gil_scoped_release release;
              const std::vector<std::string_view> docs = views_of(documents);
              scores = r.score(query, docs);
            }
            return to_numpy(std::move(scores));
          },
          nb::arg("query"), nb::arg("documents"), "Scores in document order, float32.")
      .def(
          "encode_documents",
          [](const Reranker& r, const std::vector<std::string>& documents) {
            PackedEmbeddings e;
            {
              nb::gil_scoped_release release;
              const std::vector<std::string_view> docs = views_of(documents);
              e = r.encode_documents(docs);
            }
            const auto rows = static_cast<std::size_t>(e.offsets.back());
            return nb::make_tuple(to_numpy(std::move(e.values), {rows, e.dim}),
                                  to_numpy(std::move(e.offsets)));
          },
          nb::arg("documents"),
          "Document vectors, packed: (values float32 [total, dim], offsets int64 [n + 1]); a\n"
          "dense model gives one row per document.")
      .def(
          "save_vectors",
          [](const Reranker& r, const std::filesystem::path& path,
             const std::vector<std::string>& documents, const std::vector<std::string>& ids,
             const std::string& dtype) {
            const DType storage = storage_dtype(dtype);
            RerankStats stats;
            nb::gil_scoped_release release;
            const std::vector<std::string_view> docs = views_of(documents);
            r.save_document_vectors(path, docs, ids, storage, &stats);
            return stats;
          },
          nb::arg("path"), nb::arg("documents"), nb::arg("ids"), nb::arg("dtype") = "float32",
          "Encode the documents and write them with their ids and this model's identity to one\n"
          "file (float32, float16 or bfloat16 rows). Returns the encoding's RerankStats.")
      .def(
          "rerank_vectors",
          [](const Reranker& r, const std::string& query, const DocumentVectors& vectors,
             const std::vector<std::string>& ids, std::optional<std::size_t> top_k) {
            RerankResult out;
            nb::gil_scoped_release release;
            const std::vector<std::string_view> candidates = views_of(ids);
            out.hits = r.rerank_precomputed(query, vectors, candidates, top_k, &out.stats);
            return out;
          },
          nb::arg("query"), nb::arg("vectors"), nb::arg("ids"), nb::arg("top_k") = nb::none(),
          "Rank the candidates given by id from stored vectors (only the query is encoded);\n"
          "'index' is the position in ids. ValueError when another model wrote the file.")
      .def_prop_ro("kind", [](const Reranker& r) { return reranker_kind_name(r.kind()); })
      .def_prop_ro("device", &Reranker::device)
      .def_prop_ro("dtype", &Reranker::dtype)
      .def_prop_ro("max_length", &Reranker::max_length)
      .def_prop_ro("model", [](const Reranker& r) { return identity_dict(r.identity()); });

  m.def(
      "last_stats", [] { return last_rerank_stats(); },
      "The RerankStats of the most recent Reranker call in this process.");
  m.def(
      "detect_model_kind",
      [](const std::string& name_or_path, std::optional<bool> offline) {
        HubOptions hub;
        hub.offline = offline;
        nb::gil_scoped_release release;
        return std::string(reranker_kind_name(detect_reranker_kind(name_or_path, hub)));
      },
      nb::arg("name_or_path"), nb::kw_only(), nb::arg("offline") = nb::none(),
      "'colbert', 'cross_encoder' or 'dense', from the checkpoint's files.");
}

}  // namespace rank_rerank::python
