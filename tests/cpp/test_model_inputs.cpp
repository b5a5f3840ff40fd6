// Inputs around the architectures: bad configs and checkpoints (unknown model_type, missing
// tensors, shape mismatches), sequences past the position table, token-budget batching (plan
// and results independent of it), legacy vocab.txt tokenizers, empty strings.
#include <gtest/gtest.h>

#include <numeric>

#include "model/batching.hpp"
#include "model/transformer.hpp"
#include "model_reference.hpp"
#include "rank_rerank/colbert_encoder.hpp"
#include "rank_rerank/cross_encoder.hpp"
#include "rank_rerank/sentence_encoder.hpp"

namespace rank_rerank {
namespace {

namespace fs = std::filesystem;
using io_test::error_of;
using io_test::ScratchDir;
using model_test::fixtures;

// A copy of a fixture model with config.json edited.
fs::path edited_copy(const ScratchDir& scratch, const std::string& name,
                     const std::function<void(nlohmann::json&)>& edit) {
  const fs::path target = scratch / name;
  fs::copy(fixtures() / name, target, fs::copy_options::recursive);
  auto config = nlohmann::json::parse(io_test::read_file(target / "config.json"));
  edit(config);
  io_test::write_file(target / "config.json", config.dump());
  return target;
}

TEST(ModelConfig, UnknownAndUnsupportedConfigsNameWhatIsSupported) {
  const std::string unknown = error_of(
      [] {
        model::TransformerConfig::from_json(
            JsonConfig::parse(R"({"model_type": "modernbert", "vocab_size": 5})", "config.json"));
      },
      ErrorKind::unsupported);
  EXPECT_NE(unknown.find("config.json: model_type 'modernbert'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("supported: bert, distilbert, electra, roberta, xlm-roberta"),
            std::string::npos)
      << unknown;
  const std::string sinusoidal = error_of(
      [] {
        model::TransformerConfig::from_json(JsonConfig::parse(
            R"({"model_type": "distilbert", "sinusoidal_pos_embds": true})", "config.json"));
      },
      ErrorKind::unsupported);
  EXPECT_NE(sinusoidal.find("sinusoidal_pos_embds"), std::string::npos) << sinusoidal;
  EXPECT_NE(error_of([] {
              model::TransformerConfig::from_json(JsonConfig::parse(
                  R"({"model_type": "distilbert", "vocab_size": 5, "n_heads": 2,
                      "n_layers": 1, "hidden_dim": 4})",
                  "config.json"));
            }).find("dim"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              model::TransformerConfig::from_json(JsonConfig::parse(
                  R"({"model_type": "roberta", "vocab_size": 5, "hidden_size": 4,
                      "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 4,
                      "max_position_embeddings": 2, "pad_token_id": 1})",
                  "config.json"));
            }).find("leaves no position"),
            std::string::npos);
  // The SentenceEncoder / CrossEncoder / ColBERT loaders report the same message.
  ScratchDir scratch;
  const fs::path dir =
      edited_copy(scratch, "cross_tiny_electra", [](auto& c) { c["model_type"] = "gpt2"; });
  const std::string via_cross =
      error_of([&] { CrossEncoder::from_pretrained(dir.string()); }, ErrorKind::unsupported);
  EXPECT_NE(via_cross.find("'gpt2' is not supported (supported: bert,"), std::string::npos)
      << via_cross;
}

TEST(ModelConfig, PositionsAndTokenTypesPerArchitecture) {
  const auto roberta = model::TransformerConfig::from_json(
      JsonConfig::load(fixtures() / "cross_tiny_roberta/config.json"));
  EXPECT_EQ(roberta.position_offset, 2u);  // padding_idx 1 + 1
  EXPECT_FALSE(roberta.uses_token_types);
  const auto electra = model::TransformerConfig::from_json(
      JsonConfig::load(fixtures() / "cross_tiny_electra/config.json"));
  EXPECT_EQ(electra.position_offset, 0u);
  EXPECT_TRUE(electra.uses_token_types);
  const auto distil = model::TransformerConfig::from_json(
      JsonConfig::load(fixtures() / "cross_tiny_distilbert/config.json"));
  EXPECT_EQ(distil.type_vocab_size, 0u);
  EXPECT_EQ(distil.num_layers, 2u);
  EXPECT_EQ(distil.intermediate_size, 28u);
  EXPECT_FALSE(distil.uses_token_types);
}

