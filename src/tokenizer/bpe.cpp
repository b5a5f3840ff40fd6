// BPE: characters (or byte-fallback tokens) merged by merge rank, lowest rank first, leftmost on
// ties. Dropout is not supported (inference only).
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <unordered_map>

#include "tokenizer/loaders.hpp"
#include "tokenizer/unicode_text.hpp"
#include "tokenizer/vocab.hpp"

namespace rank_rerank::tok {
namespace {

struct Symbol {
  std::int32_t id;
  std::uint32_t start, end;  // byte span in the word
  int prev, next;            // linked list; -1 at the ends
};

class Bpe final : public Model {
 public:
  Bpe(Vocab vocab, std::unordered_map<std::uint64_t, std::pair<std::int32_t, std::int32_t>> merges,
      std::optional<std::string> unk, std::string prefix, std::string suffix, bool fuse_unk,
      bool byte_fallback, bool ignore_merges)
      : vocab_(std::move(vocab)),
        merges_(std::move(merges)),
        unk_(std::move(unk)),
        prefix_(std::move(prefix)),
        suffix_(std::move(suffix)),
        fuse_unk_(fuse_unk),
        byte_fallback_(byte_fallback),
        ignore_merges_(ignore_merges) {}

  void tokenize(std::string_view word, std::vector<Token>& out) const override {
    if (word.empty()) return;
    if (ignore_merges_) {
      if (auto id = vocab_.find(word)) {
        out.push_back(Token{*id, 0, static_cast<std::uint32_t>(word.size())});
        return;
      }
    }
    std::vector<Symbol> symbols = initial_symbols(word);
    merge_all(symbols);
    for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[static_cast<std::size_t>(i)].next) {
      const Symbol& s = symbols[static_cast<std::size_t>(i)];
      out.push_back(Token{s.id, s.start, s.end});
    }
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
  std::vector<Symbol> initial_symbols(std::string_view word) const {
    std::vector<Symbol> symbols;
    std::string piece;
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t pending_unk = none;  // index of the last unk symbol, for fusing
    std::size_t i = 0;
    while (i < word.size()) {
      const std::size_t start = i;
      const std::size_t len = utf8_length_from_lead(static_cast<unsigned char>(word[i]));
      i = std::min(word.size(), i + len);
      piece.clear();
      if (start > 0) piece += prefix_;
      piece.append(word.substr(start, i - start));
      if (i == word.size()) piece += suffix_;
      if (auto id = vocab_.find(piece)) {
        symbols.push_back(
            {*id, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(i), 0, 0});
        pending_unk = none;
        continue;
      }
      if (byte_fallback_) {
        bool all = true;
        std::vector<std::int32_t> ids;
        char hex[8];
        for (std::size_t k = start; k < i; ++k) {
          std::snprintf(hex, sizeof hex, "<0x%02X>", static_cast<unsigned char>(word[k]));
          auto id = vocab_.find(hex);
          if (!id) {
            all = false;
            break;
          }
          ids.push_back(*id);
        }
        if (all) {
          for (std::size_t k = 0; k < ids.size(); ++k) {
            symbols.push_back({ids[k], static_cast<std::uint32_t>(start + k),
                               static_cast<std::uint32_t>(start + k + 1), 0, 0});
          }
          pending_unk = none;
          continue;
        }
      }
      if (!unk_) continue;
      const auto unk_id = vocab_.find(*unk_);
      if (!unk_id) throw_invalid("BPE: unk_token '" + *unk_ + "' is not in the vocabulary");
      if (fuse_unk_ && pending_unk != none) {
        symbols[pending_unk].end = static_cast<std::uint32_t>(i);
      } else {
        symbols.push_back(
            {*unk_id, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(i), 0, 0});
        pending_unk = symbols.size() - 1;
      }
    }
    for (std::size_t k = 0; k < symbols.size(); ++k) {
      symbols[k].prev = static_cast<int>(k) - 1;
      symbols[k].next = k + 1 < symbols.size() ? static_cast<int>(k) + 1 : -1;
    }
    return symbols;
  }

  std::optional<std::pair<std::int32_t, std::int32_t>> merge_of(std::int32_t a,
                                                                std::int32_t b) const {
    const auto it = merges_.find(key(a, b));
    if (it == merges_.end()) return std::nullopt;
    return it->second;
  }

  void merge_all(std::vector<Symbol>& symbols) const {
    struct Candidate {
      std::int32_t rank;
      int pos;
      std::int32_t new_id;
      bool operator>(const Candidate& o) const {
        return rank != o.rank ? rank > o.rank : pos > o.pos;
      }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    for (std::size_t k = 0; k + 1 < symbols.size(); ++k) {
      if (auto m = merge_of(symbols[k].id, symbols[k + 1].id))
        queue.push({m->first, static_cast<int>(k), m->second});
    }
    std::vector<bool> removed(symbols.size(), false);
    while (!queue.empty()) {
      const Candidate top = queue.top();
      queue.pop();
      Symbol& left = symbols[static_cast<std::size_t>(top.pos)];
      if (removed[static_cast<std::size_t>(top.pos)] || left.next == -1) continue;
      Symbol& right = symbols[static_cast<std::size_t>(left.next)];
      const auto m = merge_of(left.id, right.id);
      if (!m || m->second != top.new_id) continue;  // stale entry
      left.id = top.new_id;
      left.end = right.end;
      removed[static_cast<std::size_t>(left.next)] = true;
      left.next = right.next;
      if (right.next != -1) symbols[static_cast<std::size_t>(right.next)].prev = top.pos;
      if (left.prev != -1) {
        const Symbol& p = symbols[static_cast<std::size_t>(left.prev)];
        if (auto pm = merge_of(p.id, left.id)) queue.push({pm->first, left.prev, pm->second});
      }
      if (left.next != -1) {
        if (auto nm = merge_of(left.id, symbols[static_cast<std::size_t>(left.next)].id))
          queue.push({nm->first, top.pos, nm->second});
      }
    }
    // Compact into a list that starts at index 0.
    std::vector<Symbol> kept;
    for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[static_cast<std::size_t>(i)].next)
      kept.push_back(symbols[static_cast<std::size_t>(i)]);
    for (std::size_t k = 0; k < kept.size(); ++k) {
      kept[k].prev = static_cast<int>(k) - 1;
      kept[k].next = k + 1 < kept.size() ? static_cast<int>(k) + 1 : -1;
    }
    symbols = std::move(kept);
  }

  static std::uint64_t key(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
           static_cast<std::uint32_t>(b);
  }

  Vocab vocab_;
  std::unordered_map<std::uint64_t, std::pair<std::int32_t, std::int32_t>>
      merges_;  // (rank, new id)
  std::optional<std::string> unk_;
  std::string prefix_, suffix_;
  bool fuse_unk_, byte_fallback_, ignore_merges_;
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
    if (v.get(id)) f.fail("vocab", "must map tokens to integer ids");
    vocab.add(k, static_cast<std::int32_t>(id));
  }
  const std::string prefix = f.str_or("continuing_subword_prefix", "");
  std::unordered_map<std::uint64_t, std::pair<std::int32_t, std::int32_t>> merges;
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
    merges[(static_cast<std::uint64_t>(static_cast<std::uint32_t>(*ia)) << 32) |
           static_cast<std::uint32_t>(*ib)] = std::make_pair(rank, *im);
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
