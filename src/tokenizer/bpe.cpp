// BPE: characters (or byte-fallback tokens) merged by merge rank, lowest rank first, leftmost on
// ties. Dropout is not supported (inference only).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <unordered_map>

#include <cstdint>

#include "tokenizer/loaders.hpp"
#include "tokenizer/unicode_text.hpp"
#include "tokenizer/vocab.hpp"

namespace rank_rerank::tok {
namespace {

// (left id, right id) -> (rank, merged id), open addressing over the packed pair.
class MergeTable {
 public:
  struct Merge {
    std::int32_t rank, new_id;
  };
  void reserve(std::size_t n) {
    std::size_t size = 16;
    while (size < n * 2) size *= 2;
    slots_.assign(size, Slot{});
    mask_ = size - 1;
  }
  // Later entries for the same pair win, as in a map filled in order.
  void insert(std::int32_t a, std::int32_t b, Merge m) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    const std::uint64_t k = key(a, b);
    for (std::size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
      if (!slots_[i].used) {
        slots_[i] = {k, m, true};
        ++count_;
        return;
      }
      if (slots_[i].key == k) {
        slots_[i].merge = m;
        return;
      }
    }
  }
  const Merge* find(std::int32_t a, std::int32_t b) const {
    if (slots_.empty()) return nullptr;
    const std::uint64_t k = key(a, b);
    for (std::size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
      if (!slots_[i].used) return nullptr;
      if (slots_[i].key == k) return &slots_[i].merge;
    }
  }

 private:
  struct Slot {
    std::uint64_t key = 0;
    Merge merge{0, 0};
    bool used = false;
  };
  static std::uint64_t key(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
           static_cast<std::uint32_t>(b);
  }
  static std::size_t hash(std::uint64_t k) {
    k *= 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(k ^ (k >> 31));
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    reserve(std::max<std::size_t>(count_ * 2, 16));
    count_ = 0;
    for (const Slot& s : old) {
      if (s.used)
        insert(static_cast<std::int32_t>(s.key >> 32), static_cast<std::int32_t>(s.key), s.merge);
    }
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0, count_ = 0;
};

// Tokens of recently seen words, per thread (so without locking): natural text repeats words, and
// `tokenizers` keeps such a cache as well. Bounded: once full, new words are not added. A serial
// number tells the models apart, so a cache never serves another model's entries.
struct WordCache {
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr std::size_t max_words = 10000, max_word_bytes = 256;
  std::uint64_t owner = 0;
  std::unordered_map<std::string, std::vector<Token>, Hash, std::equal_to<>> words;
};

std::uint64_t next_model_serial() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

struct Symbol {
  std::int32_t id;
  std::uint32_t length;  // bytes; 0 once merged into its left neighbour
  int prev, next;        // linked list; -1 at the ends
};

class Bpe final : public Model {
 public:
  Bpe(Vocab vocab, MergeTable merges, std::optional<std::string> unk, std::string prefix,
      std::string suffix, bool fuse_unk, bool byte_fallback, bool ignore_merges)
      : vocab_(std::move(vocab)),
        merges_(std::move(merges)),
        unk_(std::move(unk)),
        prefix_(std::move(prefix)),
        suffix_(std::move(suffix)),
        fuse_unk_(fuse_unk),
        byte_fallback_(byte_fallback),
        ignore_merges_(ignore_merges),
        serial_(next_model_serial()) {}

  void tokenize(std::string_view word, std::vector<Token>& out) const override {
    if (word.empty()) return;
    thread_local WordCache cache;
    if (cache.owner != serial_) {
      cache.words.clear();
      cache.owner = serial_;
    }
    const bool cacheable = word.size() < WordCache::max_word_bytes;
    if (cacheable) {
      const auto hit = cache.words.find(word);
      if (hit != cache.words.end()) {
        out.insert(out.end(), hit->second.begin(), hit->second.end());
        return;
      }
    }
    const std::size_t first = out.size();
    tokenize_uncached(word, out);
    if (cacheable && cache.words.size() < WordCache::max_words)
      cache.words.emplace(
          std::string(word),
          std::vector<Token>(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()));
  }
  std::string_view token_text(const Token& t, std::string_view) const override {
    return vocab_.has_id(t.id) ? vocab_.view(t.id) : std::string_view();
  }
  std::optional<std::int32_t> token_to_id(std::string_view t) const override {
    return vocab_.find(t);
  }
  std::optional<std::string> id_to_token(std::int32_t id) const override {
    return vocab_.token(id);
  }
  std::size_t vocab_size() const override { return vocab_.size(); }