TEST(ModelCheckpoint, MissingTensorsAndShapeMismatchesNameTheTensor) {
  const fs::path dir = fixtures() / "cross_tiny_electra";
  auto config = model::TransformerConfig::from_json(JsonConfig::load(dir / "config.json"));
  const auto be = backend::make_cpu_backend(1);
  // A checkpoint of another architecture: the expected names are listed.
  auto as_distil = config;
  as_distil.architecture = model::Architecture::distilbert;
  const std::string foreign =
      error_of([&] { model::TransformerEncoder::load(as_distil, Weights::open(dir), be); });
  EXPECT_NE(
      foreign.find("not a distilbert checkpoint: expected 'embeddings.word_embeddings.weight' "
                   "or 'distilbert.embeddings.word_embeddings.weight', found "),
      std::string::npos)
      << foreign;
  EXPECT_NE(foreign.find("electra.embeddings"), std::string::npos) << foreign;
  auto as_bert = config;
  as_bert.architecture = model::Architecture::bert;
  const std::string bert_prefix =
      error_of([&] { model::TransformerEncoder::load(as_bert, Weights::open(dir), be); });
  EXPECT_NE(bert_prefix.find("not a bert checkpoint"), std::string::npos) << bert_prefix;
  EXPECT_NE(bert_prefix.find("bert.embeddings.word_embeddings.weight"), std::string::npos);
  auto wide_embeddings = config;
  wide_embeddings.embedding_size = 16;
  const std::string shape =
      error_of([&] { model::TransformerEncoder::load(wide_embeddings, Weights::open(dir), be); });
  EXPECT_NE(shape.find("electra.embeddings.word_embeddings.weight"), std::string::npos) << shape;
  EXPECT_NE(shape.find("16"), std::string::npos) << shape;
  auto more_layers = config;
  more_layers.num_layers = 3;
  const std::string missing =
      error_of([&] { model::TransformerEncoder::load(more_layers, Weights::open(dir), be); });
  EXPECT_NE(missing.find("electra.encoder.layer.2.attention.self.query.weight"), std::string::npos)
      << missing;
  // A classifier of the wrong width, a checkpoint without the classification head.
  ScratchDir scratch;
  const fs::path wrong_head = edited_copy(scratch, "cross_tiny_xlmr", [](auto&) {});
  fs::remove(wrong_head / "model.safetensors");
  const fs::path base_only = fixtures() / "sentence_tiny_xlmr";
  for (const char* f : {"model.safetensors"}) fs::copy_file(base_only / f, wrong_head / f);
  const std::string no_head =
      error_of([&] { CrossEncoder::from_pretrained(wrong_head.string()); }, ErrorKind::unsupported);
  EXPECT_NE(no_head.find("classifier.out_proj.weight"), std::string::npos) << no_head;
  EXPECT_NE(no_head.find("RobertaForSequenceClassification"), std::string::npos) << no_head;
}

TEST(ModelInputs, SequencesPastThePositionTableAreRejected) {
  const fs::path dir = fixtures() / "cross_tiny_roberta";
  const auto config = model::TransformerConfig::from_json(JsonConfig::load(dir / "config.json"));
  const auto encoder =
      model::TransformerEncoder::load(config, Weights::open(dir), backend::make_cpu_backend(1));
  // 34 tokens fit (36 rows minus the padding_idx + 1 offset), 35 do not.
  const std::vector<std::int32_t> ok(34, 5), too_long(35, 5);
  const std::vector<std::int32_t> types_ok(34, 1), types_long(35, 0);
  // Type ids are not used by RoBERTa (the tokenizers give none), so any value passes.
  EXPECT_EQ(encoder.forward({ok, types_ok, std::vector<std::int64_t>{0, 34}}).size(), 34u * 20u);
  const std::string message = error_of([&] {
    encoder.forward({too_long, types_long, std::vector<std::int64_t>{0, 35}});
  });
  EXPECT_NE(message.find("35 tokens, more than the 34 positions"), std::string::npos) << message;
  EXPECT_NE(message.find("padding_idx"), std::string::npos) << message;
  // Options past the table are rejected when loading.
  CrossEncoderOptions options;
  options.max_length = 35;
  EXPECT_NE(error_of([&] { CrossEncoder::from_pretrained(dir.string(), options); }).find("[2, 34]"),
            std::string::npos);
  ColbertEncoderOptions colbert;
  colbert.document_length = 35;
  EXPECT_NE(error_of([&] {
              ColbertEncoder::from_pretrained((fixtures() / "colbert_tiny_roberta").string(),
                                              colbert);
            }).find("[2, 34]"),
            std::string::npos);
}

TEST(Batching, PlanSortsByLengthAndKeepsBudgets) {
  const std::vector<std::size_t> lengths{3, 10, 0, 7, 10, 2, 30};
  const auto batches = model::plan_batches(lengths, 3, 20);
  std::vector<std::size_t> seen;
  for (const auto& batch : batches) {
    ASSERT_FALSE(batch.empty());
    EXPECT_LE(batch.size(), 3u);
    std::size_t tokens = 0;
    for (std::size_t i : batch) tokens += lengths[i];
    EXPECT_TRUE(tokens <= 20 || batch.size() == 1) << tokens;
    seen.insert(seen.end(), batch.begin(), batch.end());
  }
  // Longest first, equal lengths in input order, every index once.
  EXPECT_EQ(seen, (std::vector<std::size_t>{6, 1, 4, 3, 0, 5, 2}));
  EXPECT_EQ(batches.front(), std::vector<std::size_t>{6});  // 30 > 20: a batch of its own
  EXPECT_TRUE(model::plan_batches({}, 4, 4).empty());
}

