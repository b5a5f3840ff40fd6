// Python binding of the model layer: SentenceEncoder (sentence-transformers bi-encoders). Thin:
// convert texts, release the GIL around loading and encoding, hand back numpy arrays.
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "device_args.hpp"
#include "rank_rerank/colbert_encoder.hpp"
#include "rank_rerank/compute_dtype.hpp"
#include "rank_rerank/cross_encoder.hpp"
#include "rank_rerank/sentence_encoder.hpp"

namespace rank_rerank::python {

namespace {

std::vector<std::string_view> views_of(const std::vector<std::string>& texts) {
  return {texts.begin(), texts.end()};
}

nb::ndarray<nb::numpy, float> encode_texts(const SentenceEncoder& encoder,
                                           const std::vector<std::string>& texts) {
  Embeddings e;
  {
    nb::gil_scoped_release release;
    e = encoder.encode(views_of(texts));
  }
  return to_numpy(std::move(e.values), {e.rows, e.dim});
}

// Packed token vectors as (values [total, dim], offsets [n + 1]).
nb::tuple packed_tuple(PackedEmbeddings&& e) {
  const auto rows = static_cast<std::size_t>(e.offsets.back());
  return nb::make_tuple(to_numpy(std::move(e.values), {rows, e.dim}),
                        to_numpy(std::move(e.offsets)));
}

// One array per text (copies of the packed rows).
nb::list per_text(const PackedEmbeddings& e) {
  nb::list out;
  for (std::size_t i = 0; i + 1 < e.offsets.size(); ++i) {
    const auto begin = static_cast<std::size_t>(e.offsets[i]);
    const auto end = static_cast<std::size_t>(e.offsets[i + 1]);
    std::vector<float> rows(e.values.begin() + static_cast<std::ptrdiff_t>(begin * e.dim),
                            e.values.begin() + static_cast<std::ptrdiff_t>(end * e.dim));
    out.append(to_numpy(std::move(rows), {end - begin, e.dim}));
  }
  return out;
}

// device None / "auto": CUDA when usable, else the CPU; dtype "float32" / "float16" / "bfloat16".
// devices None, a string ("cuda:0,cuda:1", "cuda:all") or a sequence of device strings.
template <class Options>
void set_compute(Options& options, const std::optional<std::string>& device, nb::handle devices,
                 const std::string& dtype) {
  if (device && *device != "auto" && *device != "AUTO") options.device = Device::parse(*device);
  options.devices = devices_arg(devices);
  options.dtype = parse_compute_dtype(dtype);
}

// The batching, threading and hub options every encoder shares.
template <class Options>
void set_loading(Options& options, std::size_t batch_size, std::size_t max_batch_tokens,
                 int num_threads, const std::string& revision,
                 const std::optional<std::string>& cache_dir, std::optional<bool> offline) {
  options.batch_size = batch_size;
  options.max_batch_tokens = max_batch_tokens;
  options.num_threads = num_threads;
  options.hub.revision = revision;
  if (cache_dir) options.hub.cache_dir = *cache_dir;
  options.hub.offline = offline;
}

// An encoder's devices() as strings.
template <class Encoder>
std::vector<std::string> devices_of(const Encoder& encoder) {
  std::vector<std::string> names;
  for (const Device& d : encoder.devices()) names.push_back(d.to_string());
  return names;
}

// An encoder's device_memory(): [{"device": "cuda:0", "bytes_in_use": ..., "bytes_reserved": ...}]
template <class Encoder>
nb::list memory_of(const Encoder& encoder) {
  nb::list out;
  for (const DeviceMemory& m : encoder.device_memory()) {
    nb::dict d;
    d["device"] = m.device.to_string();
    d["bytes_in_use"] = m.bytes_in_use;
    d["bytes_reserved"] = m.bytes_reserved;
    out.append(d);
  }
  return out;
}

constexpr const char* kDevicesDoc = "The devices the model runs on, e.g. ['cuda:0', 'cuda:1'].";
constexpr const char* kMemoryDoc =
    "Device memory per replica: a list of {'device', 'bytes_in_use', 'bytes_reserved'} (in use:\n"
    "live allocations, i.e. parameters and workspace between calls; reserved: what the\n"
    "replica's pool holds from the driver). Zeros on the CPU.";

// Appended to the constructors' docstrings (a literal: nanobind keeps the pointer).
#define RANK_RERANK_COMPUTE_DOC                                                                  \
  "\ndevice: None or 'auto' (CUDA when usable, else the CPU, saying why once), 'cpu', 'cuda',\n" \
  "'cuda:N'; an explicit device that cannot be used raises. devices: several GPUs instead of\n"  \
  "device, data parallel: ['cuda:0', 'cuda:1'], 'cuda:0,cuda:1' or 'cuda:all' (a GPU may be\n"   \
  "listed twice); results equal one device's bit for bit. dtype: 'float32' (default: the\n"      \
  "same numbers as the CPU), 'float16' (CUDA only) or 'bfloat16' (f32 accumulation; on the\n"    \
  "CPU the linear layers only, on AMX / AVX512-BF16 kernels where the CPU has them)."

ColbertEncoderOptions colbert_options(std::size_t batch_size, int num_threads,
                                      std::optional<std::size_t> query_length,
                                      std::optional<std::size_t> document_length,
                                      const std::string& revision,
                                      const std::optional<std::string>& cache_dir,
                                      std::optional<bool> offline, std::size_t max_batch_tokens,
                                      const std::optional<std::string>& device, nb::handle devices,
                                      const std::string& dtype) {
  ColbertEncoderOptions options;
  set_compute(options, device, devices, dtype);
  set_loading(options, batch_size, max_batch_tokens, num_threads, revision, cache_dir, offline);
  options.query_length = query_length;
  options.document_length = document_length;
  return options;
}

}  // namespace

void bind_models(nb::module_& m) {
  nb::class_<SentenceEncoder>(
      m, "SentenceEncoder",
      "A sentence-transformers bi-encoder (Transformer + Pooling + optional Normalize in\n"
      "modules.json; BERT architectures), on the CPU or a CUDA GPU. Gives the embeddings\n"
      "SentenceTransformer(name).encode(texts) gives.")
      .def(
          "__init__",
          [](SentenceEncoder* self, const std::string& name_or_path, std::size_t batch_size,
             int num_threads, std::optional<std::size_t> max_seq_length,
             const std::string& revision, std::optional<std::string> cache_dir,
             std::optional<bool> offline, std::size_t max_batch_tokens,
             std::optional<std::string> device, nb::handle devices, const std::string& dtype) {
            SentenceEncoderOptions options;
            set_compute(options, device, devices, dtype);
            set_loading(options, batch_size, max_batch_tokens, num_threads, revision, cache_dir,
                        offline);
            options.max_seq_length = max_seq_length;
            nb::gil_scoped_release release;
            new (self) SentenceEncoder(SentenceEncoder::from_pretrained(name_or_path, options));
          },
          nb::arg("name_or_path"), nb::kw_only(), nb::arg("batch_size") = 32,
          nb::arg("num_threads") = 0, nb::arg("max_seq_length") = nb::none(),
          nb::arg("revision") = "main", nb::arg("cache_dir") = nb::none(),
          nb::arg("offline") = nb::none(), nb::arg("max_batch_tokens") = 32768,
          nb::arg("device") = nb::none(), nb::arg("devices") = nb::none(),
          nb::arg("dtype") = "float32",
          "Load from a local directory or a Hugging Face repo id (resolved in the huggingface_hub\n"
          "cache, downloaded when missing). num_threads 0 uses rank_rerank.get_num_threads();\n"
          "max_seq_length overrides sentence_bert_config.json. Texts are sorted by length into\n"
          "forward passes of at most batch_size texts and max_batch_tokens "
          "tokens." RANK_RERANK_COMPUTE_DOC)
      .def(
          "encode",
          [](const SentenceEncoder& encoder, const std::string& text) {
            Embeddings e;
            {
              nb::gil_scoped_release release;
              e = encoder.encode({text});
            }
            return to_numpy(std::move(e.values), {e.dim});
          },
          nb::arg("texts"), "One text: its embedding, float32 [dim].")
      .def("encode", &encode_texts, nb::arg("texts"),
           "Texts: float32 [len(texts), dim]. Texts are truncated to max_seq_length tokens.")
      .def(
          "encode_tokens",
          [](const SentenceEncoder& encoder, const std::vector<std::string>& texts) {
            PackedEmbeddings e;
            {
              nb::gil_scoped_release release;
              e = encoder.encode_tokens(views_of(texts));
            }
            return packed_tuple(std::move(e));
          },
          nb::arg("texts"),
          "The transformer's output for every token, packed: (values float32 [total, hidden],\n"
          "offsets int64 [len(texts) + 1]); text i owns rows offsets[i]:offsets[i + 1].")
      .def_prop_ro("dimension", &SentenceEncoder::dimension)
      .def_prop_ro("hidden_size", &SentenceEncoder::hidden_size)
      .def_prop_ro("max_seq_length", &SentenceEncoder::max_seq_length)
      .def_prop_ro("normalizes", &SentenceEncoder::normalizes)
      .def_prop_ro("pooling_modes", &SentenceEncoder::pooling_modes)
      .def_prop_ro("devices", &devices_of<SentenceEncoder>, kDevicesDoc)
      .def("device_memory", &memory_of<SentenceEncoder>, kMemoryDoc);

  nb::class_<ColbertEncoder>(
      m, "ColbertEncoder",
      "A ColBERT encoder (PyLate / sentence-transformers layout, or Stanford HF_ColBERT) on the\n"
      "CPU or a CUDA GPU: one L2-normalised vector per token, as pylate.models.ColBERT.encode.\n"
      "Also available as rank_rerank.ColBERT.")
      .def(
          "__init__",
          [](ColbertEncoder* self, const std::string& name_or_path, std::size_t batch_size,
             int num_threads, std::optional<std::size_t> query_length,
             std::optional<std::size_t> document_length, const std::string& revision,
             std::optional<std::string> cache_dir, std::optional<bool> offline,
             std::size_t max_batch_tokens, std::optional<std::string> device, nb::handle devices,
             const std::string& dtype) {
            const ColbertEncoderOptions options =
                colbert_options(batch_size, num_threads, query_length, document_length, revision,
                                cache_dir, offline, max_batch_tokens, device, devices, dtype);
            nb::gil_scoped_release release;
            new (self) ColbertEncoder(ColbertEncoder::from_pretrained(name_or_path, options));
          },
          nb::arg("name_or_path"), nb::kw_only(), nb::arg("batch_size") = 32,
          nb::arg("num_threads") = 0, nb::arg("query_length") = nb::none(),
          nb::arg("document_length") = nb::none(), nb::arg("revision") = "main",
          nb::arg("cache_dir") = nb::none(), nb::arg("offline") = nb::none(),
          nb::arg("max_batch_tokens") = 32768, nb::arg("device") = nb::none(),
          nb::arg("devices") = nb::none(), nb::arg("dtype") = "float32",
          "Load from a local directory or a Hugging Face repo id. query_length / document_length\n"
          "override the checkpoint's settings; texts are sorted by length into forward passes of\n"
          "at most batch_size texts and max_batch_tokens tokens." RANK_RERANK_COMPUTE_DOC)
      .def_static(
          "from_pretrained",
          [](const std::string& name_or_path, std::size_t batch_size, int num_threads,
             std::optional<std::size_t> query_length, std::optional<std::size_t> document_length,
             const std::string& revision, std::optional<std::string> cache_dir,
             std::optional<bool> offline, std::size_t max_batch_tokens,
             std::optional<std::string> device, nb::handle devices, const std::string& dtype) {
            const ColbertEncoderOptions options =
                colbert_options(batch_size, num_threads, query_length, document_length, revision,
                                cache_dir, offline, max_batch_tokens, device, devices, dtype);
            nb::gil_scoped_release release;
            return ColbertEncoder::from_pretrained(name_or_path, options);
          },
          nb::arg("name_or_path"), nb::kw_only(), nb::arg("batch_size") = 32,
          nb::arg("num_threads") = 0, nb::arg("query_length") = nb::none(),
          nb::arg("document_length") = nb::none(), nb::arg("revision") = "main",
          nb::arg("cache_dir") = nb::none(), nb::arg("offline") = nb::none(),
          nb::arg("max_batch_tokens") = 32768, nb::arg("device") = nb::none(),
          nb::arg("devices") = nb::none(), nb::arg("dtype") = "float32",
          "The same as the constructor, named as PyLate's ColBERT(model_name_or_path) loads.")
      .def(
          "encode",
          [](const ColbertEncoder& encoder, const std::string& text, bool is_query) {
            PackedEmbeddings e;
            {
              nb::gil_scoped_release release;
              e = is_query ? encoder.encode_queries({text}) : encoder.encode_documents({text});
            }
            const auto rows = static_cast<std::size_t>(e.offsets.back());
            return to_numpy(std::move(e.values), {rows, e.dim});
          },
          nb::arg("texts"), nb::kw_only(), nb::arg("is_query") = true,
          "One text: its float32 [n, dim] array (as PyLate does for a str).")
      .def(
          "encode",
          [](const ColbertEncoder& encoder, const std::vector<std::string>& texts, bool is_query,
             bool packed) -> nb::object {
            PackedEmbeddings e;
            {
              nb::gil_scoped_release release;
              e = is_query ? encoder.encode_queries(views_of(texts))
                           : encoder.encode_documents(views_of(texts));
            }
            if (packed) return packed_tuple(std::move(e));
            return per_text(e);
          },
          nb::arg("texts"), nb::kw_only(), nb::arg("is_query") = true, nb::arg("packed") = false,
          "One float32 [n_i, dim] array per text (is_query defaults to True, as in PyLate), or\n"
          "with packed=True one (values [total, dim], offsets int64 [len(texts) + 1]) pair.")
      .def_prop_ro("dimension", &ColbertEncoder::dimension)
      .def_prop_ro("query_length", &ColbertEncoder::query_length)
      .def_prop_ro("document_length", &ColbertEncoder::document_length)
      .def_prop_ro("devices", &devices_of<ColbertEncoder>, kDevicesDoc)
      .def("device_memory", &memory_of<ColbertEncoder>, kMemoryDoc);

  nb::class_<CrossEncoder>(
      m, "CrossEncoder",
      "A sentence-transformers cross-encoder (BertForSequenceClassification), CPU or CUDA.\n"
      "Same scores as sentence_transformers.CrossEncoder(name).predict(pairs).")
      .def(
          "__init__",
          [](CrossEncoder* self, const std::string& name_or_path, std::size_t batch_size,
             int num_threads, std::optional<std::size_t> max_length, const std::string& revision,
             std::optional<std::string> cache_dir, std::optional<bool> offline,
             std::size_t max_batch_tokens, std::optional<std::string> device, nb::handle devices,
             const std::string& dtype) {
            CrossEncoderOptions options;
            set_compute(options, device, devices, dtype);
            set_loading(options, batch_size, max_batch_tokens, num_threads, revision, cache_dir,
                        offline);
            options.max_length = max_length;
            nb::gil_scoped_release release;
            new (self) CrossEncoder(CrossEncoder::from_pretrained(name_or_path, options));
          },
          nb::arg("name_or_path"), nb::kw_only(), nb::arg("batch_size") = 32,
          nb::arg("num_threads") = 0, nb::arg("max_length") = nb::none(),
          nb::arg("revision") = "main", nb::arg("cache_dir") = nb::none(),
          nb::arg("offline") = nb::none(), nb::arg("max_batch_tokens") = 32768,
          nb::arg("device") = nb::none(), nb::arg("devices") = nb::none(),
          nb::arg("dtype") = "float32",
          "Load from a local directory or a Hugging Face repo id. max_length overrides the\n"
          "tokenizer's model_max_length; pairs are sorted by length into forward passes of at\n"
          "most batch_size pairs and max_batch_tokens tokens." RANK_RERANK_COMPUTE_DOC)
      .def(
          "predict",
          [](const CrossEncoder& encoder,
             const std::vector<std::pair<std::string, std::string>>& pairs, bool apply_softmax) {
            std::vector<std::pair<std::string_view, std::string_view>> views(pairs.begin(),
                                                                             pairs.end());
            std::vector<float> scores;
            {
              nb::gil_scoped_release release;
              scores = encoder.predict(views, apply_softmax);
            }
            const std::size_t labels = encoder.num_labels();
            if (labels == 1) return to_numpy(std::move(scores));
            return to_numpy(std::move(scores), {pairs.size(), labels});
          },
          nb::arg("pairs"), nb::kw_only(), nb::arg("apply_softmax") = false,
          "Scores of (query, document) pairs: float32 [len(pairs)] for one label, else\n"
          "[len(pairs), num_labels]; the configured activation is applied (sentence-transformers'\n"
          "resolution), then a softmax per row with apply_softmax.")
      .def(
          "rank",
          [](const CrossEncoder& encoder, const std::string& query,
             const std::vector<std::string>& documents, std::optional<std::size_t> top_k,
             bool return_documents, bool apply_softmax) {
            std::vector<CrossEncoder::Ranked> ranked;
            {
              nb::gil_scoped_release release;
              ranked = encoder.rank(query, views_of(documents), top_k, false, apply_softmax);
            }
            nb::list out;
            for (const CrossEncoder::Ranked& r : ranked) {
              nb::dict entry;
              entry["corpus_id"] = r.corpus_id;
              entry["score"] = r.score;
              if (return_documents) entry["text"] = documents[r.corpus_id];
              out.append(entry);
            }
            return out;
          },
          nb::arg("query"), nb::arg("documents"), nb::arg("top_k") = nb::none(),
          nb::arg("return_documents") = false, nb::kw_only(), nb::arg("apply_softmax") = false,
          "As sentence_transformers.CrossEncoder.rank: a list of {'corpus_id', 'score'\n"
          "(, 'text')} dicts, best first (ties in document order), the first top_k when given.\n"
          "Needs a model with one label.")
      .def_prop_ro("num_labels", &CrossEncoder::num_labels)
      .def_prop_ro("max_length", &CrossEncoder::max_length)
      .def_prop_ro("activation", &CrossEncoder::activation)
      .def_prop_ro("devices", &devices_of<CrossEncoder>, kDevicesDoc)
      .def("device_memory", &memory_of<CrossEncoder>, kMemoryDoc);

  m.attr("ColBERT") = m.attr("ColbertEncoder");
}

}  // namespace rank_rerank::python