 private:
  void tokenize_uncached(std::string_view word, std::vector<Token>& out) const {
    if (ignore_merges_) {
      if (auto id = vocab_.find(word)) {
        out.push_back(Token{*id, 0, static_cast<std::uint32_t>(word.size())});
        return;
      }
    }
    thread_local std::vector<Symbol> symbols;
    initial_symbols(word, symbols);
    merge_all(symbols);
    // Offsets are the running sum of the symbol lengths, as in `tokenizers`' Word.
    std::uint32_t at = 0;
    for (const Symbol& s : symbols) {
      if (s.length == 0) continue;
      out.push_back(Token{s.id, at, at + s.length});
      at += s.length;
    }
  }

  static void add(std::vector<Symbol>& symbols, std::int32_t id, std::size_t length) {
    const int index = static_cast<int>(symbols.size());
    if (index > 0) symbols.back().next = index;
    symbols.push_back({id, static_cast<std::uint32_t>(length), index - 1, -1});
  }

  // One symbol per character (its vocabulary entry with the continuing prefix / end suffix),
  // else its bytes as <0xXX> tokens (byte_fallback), else the unknown token. This follows
  // `tokenizers`' merge_word step by step, including where a pending unknown is flushed.
  void initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const {
    symbols.clear();
    const bool plain = prefix_.empty() && suffix_.empty();
    thread_local std::string piece;
    std::int32_t unk_id = -1;
    std::size_t unk_length = 0;  // pending unknown, when unk_length > 0
    std::size_t i = 0;
    while (i < word.size()) {
      const std::size_t start = i;
      i = std::min(word.size(), i + utf8_length_from_lead(static_cast<unsigned char>(word[i])));
      std::string_view s = word.substr(start, i - start);
      if (!plain) {
        piece.clear();
        if (start > 0) piece += prefix_;
        piece.append(s);
        if (i == word.size()) piece += suffix_;
        s = piece;
      }
      if (auto id = vocab_.find(s)) {
        if (unk_length > 0) {
          add(symbols, unk_id, unk_length);
          unk_length = 0;
        }
        add(symbols, *id, i - start);
        continue;
      }
      if (byte_fallback_ && add_bytes(s, symbols)) continue;
      if (!unk_) continue;
      if (unk_length > 0 && fuse_unk_) {
        unk_length += i - start;
        continue;
      }
      if (unk_length > 0) add(symbols, unk_id, unk_length);
      const auto id = vocab_.find(*unk_);
      if (!id) throw_invalid("BPE: unk_token '" + *unk_ + "' is not in the vocabulary");
      unk_id = *id;
      unk_length = i - start;
    }
    if (unk_length > 0) add(symbols, unk_id, unk_length);
  }

  // Adds one <0xXX> symbol of length 1 per byte of s when all of them are in the vocabulary.
  bool add_bytes(std::string_view s, std::vector<Symbol>& symbols) const {
    char hex[8];
    const std::size_t before = symbols.size();
    for (char ch : s) {
      std::snprintf(hex, sizeof hex, "<0x%02X>", static_cast<unsigned char>(ch));
      const auto id = vocab_.find(hex);
      if (!id) {
        symbols.resize(before);
        if (before > 0) symbols.back().next = -1;
        return false;
      }
      add(symbols, *id, 1);
    }
    return true;
  }

