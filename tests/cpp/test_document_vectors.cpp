// The document vectors file: round trips in every storage dtype, scoring by id equal to scoring
// the texts, refusal of another model's vectors, and every structural defect of a file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "io_test_support.hpp"
#include "model_reference.hpp"
#include "rank_rerank/document_vectors.hpp"
#include "rank_rerank/quantize.hpp"
#include "rank_rerank/reranker.hpp"

namespace rank_rerank {
namespace {

namespace fs = std::filesystem;
using io_test::error_of;
using io_test::ScratchDir;
using model_test::fixtures;

ModelIdentity identity(std::size_t dim) { return {"m", "colbert", "0123456789abcdef", dim, 24}; }

PackedEmbeddings three_documents() {
  PackedEmbeddings e;
  e.dim = 3;
  e.offsets = {0, 2, 2, 5};  // the second document has no rows
  for (int i = 0; i < 15; ++i) e.values.push_back(0.25f * static_cast<float>(i) - 1.5f);
  return e;
}

TEST(DocumentVectors, RoundTripsInEveryStorageDtype) {
  ScratchDir dir;
  const PackedEmbeddings e = three_documents();
  const std::vector<std::string> ids{"doc-a", "doc-ü", "c"};
  for (DType storage : {DType::f32, DType::f16, DType::bf16}) {
    const fs::path path = dir / (std::string(dtype_name(storage)) + ".rrv");
    write_document_vectors(path, e, ids, identity(3), storage);
    EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
    const DocumentVectors v = DocumentVectors::open(path);
    EXPECT_EQ(v.size(), 3u);
    EXPECT_EQ(v.dim(), 3u);
    EXPECT_EQ(v.dtype(), storage);
    EXPECT_EQ(v.total_rows(), 5u);
    EXPECT_EQ(v.model().name, "m");
    EXPECT_EQ(v.model().fingerprint, "0123456789abcdef");
    EXPECT_EQ(v.model().max_length, 24u);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(v.id(i), ids[i]);
      EXPECT_EQ(v.find(ids[i]), i);
    }
    EXPECT_FALSE(v.find("nope"));
    const std::vector<float> back = dequantize(v.packed().tokens);
    // The (exactly representable) quarters survive every dtype.
    EXPECT_EQ(back, e.values);
    const std::vector<std::string_view> wanted{"c", "doc-a"};
    EXPECT_EQ(v.positions(wanted), (std::vector<std::int64_t>{2, 0}));
    const std::vector<std::string_view> missing{"c", "zzz"};
    EXPECT_NE(error_of([&] { (void)v.positions(missing); }).find("'zzz'"), std::string::npos);
    EXPECT_FALSE(error_of([&] { (void)v.id(3); }).empty());
  }
}

TEST(DocumentVectors, WriterRefusesBadInputs) {
  ScratchDir dir;
  const PackedEmbeddings e = three_documents();
  auto write = [&](std::vector<std::string> ids, DType storage = DType::f32,
                   ModelIdentity model = identity(3), PackedEmbeddings v = three_documents()) {
    return error_of([&] { write_document_vectors(dir / "x.rrv", v, ids, model, storage); });
  };
  EXPECT_NE(write({"a", "b"}).find("2 ids for 3 documents"), std::string::npos);
  EXPECT_NE(write({"a", "a", "b"}).find("'a' appears more than once"), std::string::npos);
  EXPECT_NE(write({"a", "", "b"}).find("id 1"), std::string::npos);
  EXPECT_NE(write({"a", "b", "c"}, DType::i8).find("storage must be"), std::string::npos);
  EXPECT_NE(write({"a", "b", "c"}, DType::f32, identity(4)).find("model.dim 4"), std::string::npos);
  PackedEmbeddings short_values = three_documents();
  short_values.values.pop_back();
  EXPECT_NE(write({"a", "b", "c"}, DType::f32, identity(3), short_values).find("14 values"),
            std::string::npos);
  PackedEmbeddings decreasing = three_documents();
  decreasing.offsets = {0, 3, 2, 5};
  EXPECT_NE(write({"a", "b", "c"}, DType::f32, identity(3), decreasing).find("decreases"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "x.rrv"));
}

// A safetensors file assembled by hand so every field can be wrong on purpose.
struct RawTensor {
  std::string name, dtype;
  std::vector<std::int64_t> shape;
  std::string bytes;
};

template <class T>
std::string bytes_of(const std::vector<T>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)};
}

