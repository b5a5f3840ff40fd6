// Python bindings for token pooling and the Ward linkage / maxclust steps behind it.
#include <nanobind/stl/string.h>

#include <cstdint>
#include <string>
#include <vector>

#include "array_args.hpp"
#include "bindings.hpp"
#include "convert.hpp"
#include "rank_rerank/pooling.hpp"

namespace nb = nanobind;

namespace rank_rerank::python {
namespace {

std::size_t non_negative(std::int64_t v, const char* name) {
  if (v < 0) throw_invalid(std::string(name) + " must be >= 0, got " + std::to_string(v));
  return static_cast<std::size_t>(v);
}

PoolingOptions pooling_options(std::int64_t pool_factor, std::int64_t protected_tokens,
                               const std::string& method, const std::string& variant,
                               std::int64_t num_threads) {
  PoolingOptions o;
  if (pool_factor < 1) throw_invalid("pool_factor must be >= 1, got " + std::to_string(pool_factor));
  o.pool_factor = static_cast<std::size_t>(pool_factor);
  o.protected_tokens = non_negative(protected_tokens, "protected_tokens");
  o.num_threads = non_negative(num_threads, "num_threads");
  if (method == "hierarchical")
    o.method = PoolingMethod::hierarchical;
  else if (method == "sequential")
    o.method = PoolingMethod::sequential;
  else if (method == "adaptive")
    o.method = PoolingMethod::adaptive;
  else
    throw_invalid("method must be 'hierarchical', 'sequential' or 'adaptive', got '" + method +
                  "'");
  if (variant == "cosine_distances")
    o.variant = WardVariant::cosine_distances;
  else if (variant == "similarity_rows")
    o.variant = WardVariant::similarity_rows;
  else
    throw_invalid("variant must be 'cosine_distances' or 'similarity_rows', got '" + variant + "'");
  return o;
}

constexpr const char* kDocLayout = "[tokens, dim]";

// A list or tuple whose first item is itself a 2-D array is a batch of documents.
bool is_document_list(nb::handle obj) {
  if (!nb::isinstance<nb::list>(obj) && !nb::isinstance<nb::tuple>(obj)) return false;
  if (nb::len(obj) == 0) return true;
  return array_arg<float>(obj[0], "docs[0]").ndim() == 2;
}

nb::object pool_document_list(nb::handle obj, const PoolingOptions& o) {
  std::vector<CpuArray<float>> docs;
  std::vector<std::int64_t> offsets{0};
  std::size_t dim = 0;
  for (std::size_t i = 0; i < nb::len(obj); ++i) {
    const std::string name = "docs[" + std::to_string(i) + "]";
    docs.push_back(array_arg<float>(obj[i], name.c_str()));
    const MatrixView m = matrix_arg(docs.back(), name.c_str(), kDocLayout);
    if (i == 0) dim = m.cols;
    if (m.cols != dim)
      throw_invalid(name + " has dimension " + std::to_string(m.cols) + " but docs[0] has " +
                    std::to_string(dim));
    offsets.push_back(offsets.back() + static_cast<std::int64_t>(m.rows));
  }
  nb::list out;
  if (docs.empty()) return std::move(out);
  PooledPacked pooled;
  {
    nb::gil_scoped_release release;
    std::vector<float> packed;
    packed.reserve(static_cast<std::size_t>(offsets.back()) * dim);
    for (const auto& d : docs) packed.insert(packed.end(), d.data(), d.data() + d.size());
    const PackedTokens batch{TokenMatrix::from({packed.data(), packed.size() / dim, dim}), offsets};
    pooled = pool_tokens_packed(batch, o);
  }
  for (std::size_t i = 0; i + 1 < pooled.offsets.size(); ++i) {
    const auto begin =
        static_cast<std::ptrdiff_t>(pooled.offsets[i]) * static_cast<std::ptrdiff_t>(dim);
    const auto end =
        static_cast<std::ptrdiff_t>(pooled.offsets[i + 1]) * static_cast<std::ptrdiff_t>(dim);
    std::vector<float> values(pooled.values.begin() + begin, pooled.values.begin() + end);
    const std::size_t rows = values.size() / dim;
    out.append(to_numpy(std::move(values), {rows, dim}));
  }
  return std::move(out);
}

constexpr const char* kPoolDoc =
    "Pool token vectors into fewer vectors.\n\n"
    "doc: one document [tokens, dim] (array-like, float32), or a list of such documents (then\n"
    "a list comes back and documents run in parallel on num_threads threads).\n"
    "The first ``protected_tokens`` vectors are copied through. method='hierarchical' clusters\n"
    "the rest with Ward linkage and cuts the tree into max(n // pool_factor, 1) clusters, each\n"
    "replaced by its mean, exactly as PyLate's pool_embeddings_hierarchical:\n"
    "variant='cosine_distances' matches PyLate > 1.4.0 (scipy gets the condensed 1 - cos\n"
    "matrix), 'similarity_rows' PyLate <= 1.4.0 (scipy got the square matrix as observations;\n"
    "pooled vectors before the protected ones). method='sequential' averages windows of\n"
    "pool_factor consecutive tokens; 'adaptive' is sequential for pool_factor >= 4, else\n"
    "hierarchical. pool_factor=1 returns the vectors unchanged.";

}  // namespace

void bind_pooling(nb::module_& m) {
  m.def(
      "pool_tokens",
      [](nb::object doc, std::int64_t pool_factor, std::int64_t protected_tokens,
         const std::string& method, const std::string& variant,
         std::int64_t num_threads) -> nb::object {
        const PoolingOptions o =
            pooling_options(pool_factor, protected_tokens, method, variant, num_threads);
        if (is_document_list(doc)) return pool_document_list(doc, o);
        const CpuArray<float> a = array_arg<float>(doc, "doc");
        const MatrixView view = matrix_arg(a, "doc", kDocLayout);
        PooledMatrix pooled;
        {
          nb::gil_scoped_release release;
          pooled = pool_tokens(view, o);
        }
        const std::size_t rows = pooled.rows;
        const std::size_t cols = pooled.cols;
        return nb::cast(to_numpy(std::move(pooled.values), {rows, cols}));
      },
      nb::arg("doc"), nb::arg("pool_factor") = 2, nb::arg("protected_tokens") = 1,
      nb::arg("method") = "hierarchical", nb::arg("variant") = "cosine_distances",
      nb::arg("num_threads") = 0, kPoolDoc);
  m.def(
      "pool_tokens_packed",
      [](nb::object tokens, nb::object offsets, std::int64_t pool_factor,
         std::int64_t protected_tokens, const std::string& method, const std::string& variant,
         std::int64_t num_threads) {
        const PoolingOptions o =
            pooling_options(pool_factor, protected_tokens, method, variant, num_threads);
        const CpuArray<float> t = array_arg<float>(tokens, "tokens");
        const CpuArray<std::int64_t> off = array_arg<std::int64_t>(offsets, "offsets");
        const PackedTokens batch{TokenMatrix::from(matrix_arg(t, "tokens", "[total_tokens, dim]")),
                                 vector_arg(off, "offsets", "[n_docs + 1]")};
        PooledPacked pooled;
        {
          nb::gil_scoped_release release;
          pooled = pool_tokens_packed(batch, o);
        }
        const std::size_t rows = pooled.rows();
        const std::size_t cols = pooled.cols;
        return nb::make_tuple(to_numpy(std::move(pooled.values), {rows, cols}),
                              to_numpy(std::move(pooled.offsets)));
      },
      nb::arg("tokens"), nb::arg("offsets"), nb::arg("pool_factor") = 2,
      nb::arg("protected_tokens") = 1, nb::arg("method") = "hierarchical",
      nb::arg("variant") = "cosine_distances", nb::arg("num_threads") = 0,
      "Pool every document of a packed batch: tokens [total_tokens, dim] float32, offsets int64\n"
      "[n_docs + 1] (document i is rows offsets[i]:offsets[i+1]). Returns (pooled tokens,\n"
      "new offsets). Options as for pool_tokens.");
  m.def(
      "ward_linkage",
      [](nb::object condensed) {
        const CpuArray<double> c = array_arg<double>(condensed, "condensed");
        const std::span<const double> d = vector_arg(c, "condensed", "[n * (n - 1) / 2]");
        std::vector<double> z;
        {
          nb::gil_scoped_release release;
          z = ward_linkage(d);
        }
        const std::size_t rows = z.size() / 4;
        return to_numpy(std::move(z), {rows, std::size_t{4}});
      },
      nb::arg("condensed"),
      "scipy.cluster.hierarchy.linkage(condensed, method='ward'), bit for bit: condensed\n"
      "float64 distances of n >= 2 observations -> linkage matrix [n - 1, 4].");
  m.def(
      "fcluster_maxclust",
      [](nb::object linkage, std::int64_t max_clusters) {
        const CpuArray<double> z = array_arg<double>(linkage, "linkage");
        expect_ndim(z, 2, "linkage", "[n - 1, 4]");
        if (z.shape(1) != 4)
          throw_invalid("linkage must have shape (n - 1, 4), got " + shape_string(z));
        const std::size_t t = non_negative(max_clusters, "max_clusters");
        std::vector<std::int32_t> labels;
        {
          nb::gil_scoped_release release;
          labels = fcluster_maxclust({z.data(), z.size()}, t);
        }
        return to_numpy(std::move(labels));
      },
      nb::arg("linkage"), nb::arg("max_clusters"),
      "scipy.cluster.hierarchy.fcluster(linkage, max_clusters, criterion='maxclust'): 1-based\n"
      "int32 labels, numbered as scipy numbers them.");
}

}  // namespace rank_rerank::python
