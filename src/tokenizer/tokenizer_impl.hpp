// The assembled pipeline behind rank_rerank::Tokenizer.
#pragma once

#include "rank_rerank/tokenizer.hpp"
#include "tokenizer/added_vocabulary.hpp"
#include "tokenizer/components.hpp"
#include "tokenizer/processing.hpp"

namespace rank_rerank {

struct Tokenizer::Impl {
  std::unique_ptr<tok::Normalizer> normalizer;
  std::unique_ptr<tok::PreTokenizer> pre_tokenizer;
  std::unique_ptr<tok::Model> model;
  std::unique_ptr<tok::PostProcessor> post_processor;
  std::unique_ptr<tok::Decoder> decoder;
  tok::AddedVocabulary added;
  std::optional<TruncationOptions> truncation;
  std::optional<PaddingOptions> padding;

  // Tokens of one sequence, before truncation and post-processing.
  Encoding encode_sequence(std::string_view text, std::int32_t type_id) const;
  Encoding encode(std::string_view a, const std::string_view* b,
                  const EncodeOptions& options) const;
  void pad(std::vector<Encoding>& batch, const PaddingOptions& p) const;
};

}  // namespace rank_rerank
