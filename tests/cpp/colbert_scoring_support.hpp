// Shared by the ColbertEncoder::score_candidates tests (CPU and CUDA): the fixture texts laid out
// as reranking lists, the reference scores (encode_queries / encode_documents, then the CPU
// maxsim_candidates), and fixture variants with the vector widths the GPU MaxSim kernels take.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "io_test_support.hpp"
#include "rank_rerank/colbert_encoder.hpp"
#include "rank_rerank/maxsim.hpp"

namespace colbert_test {

namespace fs = std::filesystem;
using namespace rank_rerank;

inline fs::path fixture(const std::string& name) {
  return io_test::source_dir() / "tests/fixtures/models" / name;
}

// The queries of colbert_texts.json, each with its own list of its documents, the lists back to
// back: query 1 has none; lists hold an empty document, one of skiplist words only ("... ; !")
// and documents with punctuation between words.
struct Candidates {
  std::vector<std::string> query_texts, document_texts;
  std::vector<std::string_view> queries, documents;
  std::vector<std::int64_t> offsets{0};
};

inline Candidates candidates() {
  const auto json = nlohmann::json::parse(
      io_test::read_file(io_test::source_dir() / "tests/fixtures/models/colbert_texts.json"));
  Candidates c;
  c.query_texts = json["queries"].get<std::vector<std::string>>();
  const auto documents = json["documents"].get<std::vector<std::string>>();
  const std::vector<std::vector<std::size_t>> lists{
      {0, 1, 2, 3, 4, 5}, {}, {3, 4, 5}, {1}, {0, 2, 4, 5}};
  for (const std::vector<std::size_t>& list : lists) {
    for (std::size_t d : list) c.document_texts.push_back(documents[d]);
    c.offsets.push_back(static_cast<std::int64_t>(c.document_texts.size()));
  }
  c.queries.assign(c.query_texts.begin(), c.query_texts.end());
  c.documents.assign(c.document_texts.begin(), c.document_texts.end());
  return c;
}

// The scores the host path gives: vectors downloaded, then the CPU maxsim_candidates.
inline std::vector<float> encode_then_maxsim(const ColbertEncoder& encoder, const Candidates& c) {
  std::vector<std::string_view> scored;
  std::vector<std::int64_t> offsets{0};
  for (std::size_t q = 0; q < c.queries.size(); ++q)
    if (c.offsets[q] < c.offsets[q + 1]) {
      scored.push_back(c.queries[q]);
      offsets.push_back(c.offsets[q + 1]);
    }
  const PackedEmbeddings q = encoder.encode_queries(scored);
  const PackedEmbeddings d = encoder.encode_documents(c.documents);
  const auto view = [](const PackedEmbeddings& e) {
    return PackedTokens{
        {DType::f32, e.values.data(), static_cast<std::size_t>(e.offsets.back()), e.dim},
        e.offsets};
  };
  std::vector<std::int64_t> ids(c.documents.size());
  std::iota(ids.begin(), ids.end(), std::int64_t{0});
  return maxsim_candidates(view(q), view(d), offsets, ids);
}

// colbert_tiny_pylate with its Dense projection (36 -> 20) replaced by random weights of
// [dim, 36] (fixed seed): the same model with `dim`-wide vectors.
inline fs::path colbert_with_dimension(const io_test::ScratchDir& scratch, std::size_t dim) {
  const fs::path model = scratch / ("colbert_dim_" + std::to_string(dim));
  fs::copy(fixture("colbert_tiny_pylate"), model, fs::copy_options::recursive);
  std::mt19937 engine(static_cast<std::mt19937::result_type>(dim));
  std::normal_distribution<float> normal(0.0f, 1.0f / 6.0f);  // 1 / sqrt(in_features)
  std::vector<float> weight(dim * 36);
  for (float& w : weight) w = normal(engine);
  std::string header = nlohmann::json{{"linear.weight",
                                       {{"dtype", "F32"},
                                        {"shape", {dim, 36}},
                                        {"data_offsets", {0, weight.size() * sizeof(float)}}}}}
                           .dump();
  header.resize((header.size() + 7) / 8 * 8, ' ');
  std::string bytes(8, '\0');
  const std::uint64_t length = header.size();
  std::memcpy(bytes.data(), &length, sizeof(length));  // little-endian hosts only
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(weight.data()), weight.size() * sizeof(float));
  io_test::write_file(model / "1_Dense/model.safetensors", bytes);
  io_test::write_file(model / "1_Dense/config.json",
                      nlohmann::json{{"in_features", 36},
                                     {"out_features", dim},
                                     {"bias", false},
                                     {"activation_function", "torch.nn.modules.linear.Identity"},
                                     {"use_residual", false}}
                          .dump());
  return model;
}

}  // namespace colbert_test
