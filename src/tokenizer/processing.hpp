// Post-processors (special tokens, type ids) and decoders of tokenizer.json.
#pragma once

#include <memory>

#include "rank_rerank/tokenizer.hpp"
#include "tokenizer/json_fields.hpp"

namespace rank_rerank::tok {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual std::size_t added_tokens(bool is_pair) const = 0;
  // encodings holds one or two sequences; the result is concatenated by the caller.
  virtual void process(std::vector<Encoding>& encodings, bool add_special_tokens) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

std::unique_ptr<PostProcessor> load_post_processor(Json obj);
std::unique_ptr<PostProcessor> make_bert_processing(std::string sep, std::int32_t sep_id,
                                                    std::string cls, std::int32_t cls_id);
std::unique_ptr<Decoder> load_decoder(Json obj);
std::unique_ptr<Decoder> make_wordpiece_decoder();
// Appends b to a (tokens, ids, masks, offsets).
void append_encoding(Encoding& a, Encoding&& b);
void reserve_encoding(Encoding& e, std::size_t n);
// ByteLevel's offset trimming (leading / trailing spaces leave the offsets).
void trim_byte_level_offsets(Encoding& e, bool add_prefix_space);

}  // namespace rank_rerank::tok
