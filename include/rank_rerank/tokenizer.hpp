// Tokenizer that reads the Hugging Face `tokenizer.json` format (and a legacy BERT vocab.txt) and
// produces the same ids, type ids, masks and offsets as the `tokenizers` library.
//
// Text handling contract:
// - Input is UTF-8. Ill-formed sequences are replaced by U+FFFD exactly as Python's
//   bytes.decode("utf-8", errors="replace") does (one U+FFFD per maximal ill-formed subpart; UTF-8
//   encoded surrogates are ill-formed). The result equals what `tokenizers` produces for that
//   Python str.
// - Offsets are (start, end) in Unicode code points of that (replaced) text, the same numbers
//   `tokenizers` returns from Python (indices into the str). Special tokens added by the
//   post-processor and padding have (0, 0).
//
// Unicode data: character classes (punctuation, control/format, nonspacing marks, letters,
// numbers) come from utf8proc (Unicode 15.0). `tokenizers` takes punctuation, control/format and
// nonspacing marks from the `unicode_categories` crate, whose tables are Unicode 8.0, so code
// points assigned after Unicode 8.0 (and six whose category changed since: U+166D, U+111C9,
// U+1734, U+1885, U+1886, U+A9BD) may be split, removed or stripped differently. Text made of
// code points assigned by Unicode 8.0 gives identical results. See docs/tokenizer.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rank_rerank {

// One encoded text or text pair. All vectors have the same length.
struct Encoding {
  std::vector<std::int32_t> ids;
  std::vector<std::int32_t> type_ids;
  std::vector<std::int32_t> attention_mask;
  std::vector<std::int32_t> special_tokens_mask;
  // Index of the pre-tokenized word a token comes from; -1 for special tokens and padding.
  std::vector<std::int32_t> word_ids;
  // Which input a token belongs to (0 or 1); -1 for special tokens and padding.
  std::vector<std::int32_t> sequence_ids;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> offsets;
  std::vector<std::string> tokens;
  std::size_t size() const noexcept { return ids.size(); }
};

enum class TruncationStrategy { longest_first, only_first, only_second };
enum class Side { left, right };

struct TruncationOptions {
  std::size_t max_length = 512;
  TruncationStrategy strategy = TruncationStrategy::longest_first;
  Side direction = Side::right;
};

// Longest padded length (and pad_to_multiple_of) accepted; larger ones are refused rather than
// allocated.
inline constexpr std::size_t kMaxPaddedLength = std::size_t{1} << 20;

struct PaddingOptions {
  // Pad to the longest encoding of the batch when unset, else to this length.
  std::optional<std::size_t> max_length;
  std::size_t pad_to_multiple_of = 0;
  Side direction = Side::right;
  // Taken from the tokenizer.json padding block (or [PAD]/<pad>) when left empty.
  std::optional<std::int32_t> pad_id;
  std::optional<std::int32_t> pad_type_id;
  std::optional<std::string> pad_token;
};

struct EncodeOptions {
  bool add_special_tokens = true;
  // Override the truncation / padding stored in tokenizer.json; nullopt keeps the file's settings.
  std::optional<std::optional<TruncationOptions>> truncation;
  std::optional<std::optional<PaddingOptions>> padding;
  // Threads for encode_batch; 0 means rank_rerank::default_num_threads().
  int num_threads = 0;
};

class Tokenizer {
 public:
  // Loads a tokenizer.json file, or a BERT vocab.txt (WordPiece with BertNormalizer; lowercasing as
  // `lowercase`).
  static Tokenizer from_file(const std::string& path);
  static Tokenizer from_vocab_txt(const std::string& path, bool lowercase);
  // Parses tokenizer.json content held in memory.
  static Tokenizer from_json(std::string_view json);
  // A local model directory: tokenizer.json (+ tokenizer_config.json), or vocab.txt with
  // do_lower_case from tokenizer_config.json.
  static Tokenizer from_pretrained(const std::string& directory);

  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
  Encoding encode_pair(std::string_view text, std::string_view pair,
                       const EncodeOptions& options = {}) const;
  // pairs is empty, or has one entry per text.
  std::vector<Encoding> encode_batch(const std::vector<std::string_view>& texts,
                                     const std::vector<std::string_view>& pairs = {},
                                     const EncodeOptions& options = {}) const;
  std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens = true) const;

  std::size_t vocab_size() const;
  // The truncation and padding stored in tokenizer.json (used when EncodeOptions leaves them
  // unset).
  const std::optional<TruncationOptions>& truncation() const;
  const std::optional<PaddingOptions>& padding() const;
  std::optional<std::int32_t> token_to_id(std::string_view token) const;

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rank_rerank
