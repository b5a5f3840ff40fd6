// Fuzzes every public MaxSim entry point. The input bytes choose the entry point, storage
// dtypes, shapes, offsets / lengths / masks / candidate lists (often invalid on purpose),
// options, and the raw values (NaN and infinities included). Buffers always match the shapes
// the views claim, since a view's size is the caller's promise; everything the library can
// check must either work or throw rank_rerank::Error. Anything else is a bug: ASan/UBSan or
// an escaping exception stop the run.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <vector>

#include "rank_rerank/error.hpp"
#include "rank_rerank/maxsim.hpp"

namespace rr = rank_rerank;

namespace {

// Token rows in a fuzzed dtype, with buffers sized for exactly `rows` rows.
struct Rows {
  std::vector<std::uint8_t> bytes;
  std::vector<float> scales;
  rr::TokenMatrix view;
};

rr::DType pick_dtype(FuzzedDataProvider& in) {
  constexpr rr::DType all[] = {rr::DType::f32, rr::DType::f16, rr::DType::bf16, rr::DType::i8,
                               rr::DType::bit};
  return all[in.ConsumeIntegralInRange<int>(0, 4)];
}

float fuzzed_float(FuzzedDataProvider& in) {
  // Mostly small values, sometimes raw bit patterns (NaN, infinities, denormals).
  if (in.ConsumeIntegralInRange<int>(0, 7) == 0) {
    const auto bits = in.ConsumeIntegral<std::uint32_t>();
    float f;
    static_assert(sizeof f == sizeof bits);
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
  }
  return static_cast<float>(in.ConsumeIntegralInRange<int>(-100, 100)) / 16.0f;
}

Rows make_rows(FuzzedDataProvider& in, rr::DType dtype, std::size_t rows, std::size_t dim) {
  Rows r;
  const std::size_t bytes = rows * rr::row_bytes(dtype, dim);
  r.bytes.resize(bytes);
  if (dtype == rr::DType::f32) {
    for (std::size_t i = 0; i < rows * dim; ++i) {
      const float f = fuzzed_float(in);
      __builtin_memcpy(r.bytes.data() + 4 * i, &f, 4);
    }
  } else {
    for (auto& b : r.bytes) b = in.ConsumeIntegral<std::uint8_t>();
  }
  // int8 rows sometimes come without scales, which must be rejected.
  const bool give_scales = dtype == rr::DType::i8 && in.ConsumeIntegralInRange<int>(0, 15) != 0;
  if (give_scales) {
    r.scales.resize(rows);
    for (float& s : r.scales) s = fuzzed_float(in);
  }
  r.view = rr::TokenMatrix{dtype, r.bytes.empty() ? nullptr : r.bytes.data(), rows, dim,
                           give_scales && rows > 0 ? r.scales.data() : nullptr};
  return r;
}

// Offsets over `total` rows: usually valid, sometimes broken in one place.
std::vector<std::int64_t> make_offsets(FuzzedDataProvider& in, std::size_t n, std::size_t total) {
  std::vector<std::int64_t> offsets(n + 1, 0);
  for (std::size_t i = 1; i < n; ++i)
    offsets[i] =
        in.ConsumeIntegralInRange<std::int64_t>(offsets[i - 1], static_cast<std::int64_t>(total));
  offsets[n] = static_cast<std::int64_t>(total);
  if (in.ConsumeIntegralInRange<int>(0, 9) == 0 && !offsets.empty()) {
    const auto where = in.ConsumeIntegralInRange<std::size_t>(0, n);
    offsets[where] =
        in.ConsumeIntegralInRange<std::int64_t>(-3, static_cast<std::int64_t>(total) + 3);
  }
  return offsets;
}

rr::MaxSimOptions make_options(FuzzedDataProvider& in, std::vector<float>& weights,
                               std::size_t n_weights) {
  rr::MaxSimOptions o;
  o.similarity = in.ConsumeBool() ? rr::Similarity::cosine : rr::Similarity::dot;
  o.padding = in.ConsumeBool() ? rr::PaddingPolicy::zero_floor : rr::PaddingPolicy::ignore;
  o.num_threads = in.ConsumeIntegralInRange<std::size_t>(0, 3);
  const int w = in.ConsumeIntegralInRange<int>(0, 3);
  if (w == 1) weights.assign(n_weights, 0.0f);
  if (w == 2) weights.assign(n_weights + (in.ConsumeBool() ? 1 : 0), 0.0f);  // maybe wrong size
  for (float& x : weights) x = fuzzed_float(in);
  o.query_weights = weights;
  return o;
}

void run(FuzzedDataProvider& in) {
  const int entry = in.ConsumeIntegralInRange<int>(0, 7);
  const std::size_t dim = in.ConsumeIntegralInRange<std::size_t>(0, 40);
  // The query's dim usually matches the documents'.
  const std::size_t q_dim = in.ConsumeIntegralInRange<int>(0, 7) == 0
                                ? in.ConsumeIntegralInRange<std::size_t>(0, 40)
                                : dim;
  const rr::DType doc_dtype = pick_dtype(in);
  const rr::DType query_dtype =
      in.ConsumeIntegralInRange<int>(0, 5) == 0 ? pick_dtype(in) : rr::DType::f32;
  const std::size_t q_rows = in.ConsumeIntegralInRange<std::size_t>(0, 12);
  const std::size_t n_docs = in.ConsumeIntegralInRange<std::size_t>(0, 6);
  const std::size_t max_len = in.ConsumeIntegralInRange<std::size_t>(0, 10);
  std::vector<float> weights;

  switch (entry) {
    case 0: {  // one document, alignments, highlights
      const Rows q = make_rows(in, query_dtype, q_rows, q_dim);
      const Rows d = make_rows(in, doc_dtype, max_len, dim);
      const rr::MaxSimOptions o = make_options(in, weights, q_rows);
      const float threshold = fuzzed_float(in);
      switch (in.ConsumeIntegralInRange<int>(0, 2)) {
        case 0:
          rr::maxsim(q.view, d.view, o);
          break;
        case 1:
          rr::maxsim_alignments(q.view, d.view, o);
          break;
        default:
          rr::highlight_matches(q.view, d.view, threshold, o);
          break;
      }
      break;
    }
    case 1:
    case 2: {  // packed documents
      const std::size_t total = n_docs * max_len;
      const Rows q = make_rows(in, query_dtype, q_rows, q_dim);
      const Rows d = make_rows(in, doc_dtype, total, dim);
      const auto offsets = make_offsets(in, n_docs, total);
      const rr::MaxSimOptions o = make_options(in, weights, q_rows);
      if (entry == 1) {
        rr::maxsim_packed(q.view, {d.view, offsets}, o);
      } else {
        std::vector<float> out(n_docs + (in.ConsumeBool() ? 0 : 1));
        rr::maxsim_packed(q.view, {d.view, offsets}, out, o);
      }
      break;
    }
    case 3:
    case 4: {  // padded documents, by lengths or by mask (or both / neither)
      const Rows q = make_rows(in, query_dtype, q_rows, q_dim);
      const std::size_t claimed_docs = in.ConsumeIntegralInRange<int>(0, 9) == 0
                                           ? in.ConsumeIntegralInRange<std::size_t>(0, 6)
                                           : n_docs;
      const Rows d = make_rows(in, doc_dtype, n_docs * max_len, dim);
      std::vector<std::int64_t> lengths;
      std::vector<std::uint8_t> mask;
      if (entry == 3 || in.ConsumeIntegralInRange<int>(0, 9) == 0) {
        lengths.resize(n_docs);
        for (auto& l : lengths)
          l = in.ConsumeIntegralInRange<std::int64_t>(-1, static_cast<std::int64_t>(max_len) + 1);
      }
      if (entry == 4) {
        mask.resize(n_docs * max_len + (in.ConsumeIntegralInRange<int>(0, 9) == 0 ? 1 : 0));
        for (auto& m : mask) m = in.ConsumeIntegral<std::uint8_t>() & 1;
      }
      const rr::MaxSimOptions o = make_options(in, weights, q_rows);
      rr::maxsim_padded(q.view, {d.view, claimed_docs, max_len, lengths, mask}, o);
      break;
    }
    case 7: {  // separately stored documents, possibly of mixed dtypes
      const Rows q = make_rows(in, query_dtype, q_rows, q_dim);
      std::vector<Rows> docs;
      std::vector<rr::TokenMatrix> views;
      for (std::size_t i = 0; i < n_docs; ++i) {
        const rr::DType dt = in.ConsumeIntegralInRange<int>(0, 7) == 0 ? pick_dtype(in) : doc_dtype;
        docs.push_back(make_rows(in, dt, in.ConsumeIntegralInRange<std::size_t>(0, max_len), dim));
      }
      for (const Rows& d : docs) views.push_back(d.view);
      const rr::MaxSimOptions o = make_options(in, weights, q_rows);
      rr::maxsim_batch(q.view, views, o);
      break;
    }
    default: {  // many queries: all pairs or candidates
      const std::size_t n_queries = in.ConsumeIntegralInRange<std::size_t>(0, 4);
      const std::size_t q_total = n_queries * q_rows;
      const Rows q = make_rows(in, query_dtype, q_total, q_dim);
      const auto q_offsets = make_offsets(in, n_queries, q_total);
      const Rows d = make_rows(in, doc_dtype, n_docs * max_len, dim);
      const auto d_offsets = make_offsets(in, n_docs, n_docs * max_len);
      const rr::MaxSimOptions o = make_options(in, weights, q_total);
      if (entry == 5) {
        rr::maxsim_all_pairs({q.view, q_offsets}, {d.view, d_offsets}, o);
      } else {
        const std::size_t n_ids = in.ConsumeIntegralInRange<std::size_t>(0, 12);
        std::vector<std::int64_t> ids(n_ids);
        for (auto& id : ids)
          id = in.ConsumeIntegralInRange<std::int64_t>(-1, static_cast<std::int64_t>(n_docs));
        const auto c_offsets = make_offsets(in, n_queries, n_ids);
        rr::maxsim_candidates({q.view, q_offsets}, {d.view, d_offsets}, c_offsets, ids, o);
      }
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  try {
    run(in);
  } catch (const rr::Error&) {
    // Rejected input: the documented outcome for anything invalid.
  }
  return 0;
}
