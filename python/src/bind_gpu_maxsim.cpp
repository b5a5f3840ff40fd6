// GPU MaxSim bindings. numpy (or any host array) in -> copied to the device, numpy out.
// torch / cupy CUDA tensors in (DLPack, no copy) -> scored where they lie, result allocated by the
// same framework on the same device and returned there; the work runs on that framework's current
// stream. Arguments are converted with the GIL held; the scoring runs without it.
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <optional>
#include <string>

#include "bindings.hpp"
#include "convert.hpp"
#include "rank_rerank/device.hpp"
#include "rank_rerank/error.hpp"
#include "rank_rerank/gpu_maxsim.hpp"
#include "token_args.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace rank_rerank::python {

namespace {

using CudaArray = nb::ndarray<nb::device::cuda, nb::c_contig>;
using OptionalDim = std::optional<std::size_t>;

bool is_cuda_array(nb::handle obj) {
  if (!nb::hasattr(obj, "__dlpack_device__")) return false;
  CudaArray a;
  return nb::try_cast(obj, a, false);
}

CudaArray cuda_array(nb::handle obj, const char* what) {
  CudaArray a;
  if (!nb::try_cast(obj, a, false))
    throw_invalid(std::string(what) +
                  ": expected a C-contiguous CUDA array (torch / cupy) like the documents, got a "
                  "host or non-contiguous array");
  return a;
}

std::string shape_of(const CudaArray& a) {
  std::string s = "(";
  for (std::size_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + ")";
}

// Storage dtype of a CUDA token array: float32 / float16 / bfloat16 / int8 from the array, uint8
// as packed bits (dim = dim or 8 * bytes per row).
gpu::DeviceTokens device_tokens(const CudaArray& a, OptionalDim dim, const char* what) {
  if (a.ndim() != 2)
    throw_invalid(std::string(what) + ": expected a 2-D [tokens, dim] array, got shape " +
                  shape_of(a));
  const auto dt = a.dtype();
  gpu::DeviceTokens t;
  t.data = a.data();
  t.rows = a.shape(0);
  t.dim = a.shape(1);
  if (dt == nb::dtype<float>()) {
    t.dtype = DType::f32;
  } else if (dt.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::Float) && dt.bits == 16) {
    t.dtype = DType::f16;
  } else if (dt.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::Bfloat) &&
             dt.bits == 16) {
    t.dtype = DType::bf16;
  } else if (dt == nb::dtype<std::int8_t>()) {
    t.dtype = DType::i8;
  } else if (dt == nb::dtype<std::uint8_t>()) {
    t.dtype = DType::bit;
    t.dim = dim.value_or(8 * a.shape(1));
    if (row_bytes(DType::bit, t.dim) != a.shape(1))
      throw_invalid(std::string(what) + ": dim " + std::to_string(t.dim) + " needs " +
                    std::to_string(row_bytes(DType::bit, t.dim)) + " bytes per row, got " +
                    std::to_string(a.shape(1)));
  } else {
    throw_invalid(std::string(what) +
                  ": CUDA arrays must be float32, float16, bfloat16, int8 (with scales) or uint8 "
                  "(packed bits)");
  }
  return t;
}

void same_device(const CudaArray& a, const CudaArray& b, const char* what) {
  if (a.device_id() != b.device_id())
    throw_invalid(std::string(what) + ": on cuda:" + std::to_string(b.device_id()) +
                  " but the documents are on cuda:" + std::to_string(a.device_id()));
}

// The framework (torch or cupy) that made `obj`, used to allocate results on its device and to
// find its current stream.
struct Framework {
  bool torch = false;
  nb::object module;
};
Framework framework_of(nb::handle obj) {
  const std::string mod = nb::cast<std::string>(obj.type().attr("__module__"));
  Framework f;
  f.torch = mod.rfind("torch", 0) == 0;
  if (!f.torch && mod.rfind("cupy", 0) != 0)
    throw_invalid("CUDA arrays are taken from torch or cupy (got a " + mod + " object)");
  f.module = nb::module_::import_(f.torch ? "torch" : "cupy");
  return f;
}

