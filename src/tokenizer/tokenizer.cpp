// Encoding pipeline: added tokens -> normalizer -> pre-tokenizer -> model -> truncation ->
// post-processor -> padding, with offsets mapped back to code points of the input.
#include <omp.h>

#include <algorithm>

#include "rank_rerank/threading.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "tokenizer/unicode_text.hpp"

namespace rank_rerank {

Encoding Tokenizer::Impl::encode_sequence(std::string_view raw, std::int32_t type_id) const {
  std::string text;
  tok::sanitize_utf8(raw, text);
  const std::size_t n = text.size();
  // Byte -> code point index of the input, only needed for non-ASCII text. The end of a span maps
  // like `tokenizers`: the char index of the end byte, or one past the last char.
  thread_local std::vector<std::uint32_t> char_of;
  const bool ascii = tok::is_ascii(text);
  if (!ascii) {
    char_of.resize(n + 1);
    std::uint32_t chars = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && i > 0) ++chars;
      char_of[i] = chars;
    }
    char_of[n] = static_cast<std::uint32_t>(tok::count_code_points(text));
  }
  auto to_chars = [&](tok::Span s) -> std::pair<std::uint32_t, std::uint32_t> {
    if (ascii || s.first >= n) return s;
    return {char_of[s.first], char_of[std::min<std::size_t>(s.second, n)]};
  };

  thread_local tok::PreTokenized pre;
  added.extract_and_normalize(normalizer.get(), std::move(text), pre);
  if (pre_tokenizer) pre_tokenizer->pre_tokenize(pre);

  // Tokens of every split first, so that the encoding is allocated once.
  thread_local std::vector<tok::Token> tokens;
  thread_local std::vector<std::uint32_t> split_of;
  tokens.clear();
  split_of.clear();
  for (std::size_t w = 0; w < pre.splits.size(); ++w) {
    const tok::Split& s = pre.splits[w];
    if (s.added_id >= 0) {
      tokens.push_back({s.added_id, 0, s.end - s.start});
    } else {
      model->tokenize(pre.text(s), tokens);
    }
    split_of.resize(tokens.size(), static_cast<std::uint32_t>(w));
  }

  Encoding e;
  const std::size_t count = tokens.size();
  tok::reserve_encoding(e, count);
  e.ids.resize(count);
  e.type_ids.assign(count, type_id);
  e.attention_mask.assign(count, 1);
  e.special_tokens_mask.assign(count, 0);
  e.word_ids.resize(count);
  e.sequence_ids.assign(count, 0);
  e.offsets.resize(count);
  for (std::size_t k = 0; k < count; ++k) {
    const tok::Token& t = tokens[k];
    const tok::Split& s = pre.splits[split_of[k]];
    const std::string_view word = pre.text(s);
    e.ids[k] = t.id;
    e.word_ids[k] = static_cast<std::int32_t>(split_of[k]);
    e.offsets[k] =
        to_chars(pre.buffers[s.buffer].original_span(s.start + t.start, s.start + t.end));
    e.tokens.emplace_back(s.added_id >= 0 ? word : model->token_text(t, word));
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
  if (parts.size() == 1) return std::move(parts[0]);
  Encoding out = std::move(parts[0]);
  for (std::size_t i = 1; i < parts.size(); ++i) tok::append_encoding(out, std::move(parts[i]));
  return out;
}

void Tokenizer::Impl::pad(std::vector<Encoding>& batch, const PaddingOptions& p) const {
  std::size_t target = 0;
  if (p.max_length) {
    target = *p.max_length;
  } else {
    for (const Encoding& e : batch) target = std::max(target, e.size());
  }
  if (p.pad_to_multiple_of > kMaxPaddedLength || target > kMaxPaddedLength) {
    throw_invalid("padding: length " + std::to_string(std::max(target, p.pad_to_multiple_of)) +
                  " exceeds the limit of " + std::to_string(kMaxPaddedLength) + " tokens");
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
  // Chunks of up to 16 texts amortise the scheduler; a small batch (a rerank request of 100
  // documents) gets smaller chunks so that every thread has work.
  const auto chunk = static_cast<int>(
      std::clamp<std::ptrdiff_t>(n / (4 * static_cast<std::ptrdiff_t>(threads)), 1, 16));
#pragma omp parallel for schedule(dynamic, chunk) num_threads(threads)
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

const std::optional<TruncationOptions>& Tokenizer::truncation() const { return impl_->truncation; }

const std::optional<PaddingOptions>& Tokenizer::padding() const { return impl_->padding; }

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (const tok::AddedToken* a = impl_->added.find(token)) return a->id;
  return impl_->model->token_to_id(token);
}

}  // namespace rank_rerank