std::string build_file(const std::map<std::string, std::string>& metadata,
                       const std::vector<RawTensor>& tensors) {
  nlohmann::json header;
  header["__metadata__"] = metadata;
  std::size_t offset = 0;
  std::string data;
  for (const RawTensor& t : tensors) {
    header[t.name] = {{"dtype", t.dtype},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
    data += t.bytes;
  }
  std::string text = header.dump();
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');
  std::string file(8, '\0');
  const std::uint64_t n = text.size();
  std::memcpy(file.data(), &n, 8);
  return file + text + data;
}

struct GoodFile {
  std::map<std::string, std::string> metadata = {{"format", "rank-rerank/document-vectors"},
                                                 {"version", "1"},
                                                 {"model.name", "m"},
                                                 {"model.kind", "colbert"},
                                                 {"model.fingerprint", "f"},
                                                 {"model.dim", "2"},
                                                 {"model.max_length", "8"}};
  std::vector<RawTensor> tensors = {
      {"id_offsets", "I64", {3}, bytes_of(std::vector<std::int64_t>{0, 1, 3})},
      {"offsets", "I64", {3}, bytes_of(std::vector<std::int64_t>{0, 1, 2})},
      {"vectors", "F32", {2, 2}, bytes_of(std::vector<float>{1, 0, 0, 1})},
      {"id_bytes", "U8", {3}, "abc"}};
  RawTensor& tensor(const std::string& name) {
    for (RawTensor& t : tensors)
      if (t.name == name) return t;
    throw std::logic_error(name);
  }
  std::string parse_error() const {
    const std::string file = build_file(metadata, tensors);
    return error_of([&] {
      (void)DocumentVectors::parse({reinterpret_cast<const std::byte*>(file.data()), file.size()},
                                   "test.rrv");
    });
  }
};

TEST(DocumentVectors, HandBuiltFileParses) {
  const GoodFile good;
  EXPECT_EQ(good.parse_error(), "");
}

TEST(DocumentVectors, EveryDefectIsAnErrorNamingIt) {
  auto expect = [](const GoodFile& f, const std::string& words) {
    const std::string why = f.parse_error();
    EXPECT_NE(why.find(words), std::string::npos) << "wanted '" << words << "' in: " << why;
    EXPECT_NE(why.find("test.rrv"), std::string::npos) << why;
  };
  {
    GoodFile f;
    f.metadata["format"] = "other";
    expect(f, "'format'");
  }
  {
    GoodFile f;
    f.metadata["version"] = "9";
    expect(f, "version '9'");
  }
  {
    GoodFile f;
    f.metadata.erase("model.fingerprint");
    expect(f, "'model.fingerprint' is missing");
  }
  {
    GoodFile f;
    f.metadata["model.dim"] = "two";
    expect(f, "'model.dim' must be");
  }
  {
    GoodFile f;
    f.metadata["model.dim"] = "3";
    expect(f, "metadata model.dim 3");
  }
  {
    GoodFile f;
    f.tensor("vectors").dtype = "I32";
    expect(f, "F32, F16 or BF16");
  }
  {
    GoodFile f;
    f.tensor("vectors").shape = {4};
    f.tensor("vectors").dtype = "F32";
    expect(f, "rank 2");
  }
  {
    GoodFile f;
    f.tensors.pop_back();
    expect(f, "'id_bytes' is missing");
  }
  {
    GoodFile f;
    f.tensor("offsets").bytes = bytes_of(std::vector<std::int64_t>{0, 2, 1});
    expect(f, "decreases");
  }
  {
    GoodFile f;
    f.tensor("offsets").bytes = bytes_of(std::vector<std::int64_t>{1, 1, 2});
    expect(f, "offsets[0] must be 0");
  }
  {
    GoodFile f;
    f.tensor("offsets").bytes = bytes_of(std::vector<std::int64_t>{0, 1, 1});
    expect(f, "must end at 2");
  }
  {
    GoodFile f;
    f.tensor("id_offsets").bytes = bytes_of(std::vector<std::int64_t>{0, 0, 3});
    expect(f, "id 0 must have 1 to");
  }
  {
    GoodFile f;
    f.tensor("id_bytes").bytes = "aab";
    f.tensor("id_offsets").bytes = bytes_of(std::vector<std::int64_t>{0, 1, 2});
    f.tensor("id_bytes").bytes = "aa";
    f.tensor("id_bytes").shape = {2};
    expect(f, "'a' appears more than once");
  }
  {
    GoodFile f;
    f.tensor("id_bytes").bytes =
        "a\xff"
        "c";
    expect(f, "not valid UTF-8");
  }
  {
    GoodFile f;
    f.tensor("id_offsets").dtype = "F64";
    expect(f, "must be I64");
  }
  {
    GoodFile f;
    f.tensor("id_bytes").dtype = "I8";
    expect(f, "must be U8");
  }
  {
    GoodFile f;
    f.tensor("id_offsets").bytes = bytes_of(std::vector<std::int64_t>{0, 3});
    f.tensor("id_offsets").shape = {2};
    expect(f, "documents + 1");
  }
  // Truncated and empty files are caught by the safetensors layer, with the file's name.
  const std::string file = build_file(GoodFile().metadata, GoodFile().tensors);
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, file.size() / 2, file.size() - 1}) {
    const std::string why = error_of([&] {
      (void)DocumentVectors::parse({reinterpret_cast<const std::byte*>(file.data()), cut},
                                   "test.rrv");
    });
    EXPECT_NE(why.find("test.rrv"), std::string::npos) << cut << ": " << why;
  }
  EXPECT_FALSE(
      error_of([] { (void)DocumentVectors::open("/nonexistent/x.rrv"); }, ErrorKind::runtime)
          .empty());
}