void* current_stream(const Framework& f, int device) {
  nb::object stream = f.torch ? f.module.attr("cuda").attr("current_stream")(device)
                              : f.module.attr("cuda").attr("get_current_stream")();
  const auto handle =
      nb::cast<std::uintptr_t>(f.torch ? stream.attr("cuda_stream") : stream.attr("ptr"));
  return reinterpret_cast<void*>(handle);
}

nb::object empty_like_framework(const Framework& f, int device,
                                std::initializer_list<std::size_t> shape, bool int64) {
  nb::tuple dims = nb::steal<nb::tuple>(PyTuple_New(static_cast<Py_ssize_t>(shape.size())));
  Py_ssize_t i = 0;
  for (const std::size_t s : shape) PyTuple_SET_ITEM(dims.ptr(), i++, nb::int_(s).release().ptr());
  if (f.torch)
    return f.module.attr("empty")(dims, "dtype"_a = f.module.attr(int64 ? "int64" : "float32"),
                                  "device"_a = "cuda:" + std::to_string(device));
  nb::object dev = f.module.attr("cuda").attr("Device")(device);
  dev.attr("__enter__")();
  nb::object out = f.module.attr("empty")(dims, "dtype"_a = int64 ? "int64" : "float32");
  dev.attr("__exit__")(nb::none(), nb::none(), nb::none());
  return out;
}

template <class T>
T* data_of(nb::handle obj) {
  CudaArray a = cuda_array(obj, "result");
  return static_cast<T*>(a.data());
}

// All device inputs: scored without copies, result [n_docs] or [n_queries, n_docs] on the device.
nb::object score_on_device(nb::handle query, nb::handle tokens, nb::handle offsets,
                           nb::handle query_offsets, const std::string& similarity,
                           nb::handle weights, nb::handle scales, OptionalDim dim) {
  const CudaArray docs_a = cuda_array(tokens, "tokens");
  gpu::DeviceTokens docs = device_tokens(docs_a, dim, "tokens");
  const CudaArray query_a = cuda_array(query, "query");
  same_device(docs_a, query_a, "query");
  const gpu::DeviceTokens q = device_tokens(query_a, docs.dim, "query");
  const CudaArray off_a = cuda_array(offsets, "offsets");
  same_device(docs_a, off_a, "offsets");
  if (off_a.ndim() != 1 || off_a.dtype() != nb::dtype<std::int64_t>() || off_a.shape(0) == 0)
    throw_invalid("offsets: expected a 1-D int64 CUDA array of n_docs + 1 entries, got shape " +
                  shape_of(off_a));
  if (docs.dtype == DType::i8) {
    if (scales.is_none()) throw_invalid("scales: int8 documents need one float32 scale per row");
    const CudaArray s = cuda_array(scales, "scales");
    same_device(docs_a, s, "scales");
    if (s.ndim() != 1 || s.dtype() != nb::dtype<float>() || s.shape(0) != docs.rows)
      throw_invalid("scales: expected float32 [" + std::to_string(docs.rows) + "], got shape " +
                    shape_of(s));
    docs.scales = static_cast<const float*>(s.data());
  }
  const float* w = nullptr;
  if (!weights.is_none()) {
    const CudaArray wa = cuda_array(weights, "weights");
    same_device(docs_a, wa, "weights");
    if (wa.ndim() != 1 || wa.dtype() != nb::dtype<float>() || wa.shape(0) != q.rows)
      throw_invalid("weights: expected float32 [" + std::to_string(q.rows) +
                    "] on the device, got shape " + shape_of(wa));
    w = static_cast<const float*>(wa.data());
  }
  // Query offsets are host values (the launch needs them); a CUDA array is read back.
  std::vector<std::int64_t> q_off{0, static_cast<std::int64_t>(q.rows)};
  const bool many = !query_offsets.is_none();
  if (many) {
    nb::object host = nb::borrow(query_offsets);
    if (is_cuda_array(query_offsets)) host = query_offsets.attr("tolist")();
    const IndexArg qo = index_arg(host, "query_offsets");
    q_off.assign(qo.values.begin(), qo.values.end());
  }
  const int device = docs_a.device_id();
  const Framework fw = framework_of(tokens);
  const std::size_t n_docs = off_a.shape(0) - 1;
  const std::size_t n_q = q_off.empty() ? 0 : q_off.size() - 1;
  nb::object out = many ? empty_like_framework(fw, device, {n_q, n_docs}, false)
                        : empty_like_framework(fw, device, {n_docs}, false);
  gpu::GpuOptions options;
  options.similarity = parse_similarity(similarity);
  options.device = Device::cuda(device);
  options.stream = current_stream(fw, device);
  float* out_ptr = data_of<float>(out);
  const gpu::DevicePacked packed{docs, static_cast<const std::int64_t*>(off_a.data()), n_docs};
  {
    nb::gil_scoped_release release;
    gpu::maxsim_device(q, q_off, packed, out_ptr, options, w);
  }
  return out;
}

