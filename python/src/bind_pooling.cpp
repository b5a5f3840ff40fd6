// Python bindings for token pooling and the Ward linkage / maxclust steps behind it.
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "convert.hpp"
#include "rank_rerank/pooling.hpp"

namespace nb = nanobind;

namespace rank_rerank::python {
namespace {

using DoubleVector = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using DoubleMatrix = nb::ndarray<const double, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

std::size_t non_negative(std::int64_t v, const char* name) {
  if (v < 0) throw_invalid(std::string(name) + " must be >= 0, got " + std::to_string(v));
  return static_cast<std::size_t>(v);
}

PoolingOptions pooling_options(std::int64_t pool_factor, std::int64_t protected_tokens,
                               const std::string& method, const std::string& variant,
                               std::int64_t num_threads) {
  PoolingOptions o;
  o.pool_factor = non_negative(pool_factor, "pool_factor");
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

nb::ndarray<nb::numpy, float> pooled_array(PooledMatrix&& p) {
  const std::size_t rows = p.rows;
  const std::size_t cols = p.cols;
  return to_numpy(std::move(p.values), {rows, cols});
}

PooledMatrix pool_one(const MatrixView& doc, const PoolingOptions& options) {
  nb::gil_scoped_release release;
  return pool_tokens(doc, options);
}

constexpr const char* kPoolDoc =
    "Pool one document's token vectors [tokens, dim] (float32) into fewer vectors.\n\n"
    "The first ``protected_tokens`` vectors are copied through. method='hierarchical' clusters\n"
    "the rest with Ward linkage and cuts the tree into max(n // pool_factor, 1) clusters, each\n"
    "replaced by its mean (PyLate's pool_embeddings_hierarchical); variant='cosine_distances'\n"
    "matches PyLate > 1.4.0, 'similarity_rows' PyLate <= 1.4.0 (pooled vectors before the\n"
    "protected ones). method='sequential' averages windows of pool_factor consecutive tokens;\n"
    "'adaptive' is sequential for pool_factor >= 4, else hierarchical. Given a list of documents,\n"
    "pools each (in parallel over num_threads) and returns a list.";

}  // namespace

void bind_pooling(nb::module_& m) {
  m.def(
      "pool_tokens",
      [](FloatMatrix doc, std::int64_t pool_factor, std::int64_t protected_tokens,
         const std::string& method, const std::string& variant) {
        const PoolingOptions o = pooling_options(pool_factor, protected_tokens, method, variant, 0);
        return pooled_array(pool_one(matrix_view(doc), o));
      },
      nb::arg("doc"), nb::arg("pool_factor") = 2, nb::arg("protected_tokens") = 1,
      nb::arg("method") = "hierarchical", nb::arg("variant") = "cosine_distances", kPoolDoc);
  m.def(
      "pool_tokens",
      [](const std::vector<std::vector<float>>& rows, std::int64_t pool_factor,
         std::int64_t protected_tokens, const std::string& method, const std::string& variant) {
        const PoolingOptions o = pooling_options(pool_factor, protected_tokens, method, variant, 0);
        const OwnedMatrix doc = owned_matrix(rows, "doc");
        return pooled_array(pool_one(doc.view(), o));
      },
      nb::arg("doc"), nb::arg("pool_factor") = 2, nb::arg("protected_tokens") = 1,
      nb::arg("method") = "hierarchical", nb::arg("variant") = "cosine_distances");
  m.def(
      "pool_tokens",
      [](const std::vector<FloatMatrix>& docs, std::int64_t pool_factor,
         std::int64_t protected_tokens, const std::string& method, const std::string& variant,
         std::int64_t num_threads) {
        const PoolingOptions o =
            pooling_options(pool_factor, protected_tokens, method, variant, num_threads);
        const std::size_t dim = docs.empty() ? 0 : docs.front().shape(1);
        std::vector<std::int64_t> offsets{0};
        std::vector<float> packed;
        for (std::size_t i = 0; i < docs.size(); ++i) {
          if (docs[i].shape(1) != dim)
            throw_invalid("pool_tokens: document " + std::to_string(i) + " has dimension " +
                          std::to_string(docs[i].shape(1)) + " but document 0 has " +
                          std::to_string(dim));
          packed.insert(packed.end(), docs[i].data(), docs[i].data() + docs[i].size());
          offsets.push_back(offsets.back() + static_cast<std::int64_t>(docs[i].shape(0)));
        }
        nb::list out;
        if (docs.empty()) return out;
        PooledPacked pooled;
        {
          nb::gil_scoped_release release;
          const PackedTokens batch{TokenMatrix::from({packed.data(), packed.size() / dim, dim}),
                                   offsets};
          pooled = pool_tokens_packed(batch, o);
        }
        for (std::size_t i = 0; i + 1 < pooled.offsets.size(); ++i) {
          const auto begin = static_cast<std::size_t>(pooled.offsets[i]) * dim;
          const auto end = static_cast<std::size_t>(pooled.offsets[i + 1]) * dim;
          std::vector<float> values(pooled.values.begin() + static_cast<std::ptrdiff_t>(begin),
                                    pooled.values.begin() + static_cast<std::ptrdiff_t>(end));
          out.append(to_numpy(std::move(values), {(end - begin) / dim, dim}));
        }
        return out;
      },
      nb::arg("docs"), nb::arg("pool_factor") = 2, nb::arg("protected_tokens") = 1,
      nb::arg("method") = "hierarchical", nb::arg("variant") = "cosine_distances",
      nb::arg("num_threads") = 0);
  m.def(
      "pool_tokens_packed",
      [](FloatMatrix tokens, IndexVector offsets, std::int64_t pool_factor,
         std::int64_t protected_tokens, const std::string& method, const std::string& variant,
         std::int64_t num_threads) {
        const PoolingOptions o =
            pooling_options(pool_factor, protected_tokens, method, variant, num_threads);
        PooledPacked pooled;
        {
          nb::gil_scoped_release release;
          const PackedTokens batch{token_matrix(tokens), {offsets.data(), offsets.shape(0)}};
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
      "Pool every document of a packed batch: tokens [total, dim] float32, offsets int64\n"
      "[n_docs + 1]. Returns (pooled tokens, new offsets). Options as for pool_tokens.");
  m.def(
      "ward_linkage",
      [](DoubleVector condensed) {
        std::vector<double> z;
        {
          nb::gil_scoped_release release;
          z = ward_linkage({condensed.data(), condensed.shape(0)});
        }
        const std::size_t rows = z.size() / 4;
        return to_numpy(std::move(z), {rows, std::size_t{4}});
      },
      nb::arg("condensed"),
      "scipy.cluster.hierarchy.linkage(condensed, method='ward'), bit for bit: condensed\n"
      "float64 distances of n >= 2 observations -> linkage matrix [n - 1, 4].");
  m.def(
      "fcluster_maxclust",
      [](DoubleMatrix linkage, std::int64_t max_clusters) {
        if (linkage.shape(1) != 4)
          throw_invalid("fcluster_maxclust: linkage must have shape (n - 1, 4), got (" +
                        std::to_string(linkage.shape(0)) + ", " + std::to_string(linkage.shape(1)) +
                        ")");
        const std::size_t t = non_negative(max_clusters, "max_clusters");
        std::vector<std::int32_t> labels;
        {
          nb::gil_scoped_release release;
          labels = fcluster_maxclust({linkage.data(), linkage.size()}, t);
        }
        return to_numpy(std::move(labels));
      },
      nb::arg("linkage"), nb::arg("max_clusters"),
      "scipy.cluster.hierarchy.fcluster(linkage, max_clusters, criterion='maxclust'): 1-based\n"
      "int32 labels, numbered as scipy numbers them.");
}

}  // namespace rank_rerank::python