  // Merges by lowest rank, then leftmost, until no adjacent pair has a merge (`tokenizers`'
  // Word::merge_all without dropout).
  void merge_all(std::vector<Symbol>& symbols) const {
    struct Candidate {
      std::int32_t rank;
      int pos;
      std::int32_t new_id;
      bool operator>(const Candidate& o) const {
        return rank != o.rank ? rank > o.rank : pos > o.pos;
      }
    };
    thread_local std::vector<Candidate> heap;
    heap.clear();
    const auto later = std::greater<Candidate>();
    for (std::size_t k = 0; k + 1 < symbols.size(); ++k) {
      if (const auto* m = merges_.find(symbols[k].id, symbols[k + 1].id))
        heap.push_back({m->rank, static_cast<int>(k), m->new_id});
    }
    std::make_heap(heap.begin(), heap.end(), later);
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), later);
      const Candidate top = heap.back();
      heap.pop_back();
      Symbol& left = symbols[static_cast<std::size_t>(top.pos)];
      if (left.length == 0 || left.next == -1) continue;
      Symbol& right = symbols[static_cast<std::size_t>(left.next)];
      const auto* m = merges_.find(left.id, right.id);
      if (!m || m->new_id != top.new_id) continue;  // stale entry
      left.id = top.new_id;
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next != -1) symbols[static_cast<std::size_t>(right.next)].prev = top.pos;
      if (left.prev != -1) {
        const Symbol& p = symbols[static_cast<std::size_t>(left.prev)];
        if (const auto* pm = merges_.find(p.id, left.id)) {
          heap.push_back({pm->rank, left.prev, pm->new_id});
          std::push_heap(heap.begin(), heap.end(), later);
        }
      }
      if (left.next != -1) {
        if (const auto* nm =
                merges_.find(left.id, symbols[static_cast<std::size_t>(left.next)].id)) {
          heap.push_back({nm->rank, top.pos, nm->new_id});
          std::push_heap(heap.begin(), heap.end(), later);
        }
      }
    }
  }

  Vocab vocab_;
  MergeTable merges_;
  std::optional<std::string> unk_;
  std::string prefix_, suffix_;
  bool fuse_unk_, byte_fallback_, ignore_merges_;
  std::uint64_t serial_;
};

}  // namespace

std::unique_ptr<Model> load_bpe(const Fields& f) {
  if (f.has("dropout")) {
    double d = f.number_or("dropout", 0.0);
    if (d != 0.0) f.fail("dropout", "is not supported (only null or 0)");
  }
  Vocab vocab;
  const auto obj = f.object("vocab");
  vocab.reserve(obj.size());
  for (auto [k, v] : obj) {
    std::int64_t id;
    if (v.get(id) || id < 0 || id > INT32_MAX)
      f.fail("vocab", "must map tokens to integer ids in [0, 2^31)");
    vocab.add(k, static_cast<std::int32_t>(id));
  }
  const std::string prefix = f.str_or("continuing_subword_prefix", "");
  MergeTable merges;
  const auto list = f.array("merges");
  merges.reserve(list.size());
  std::int32_t rank = 0;
  for (Json m : list) {
    std::string a, b;
    std::string_view line;
    simdjson::dom::array pair;
    if (!m.get(line)) {
      const auto space = line.find(' ');
      if (space == std::string_view::npos)
        f.fail("merges", "entry '" + std::string(line) + "' has no space");
      a = line.substr(0, space);
      b = line.substr(space + 1);
    } else if (!m.get(pair) && pair.size() == 2) {
      std::string_view x, y;
      if (pair.at(0).get(x) || pair.at(1).get(y)) f.fail("merges", "pairs must hold two strings");
      a = x;
      b = y;
    } else {
      f.fail("merges", "entries must be strings or pairs of strings");
    }
    const auto ia = vocab.find(a), ib = vocab.find(b);
    std::string merged =
        a + (b.compare(0, prefix.size(), prefix) == 0 ? b.substr(prefix.size()) : b);
    const auto im = vocab.find(merged);
    if (!ia || !ib || !im)
      f.fail("merges", "entry '" + a + " " + b + "' uses tokens missing from the vocab");
    merges.insert(*ia, *ib, {rank, *im});
    ++rank;
  }
  std::optional<std::string> unk;
  if (f.has("unk_token")) unk = f.str("unk_token");
  return std::make_unique<Bpe>(std::move(vocab), std::move(merges), unk, prefix,
                               f.str_or("end_of_word_suffix", ""), f.boolean_or("fuse_unk", false),
                               f.boolean_or("byte_fallback", false),
                               f.boolean_or("ignore_merges", false));
}

}  // namespace rank_rerank::tok