nb::object score_gpu(nb::handle query, nb::handle tokens, nb::handle offsets,
                     nb::handle query_offsets, const std::string& similarity, nb::handle weights,
                     const std::string& dtype, nb::handle scales, OptionalDim dim,
                     const std::string& device) {
  if (is_cuda_array(tokens))
    return score_on_device(query, tokens, offsets, query_offsets, similarity, weights, scales, dim);
  const TokenArg d = token_arg(tokens, dtype, scales, dim, "tokens");
  const IndexArg off = index_arg(offsets, "offsets");
  const PackedTokens docs{d.matrix, off.values};
  const TokenArg q = query_arg(query, d.matrix.dtype, d.matrix.dim, "query");
  std::optional<FloatArg> w;
  if (!weights.is_none()) w = float_arg(weights, 1, "weights");
  gpu::GpuOptions options;
  options.similarity = parse_similarity(similarity);
  options.device = Device::parse(device);
  std::vector<float> out;
  if (query_offsets.is_none()) {
    {
      nb::gil_scoped_release release;
      out = gpu::maxsim_packed(q.matrix, docs, options, w ? w->span() : std::span<const float>{});
    }
    return nb::cast(to_numpy(std::move(out)));
  }
  const IndexArg qo = index_arg(query_offsets, "query_offsets");
  const PackedTokens queries{q.matrix, qo.values};
  {
    nb::gil_scoped_release release;
    out = gpu::maxsim_all_pairs(queries, docs, options, w ? w->span() : std::span<const float>{});
  }
  const std::size_t n_q = queries.size(), n_d = docs.size();
  out.resize(n_q * n_d);
  return nb::cast(to_numpy(std::move(out), {n_q, n_d}));
}

nb::ndarray<nb::numpy, float> vecs_gpu(nb::handle query, nb::handle docs,
                                       const std::string& device) {
  const PackedArg d = packed_list_arg(docs, "auto", nb::none(), std::nullopt, "doc_tokens");
  const TokenArg q = query_arg(
      query, d.tokens.matrix.dtype,
      d.offsets.size() > 1 && d.tokens.matrix.rows > 0 ? d.tokens.matrix.dim : 0, "query_tokens");
  PackedTokens view = d.view();
  if (view.tokens.rows == 0) view.tokens.dim = q.matrix.dim;  // only empty documents
  gpu::GpuOptions options;
  options.device = Device::parse(device);
  std::vector<float> out;
  {
    nb::gil_scoped_release release;
    out = gpu::maxsim_packed(q.matrix, view, options);
  }
  return to_numpy(std::move(out));
}

