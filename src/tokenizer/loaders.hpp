// Builders of pipeline components from their tokenizer.json objects.
#pragma once

#include <memory>

#include "tokenizer/components.hpp"
#include "tokenizer/json_fields.hpp"
#include "tokenizer/vocab.hpp"

namespace rank_rerank::tok {

std::unique_ptr<Normalizer> load_normalizer(Json obj);
std::unique_ptr<Normalizer> load_precompiled(const Fields& f);
std::unique_ptr<PreTokenizer> load_pre_tokenizer(Json obj);
std::unique_ptr<Model> load_wordpiece(const Fields& f);
std::unique_ptr<Model> load_bpe(const Fields& f);
// `source` is the whole tokenizer.json, for the scores' text (see json_float.hpp).
std::unique_ptr<Model> load_unigram(const Fields& f, const simdjson::padded_string& source);
std::unique_ptr<Normalizer> make_bert_normalizer(bool clean_text, bool chinese, bool strip_accents,
                                                 bool lowercase);
std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer();
std::unique_ptr<Model> make_wordpiece(Vocab vocab);

}  // namespace rank_rerank::tok