TEST(Batching, ResultsDoNotDependOnTheBudget) {
  const auto all = nlohmann::json::parse(io_test::read_file(fixtures() / "minilm_texts.json"))
                       .get<std::vector<std::string>>();
  const std::vector<std::string_view> texts(all.begin(), all.end());
  const fs::path dir = fixtures() / "sentence_tiny_xlmr";
  SentenceEncoderOptions one_thread;
  one_thread.num_threads = 1;
  const Embeddings whole = SentenceEncoder::from_pretrained(dir.string(), one_thread).encode(texts);
  SentenceEncoderOptions tiny = one_thread;
  tiny.max_batch_tokens = 1;
  const SentenceEncoder one_each = SentenceEncoder::from_pretrained(dir.string(), tiny);
  const Embeddings split = one_each.encode(texts);
  EXPECT_LE(model_test::max_row_relative_error(split.values, whole.values, whole.dim), 1e-6);
  EXPECT_EQ(one_each.encode({}).rows, 0u);
  for (const auto bad : {std::size_t{0}}) {
    SentenceEncoderOptions s;
    s.max_batch_tokens = bad;
    EXPECT_NE(error_of([&] {
                SentenceEncoder::from_pretrained(dir.string(), s);
              }).find("max_batch_tokens"),
              std::string::npos);
    CrossEncoderOptions c;
    c.max_batch_tokens = bad;
    EXPECT_NE(error_of([&] {
                CrossEncoder::from_pretrained((fixtures() / "cross_tiny_roberta").string(), c);
              }).find("max_batch_tokens"),
              std::string::npos);
    ColbertEncoderOptions b;
    b.max_batch_tokens = bad;
    EXPECT_NE(error_of([&] {
                ColbertEncoder::from_pretrained((fixtures() / "colbert_tiny_roberta").string(), b);
              }).find("max_batch_tokens"),
              std::string::npos);
  }
}

TEST(ModelInputs, EmptyStringsAreValidEverywhere) {
  const std::vector<std::string_view> empty{"", "a", ""};
  const ColbertEncoder colbert =
      ColbertEncoder::from_pretrained((fixtures() / "colbert_tiny_roberta").string());
  const PackedEmbeddings q = colbert.encode_queries(empty);
  EXPECT_EQ(q.offsets, (std::vector<std::int64_t>{0, 12, 24, 36}));  // expanded to query_length
  const PackedEmbeddings d = colbert.encode_documents(empty);
  EXPECT_EQ(d.offsets.size(), 4u);
  EXPECT_EQ(d.offsets[1], 3);  // <s> [D] </s>
  const CrossEncoder ce =
      CrossEncoder::from_pretrained((fixtures() / "cross_tiny_distilbert").string());
  const std::vector<float> scores = ce.predict({{"", ""}, {"", "x"}});
  ASSERT_EQ(scores.size(), 4u);
  for (float s : scores) EXPECT_TRUE(std::isfinite(s));
  const std::string multi = error_of([&] { ce.rank("q", {"a"}); });
  EXPECT_NE(multi.find("2 labels"), std::string::npos) << multi;
}

// Model directories with only a BERT vocab.txt (no tokenizer.json): do_lower_case from
// tokenizer_config.json, the same outputs as with the tokenizer.json written from that vocabulary.
TEST(LegacyVocab, AllThreeEncodersReadVocabTxt) {
  ScratchDir scratch;
  const auto legacy = [&](const std::string& name) {
    const fs::path target = scratch / name;
    fs::copy(fixtures() / name, target, fs::copy_options::recursive);
    const auto tokenizer = nlohmann::json::parse(io_test::read_file(target / "tokenizer.json"));
    std::vector<std::string> vocab(tokenizer["model"]["vocab"].size());
    for (const auto& [token, id] : tokenizer["model"]["vocab"].items())
      vocab.at(id.get<std::size_t>()) = token;
    std::string text;
    for (const std::string& token : vocab) text += token + "\n";
    io_test::write_file(target / "vocab.txt", text);
    fs::remove(target / "tokenizer.json");
    return target.string();
  };
  const std::vector<std::string_view> texts{"The CAT sat on the mat!", "", "Paris, France"};
  const std::string sentence = legacy("sentence_tiny_distilbert");
  EXPECT_EQ(SentenceEncoder::from_pretrained(sentence).encode(texts).values,
            SentenceEncoder::from_pretrained((fixtures() / "sentence_tiny_distilbert").string())
                .encode(texts)
                .values);
  const std::string cross = legacy("cross_tiny_electra");
  const std::vector<std::pair<std::string_view, std::string_view>> pairs{{texts[0], texts[2]},
                                                                         {texts[1], texts[0]}};
  EXPECT_EQ(
      CrossEncoder::from_pretrained(cross).predict(pairs),
      CrossEncoder::from_pretrained((fixtures() / "cross_tiny_electra").string()).predict(pairs));
  const std::string colbert = legacy("colbert_tiny_stanford");
  EXPECT_EQ(ColbertEncoder::from_pretrained(colbert).encode_documents(texts).values,
            ColbertEncoder::from_pretrained((fixtures() / "colbert_tiny_stanford").string())
                .encode_documents(texts)
                .values);
}

}  // namespace
}  // namespace rank_rerank