nb::tuple top_k_gpu(nb::handle scores, std::size_t k) {
  const CudaArray s = cuda_array(scores, "scores");
  if (s.ndim() != 2 || s.dtype() != nb::dtype<float>())
    throw_invalid("scores: expected a float32 [n_rows, n_cols] CUDA array, got shape " +
                  shape_of(s));
  const int device = s.device_id();
  const Framework fw = framework_of(scores);
  const std::size_t rows = s.shape(0), cols = s.shape(1);
  if (k > cols)
    throw_invalid("k: asked for the top " + std::to_string(k) + " of only " + std::to_string(cols) +
                  " scores per row");
  nb::object idx = empty_like_framework(fw, device, {rows, k}, true);
  nb::object top = empty_like_framework(fw, device, {rows, k}, false);
  gpu::GpuOptions options;
  options.device = Device::cuda(device);
  options.stream = current_stream(fw, device);
  auto* idx_ptr = data_of<std::int64_t>(idx);
  auto* top_ptr = data_of<float>(top);
  {
    nb::gil_scoped_release release;
    gpu::top_k_device(static_cast<const float*>(s.data()), rows, cols, k, idx_ptr, top_ptr,
                      options);
  }
  return nb::make_tuple(idx, top);
}

// Documents kept on the device, with the host arrays' conversions of maxsim_packed.
struct PyDocumentSet {
  gpu::GpuDocumentSet set;
  PyDocumentSet(nb::handle tokens, nb::handle offsets, const std::string& dtype, nb::handle scales,
                OptionalDim dim, const std::string& device)
      : set(make(tokens, offsets, dtype, scales, dim, device)) {}
  static gpu::GpuDocumentSet make(nb::handle tokens, nb::handle offsets, const std::string& dtype,
                                  nb::handle scales, OptionalDim dim, const std::string& device) {
    const TokenArg d = token_arg(tokens, dtype, scales, dim, "tokens");
    const IndexArg off = index_arg(offsets, "offsets");
    const Device dev = Device::parse(device);
    nb::gil_scoped_release release;
    return gpu::GpuDocumentSet(PackedTokens{d.matrix, off.values}, dev);
  }
  PackedArg queries(nb::handle q, nb::handle query_offsets, TokenArg& single,
                    std::vector<std::int64_t>& single_offsets) const {
    PackedArg p;
    if (query_offsets.is_none()) {
      single = query_arg(q, set.dtype(), set.dim(), "query");
      single_offsets = {0, static_cast<std::int64_t>(single.matrix.rows)};
      return p;
    }
    p.tokens = query_arg(q, set.dtype(), set.dim(), "queries");
    const IndexArg qo = index_arg(query_offsets, "query_offsets");
    p.offsets.assign(qo.values.begin(), qo.values.end());
    return p;
  }
};

}  // namespace