TEST(DocumentVectors, PrecomputedScoresEqualScoringTheTexts) {
  ScratchDir dir;
  const auto json = nlohmann::json::parse(io_test::read_file(fixtures() / "colbert_texts.json"));
  const auto docs = json["documents"].get<std::vector<std::string>>();
  const std::vector<std::string_view> views(docs.begin(), docs.end());
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < docs.size(); ++i)
    ids.push_back(std::string(1, 'd') += std::to_string(i));
  const Reranker reranker =
      Reranker::from_pretrained((fixtures() / "colbert_tiny_pylate").string());
  const std::vector<float> direct = reranker.score("cat on mat", views);
  for (DType storage : {DType::f32, DType::f16}) {
    const fs::path path = dir / "docs.rrv";
    reranker.save_document_vectors(path, views, ids, storage);
    const DocumentVectors v = DocumentVectors::open(path);
    EXPECT_EQ(v.model().kind, "colbert");
    EXPECT_EQ(v.model().fingerprint, reranker.identity().fingerprint);
    const std::vector<std::string_view> candidates{"d5", "d0", "d1", "d2"};
    RerankStats stats;
    const auto hits =
        reranker.rerank_precomputed("cat on mat", v, candidates, std::nullopt, &stats);
    EXPECT_EQ(stats.texts, 1u);  // only the query was encoded
    ASSERT_EQ(hits.size(), 4u);
    const double tolerance = storage == DType::f32 ? 1e-5 : 2e-2;
    for (const RerankHit& h : hits) {
      const auto doc = static_cast<std::size_t>(candidates[h.index].back() - '0');  // d0 .. d5
      EXPECT_NEAR(h.score, direct[doc], tolerance);
    }
    EXPECT_TRUE(reranker.rerank_precomputed("q", v, {}).empty());
  }
}

TEST(DocumentVectors, AnotherModelsVectorsAreRefused) {
  ScratchDir dir;
  const std::vector<std::string_view> docs{"a b c", "d e"};
  const std::vector<std::string> ids{"x", "y"};
  const Reranker pylate = Reranker::from_pretrained((fixtures() / "colbert_tiny_pylate").string());
  pylate.save_document_vectors(dir / "v.rrv", docs, ids);
  const DocumentVectors v = DocumentVectors::open(dir / "v.rrv");
  const std::vector<std::string_view> candidates{"x"};

  const Reranker chain = Reranker::from_pretrained((fixtures() / "colbert_tiny_chain").string());
  EXPECT_NE(pylate.identity().fingerprint, chain.identity().fingerprint);
  const std::string other = error_of([&] { (void)chain.rerank_precomputed("q", v, candidates); });
  EXPECT_NE(other.find("fingerprint differs"), std::string::npos) << other;
  EXPECT_NE(other.find("colbert_tiny_pylate"), std::string::npos) << other;

  RerankerOptions longer;
  longer.max_length = 16;
  const Reranker shorter_docs =
      Reranker::from_pretrained((fixtures() / "colbert_tiny_pylate").string(), longer);
  const std::string length =
      error_of([&] { (void)shorter_docs.rerank_precomputed("q", v, candidates); });
  EXPECT_NE(length.find("max_length differs"), std::string::npos) << length;

  // The same files copied elsewhere are the same model.
  fs::copy(fixtures() / "colbert_tiny_pylate", dir / "copy", fs::copy_options::recursive);
  const Reranker copy = Reranker::from_pretrained((dir / "copy").string());
  EXPECT_EQ(copy.rerank_precomputed("q", v, candidates).size(), 1u);

  const Reranker cross = Reranker::from_pretrained((fixtures() / "cross_tiny_1").string());
  EXPECT_FALSE(
      error_of([&] { (void)cross.rerank_precomputed("q", v, candidates); }, ErrorKind::unsupported)
          .empty());
  const std::vector<std::string> one_id{"x"};
  EXPECT_NE(error_of([&] {
              pylate.save_document_vectors(dir / "w.rrv", docs, one_id);
            }).find("1 ids for 2 documents"),
            std::string::npos);
}

}  // namespace
}  // namespace rank_rerank
