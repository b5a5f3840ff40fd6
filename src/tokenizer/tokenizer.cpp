// Encoding pipeline: added tokens -> normalizer -> pre-tokenizer -> model -> truncation ->
// post-processor -> padding, with offsets mapped back to code points of the input.
#include <omp.h>

#include "rank_rerank/threading.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/unicode_text.hpp"

namespace rank_rerank {

using tok::Split;

Encoding Tokenizer::Impl::encode_sequence(std::string_view raw, std::int32_t type_id) const {
  std::string text;
  tok::sanitize_utf8(raw, text);
  std::vector<Split> splits = added.extract_and_normalize(normalizer.get(), text);
  if (pre_tokenizer) pre_tokenizer->pre_tokenize(splits);

  // Byte -> code point index of the input, only needed for non-ASCII text.
  std::vector<std::uint32_t> char_of;
  bool ascii = true;
  for (char c : text) ascii &= static_cast<unsigned char>(c) < 0x80;
  if (!ascii) {
    char_of.resize(text.size() + 1);
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && i > 0) ++n;
      char_of[i] = n;
    }
    char_of[text.size()] = static_cast<std::uint32_t>(tok::count_code_points(text));
  }
  auto to_chars = [&](tok::Span s) -> std::pair<std::uint32_t, std::uint32_t> {
    if (ascii || s.first >= text.size()) return s;
    // The end maps like `tokenizers`: the char index of the end byte, or one past the last char.
    const std::uint32_t start = char_of[s.first];
    std::uint32_t end = s.second < text.size() ? char_of[s.second] : char_of[text.size()];
    return {start, end};
  };

  Encoding e;
  std::vector<tok::Token> tokens;
  for (std::size_t w = 0; w < splits.size(); ++w) {
    Split& s = splits[w];
    if (!s.tokens) {
      tokens.clear();
      model->tokenize(s.normalized.get(), tokens);
      s.tokens = std::move(tokens);
      tokens = {};
    }
    for (tok::Token& t : *s.tokens) {
      e.ids.push_back(t.id);
      e.type_ids.push_back(type_id);
      e.attention_mask.push_back(1);
      e.special_tokens_mask.push_back(0);
      e.word_ids.push_back(static_cast<std::int32_t>(w));
      e.sequence_ids.push_back(0);
      e.offsets.push_back(to_chars(s.normalized.original_span(t.start, t.end)));
      e.tokens.push_back(std::move(t.value));
    }
  }
  return e;
}

namespace {

void truncate_one(Encoding& e, std::size_t n, Side side) {
  if (e.size() <= n) return;
  auto cut = [&](auto& v) {
    if (side == Side::right) {
      v.resize(n);
    } else {
      v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(n));
    }
  };
  cut(e.ids);
  cut(e.type_ids);
  cut(e.attention_mask);
  cut(e.special_tokens_mask);
  cut(e.word_ids);
  cut(e.sequence_ids);
  cut(e.offsets);
  cut(e.tokens);
}

void truncate_pair(Encoding& a, Encoding* b, const TruncationOptions& t, std::size_t max_length) {
  const std::size_t total = a.size() + (b ? b->size() : 0);
  if (total <= max_length) return;
  const std::size_t remove = total - max_length;
  switch (t.strategy) {
    case TruncationStrategy::longest_first: {
      if (!b) {
        truncate_one(a, max_length, t.direction);
        return;
      }
      std::size_t n1 = a.size(), n2 = b->size();
      const bool swap = n1 > n2;
      if (swap) std::swap(n1, n2);
      n2 = n1 > max_length ? n1 : std::max(n1, max_length - n1);
      if (n1 + n2 > max_length) {
        n1 = max_length / 2;
        n2 = n1 + max_length % 2;
      }
      if (swap) std::swap(n1, n2);
      truncate_one(a, n1, t.direction);
      truncate_one(*b, n2, t.direction);
      return;
    }
    case TruncationStrategy::only_first:
    case TruncationStrategy::only_second: {
      Encoding* target = t.strategy == TruncationStrategy::only_first ? &a : b;
      if (!target || target->size() <= remove) {
        throw_invalid("truncation: the sequence to truncate is too short for max_length " +
                      std::to_string(max_length));
      }
      truncate_one(*target, target->size() - remove, t.direction);
      return;
    }
  }
}

}  // namespace