void bind_gpu_maxsim(nb::module_& m) {
  m.def("maxsim_vecs_gpu", &vecs_gpu, "query_tokens"_a, "doc_tokens"_a, "device"_a = "cuda",
        "MaxSim (dot) of one query [nq, d] against a sequence of documents [nd_i, d] on a CUDA\n"
        "device: float32 numpy scores [n_docs]. Raises RuntimeError with the reason when no CUDA\n"
        "device can be used.");
  m.def(
      "maxsim_gpu", &score_gpu, "query"_a, "tokens"_a, "offsets"_a, "query_offsets"_a = nb::none(),
      "similarity"_a = "dot", "weights"_a = nb::none(), nb::kw_only(), "dtype"_a = "auto",
      "scales"_a = nb::none(), "dim"_a = nb::none(), "device"_a = "cuda",
      "MaxSim on a CUDA device over packed documents (document i = "
      "tokens[offsets[i]:offsets[i+1]]).\n"
      "Without query_offsets: one query, scores [n_docs]; with query_offsets [n_queries+1]: the\n"
      "queries are packed in `query` and the scores are [n_queries, n_docs].\n"
      "Host arrays (numpy, lists) are copied to `device` and numpy comes back. torch / cupy CUDA\n"
      "tensors are read in place (DLPack) and the scores are returned as a tensor of the same\n"
      "framework on their device, computed on its current stream; then query, offsets, scales and\n"
      "weights must be CUDA arrays on the same device (query_offsets may be a host sequence).\n"
      "Documents float32, float16, bfloat16, int8 (scales) or uint8 packed bits (dim=); queries\n"
      "float32 / float16 / bfloat16 (uint8 bits against bit documents). dim 32, 64, 96 or 128.");
  m.def(
      "top_k_gpu", &top_k_gpu, "scores"_a, "k"_a,
      "Top-k of each row of a float32 CUDA score matrix [n_rows, n_cols], ranked on the device:\n"
      "(indices int64 [n_rows, k], scores float32 [n_rows, k]) as tensors of the same framework;\n"
      "higher first, ties by lower index, NaN last.");
  nb::class_<PyDocumentSet>(m, "GpuDocumentSet",
                            "Packed documents uploaded once to a CUDA device and scored there.")
      .def(nb::init<nb::handle, nb::handle, const std::string&, nb::handle, OptionalDim,
                    const std::string&>(),
           "tokens"_a, "offsets"_a, nb::kw_only(), "dtype"_a = "auto", "scales"_a = nb::none(),
           "dim"_a = nb::none(), "device"_a = "cuda")
      .def_prop_ro("size", [](const PyDocumentSet& s) { return s.set.size(); })
      .def_prop_ro("dim", [](const PyDocumentSet& s) { return s.set.dim(); })
      .def_prop_ro("device", [](const PyDocumentSet& s) { return s.set.device().to_string(); })
      .def_prop_ro(
          "device_bytes", [](const PyDocumentSet& s) { return s.set.device_bytes(); },
          "Device memory held by the documents, scales and offsets.")
      .def(
          "score",
          [](const PyDocumentSet& s, nb::handle query, nb::handle query_offsets,
             const std::string& similarity, nb::handle weights) {
            TokenArg single;
            std::vector<std::int64_t> single_offsets;
            const PackedArg p = s.queries(query, query_offsets, single, single_offsets);
            const PackedTokens queries =
                query_offsets.is_none() ? PackedTokens{single.matrix, single_offsets} : p.view();
            std::optional<FloatArg> w;
            if (!weights.is_none()) w = float_arg(weights, 1, "weights");
            std::vector<float> out;
            {
              nb::gil_scoped_release release;
              out = s.set.score_all(queries, parse_similarity(similarity),
                                    w ? w->span() : std::span<const float>{});
            }
            if (query_offsets.is_none()) return nb::cast(to_numpy(std::move(out)));
            const std::size_t n_q = queries.size(), n_d = s.set.size();
            return nb::cast(to_numpy(std::move(out), {n_q, n_d}));
          },
          "query"_a, "query_offsets"_a = nb::none(), "similarity"_a = "dot",
          "weights"_a = nb::none(),
          "Scores of one query [n_docs], or of packed queries [n_queries, n_docs].")
      .def(
          "top_k",
          [](const PyDocumentSet& s, nb::handle query, std::size_t k, nb::handle query_offsets,
             const std::string& similarity) {
            TokenArg single;
            std::vector<std::int64_t> single_offsets;
            const PackedArg p = s.queries(query, query_offsets, single, single_offsets);
            const PackedTokens queries =
                query_offsets.is_none() ? PackedTokens{single.matrix, single_offsets} : p.view();
            std::vector<std::vector<Ranked>> ranked;
            {
              nb::gil_scoped_release release;
              ranked = s.set.top_k(queries, k, parse_similarity(similarity));
            }
            return ranked_rows_to_numpy(ranked, k);
          },
          "query"_a, "k"_a, "query_offsets"_a = nb::none(), "similarity"_a = "dot",
          "The k best documents of each query, ranked on the device: (indices int64 [n_queries, "
          "k],\n"
          "scores float32 [n_queries, k]) numpy arrays.");
}

}  // namespace rank_rerank::python