Encoding Tokenizer::Impl::encode(std::string_view a, const std::string_view* b,
                                 const EncodeOptions& options) const {
  Encoding ea = encode_sequence(a, 0);
  std::optional<Encoding> eb;
  if (b) eb = encode_sequence(*b, 1);
  const auto& trunc = options.truncation ? *options.truncation : truncation;
  if (trunc) {
    const std::size_t added_count = options.add_special_tokens && post_processor
                                        ? post_processor->added_tokens(b != nullptr)
                                        : 0;
    const std::size_t max_length =
        trunc->max_length > added_count ? trunc->max_length - added_count : 0;
    truncate_pair(ea, eb ? &*eb : nullptr, *trunc, max_length);
  }
  std::vector<Encoding> parts;
  parts.push_back(std::move(ea));
  if (eb) parts.push_back(std::move(*eb));
  if (post_processor) {
    post_processor->process(parts, options.add_special_tokens);
  } else {
    for (std::size_t i = 0; i < parts.size(); ++i)
      parts[i].sequence_ids.assign(parts[i].size(), static_cast<std::int32_t>(i));
  }
  Encoding out;
  for (const Encoding& p : parts) tok::append_encoding(out, p);
  return out;
}

void Tokenizer::Impl::pad(std::vector<Encoding>& batch, const PaddingOptions& p) const {
  std::size_t target = 0;
  if (p.max_length) {
    target = *p.max_length;
  } else {
    for (const Encoding& e : batch) target = std::max(target, e.size());
  }
  if (p.pad_to_multiple_of > 0 && target % p.pad_to_multiple_of != 0) {
    target += p.pad_to_multiple_of - target % p.pad_to_multiple_of;
  }
  const std::string pad_token = p.pad_token.value_or("[PAD]");
  std::int32_t pad_id = 0;
  if (p.pad_id) {
    pad_id = *p.pad_id;
  } else if (auto id = model->token_to_id(pad_token)) {
    pad_id = *id;
  }
  const std::int32_t pad_type = p.pad_type_id.value_or(0);
  for (Encoding& e : batch) {
    if (e.size() >= target) continue;
    const std::size_t n = target - e.size();
    const auto at = [&](auto& v) { return p.direction == Side::right ? v.end() : v.begin(); };
    e.ids.insert(at(e.ids), n, pad_id);
    e.type_ids.insert(at(e.type_ids), n, pad_type);
    e.attention_mask.insert(at(e.attention_mask), n, 0);
    e.special_tokens_mask.insert(at(e.special_tokens_mask), n, 1);
    e.word_ids.insert(at(e.word_ids), n, -1);
    e.sequence_ids.insert(at(e.sequence_ids), n, -1);
    e.offsets.insert(at(e.offsets), n, std::pair<std::uint32_t, std::uint32_t>{0, 0});
    e.tokens.insert(at(e.tokens), n, pad_token);
  }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<Encoding> one{impl_->encode(text, nullptr, options)};
  const auto& padding = options.padding ? *options.padding : impl_->padding;
  if (padding && padding->max_length) impl_->pad(one, *padding);
  return std::move(one[0]);
}

Encoding Tokenizer::encode_pair(std::string_view text, std::string_view pair,
                                const EncodeOptions& options) const {
  std::vector<Encoding> one{impl_->encode(text, &pair, options)};
  const auto& padding = options.padding ? *options.padding : impl_->padding;
  if (padding && padding->max_length) impl_->pad(one, *padding);
  return std::move(one[0]);
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string_view>& texts,
                                              const std::vector<std::string_view>& pairs,
                                              const EncodeOptions& options) const {
  if (!pairs.empty() && pairs.size() != texts.size()) {
    throw_invalid("encode_batch: pairs has " + std::to_string(pairs.size()) +
                  " entries, texts has " + std::to_string(texts.size()));
  }
  std::vector<Encoding> out(texts.size());
  const int threads =
      options.num_threads > 0 ? options.num_threads : static_cast<int>(default_num_threads());
  const auto n = static_cast<std::ptrdiff_t>(texts.size());
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    try {
      const auto k = static_cast<std::size_t>(i);
      out[k] = impl_->encode(texts[k], pairs.empty() ? nullptr : &pairs[k], options);
    } catch (...) {
#pragma omp critical
      error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  const auto& padding = options.padding ? *options.padding : impl_->padding;
  if (padding) impl_->pad(out, *padding);
  return out;
}

std::string Tokenizer::decode(const std::vector<std::int32_t>& ids,
                              bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  for (std::int32_t id : ids) {
    const tok::AddedToken* added = impl_->added.find(id);
    if (added) {
      if (skip_special_tokens && added->special) continue;
      tokens.push_back(added->content);
      continue;
    }
    auto t = impl_->model->id_to_token(id);
    if (!t) throw_invalid("decode: id " + std::to_string(id) + " is not in the vocabulary");
    tokens.push_back(std::move(*t));
  }
  if (impl_->decoder) {
    impl_->decoder->decode_chain(tokens);
  } else {
    std::string joined;
    for (std::size_t i = 0; i < tokens.size(); ++i) joined += (i ? " " : "") + tokens[i];
    return joined;
  }
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

std::size_t Tokenizer::vocab_size() const { return impl_->model->vocab_size(); }

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (const tok::AddedToken* a = impl_->added.find(token)) return a->id;
  return impl_->model->token_to_id(token);
}

}  // namespace rank_rerank
