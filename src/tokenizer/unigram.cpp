// Unigram: Viterbi over all vocabulary pieces that match at each position; characters no piece
// covers become unknown (score min - 10), and consecutive unknowns fuse into one token.
#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <limits>

#include "tokenizer/json_float.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/piece_trie.hpp"
#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {
namespace {

class Unigram final : public Model {
 public:
  // Piece i is arena[offsets[i], offsets[i + 1]) with score scores[i].
  Unigram(std::string arena, std::vector<std::uint32_t> offsets, std::vector<double> scores,
          std::optional<std::int32_t> unk_id, bool byte_fallback)
      : arena_(std::move(arena)),
        offsets_(std::move(offsets)),
        scores_(std::move(scores)),
        unk_id_(unk_id),
        byte_fallback_(byte_fallback) {
    std::vector<std::string_view> keys(scores_.size());
    for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = piece(static_cast<std::int32_t>(i));
    trie_ = PieceTrie(keys);
    min_score_ = std::numeric_limits<double>::infinity();
    for (double score : scores_) min_score_ = std::min(min_score_, score);
    if (byte_fallback_) {
      char hex[8];
      for (int b = 0; b < 256; ++b) {
        std::snprintf(hex, sizeof hex, "<0x%02X>", b);
        byte_ids_[static_cast<std::size_t>(b)] = trie_.find(hex).value_or(-1);
      }
    }
  }

  void tokenize(std::string_view s, std::vector<Token>& out) const override {
    struct Node {
      std::int32_t id = 0;
      double score = 0;
      long start = -1;
    };
    const std::size_t n = s.size();
    const double unk_score = min_score_ - 10.0;
    thread_local std::vector<Node> best;
    best.assign(n + 1, Node{});
    std::size_t pos = 0;
    while (pos < n) {
      const double here = best[pos].score;
      const std::size_t mblen =
          std::min(n - pos, utf8_length_from_lead(static_cast<unsigned char>(s[pos])));
      bool single = false;
      trie_.prefixes(s.substr(pos), [&](std::size_t len, std::int32_t id) {
        const double cand = scores_[static_cast<std::size_t>(id)] + here;
        Node& target = best[pos + len];
        if (target.start < 0 || cand > target.score) target = {id, cand, static_cast<long>(pos)};
        if (len == mblen) single = true;
      });
      if (!single) {
        if (!unk_id_)
          throw_invalid("Unigram: text needs the unknown token but the model has no unk_id");
        Node& target = best[pos + mblen];
        const double cand = unk_score + here;
        if (target.start < 0 || cand > target.score)
          target = {*unk_id_, cand, static_cast<long>(pos)};
      }
      pos += mblen;
    }
    // Backtrack, fusing consecutive unknowns. A span keeps its node's id, or -1 for fused unknowns
    // (looked up by their text, as `tokenizers` does).
    thread_local std::vector<PathSpan> spans;
    spans.clear();
    std::size_t end = n;
    std::size_t unk_end = 0;  // end of the pending run of unknowns; 0 when none
    while (end > 0) {
      const Node& node = best[end];
      const auto start = static_cast<std::size_t>(node.start);
      if (unk_id_ && node.id == *unk_id_) {
        if (unk_end == 0) unk_end = end;
      } else {
        if (unk_end != 0) {
          spans.push_back({end, unk_end, -1});
          unk_end = 0;
        }
        spans.push_back({start, end, node.id});
      }
      end = start;
    }
    if (unk_end != 0) spans.push_back({0, unk_end, -1});
    for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
      const auto start = static_cast<std::uint32_t>(it->start),
                 stop = static_cast<std::uint32_t>(it->end);
      if (it->id >= 0) {
        out.push_back(Token{it->id, start, stop});
      } else {
        emit_unknown(s.substr(start, stop - start), start, out);
      }
    }
  }

  std::string_view token_text(const Token& t, std::string_view word) const override {
    if ((unk_id_ && t.id == *unk_id_) || !has_id(t.id))
      return word.substr(t.start, t.end - t.start);
    return piece(t.id);
  }
  std::optional<std::int32_t> token_to_id(std::string_view t) const override {
    return trie_.find(t);
  }
  std::optional<std::string> id_to_token(std::int32_t id) const override {
    if (!has_id(id)) return std::nullopt;
    return std::string(piece(id));
  }
  std::size_t vocab_size() const override { return scores_.size(); }

 private:
  struct PathSpan {
    std::size_t start, end;
    std::int32_t id;
  };
  bool has_id(std::int32_t id) const {
    return id >= 0 && static_cast<std::size_t>(id) < scores_.size();
  }
  std::string_view piece(std::int32_t id) const {
    const auto i = static_cast<std::size_t>(id);
    return std::string_view(arena_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  // A run of unknown characters: a piece if its text happens to be one, else its bytes (with
  // byte_fallback) or the unknown token.
  void emit_unknown(std::string_view text, std::uint32_t start, std::vector<Token>& out) const {
    const auto end = static_cast<std::uint32_t>(start + text.size());
    if (auto id = trie_.find(text)) {
      out.push_back(Token{*id, start, end});
      return;
    }
    if (byte_fallback_) {
      const bool all = std::all_of(text.begin(), text.end(), [&](char ch) {
        return byte_ids_[static_cast<unsigned char>(ch)] >= 0;
      });
      if (all) {
        for (char ch : text)
          out.push_back(Token{byte_ids_[static_cast<unsigned char>(ch)], start, end});
        return;
      }
    }
    out.push_back(Token{*unk_id_, start, end});
  }

  std::string arena_;
  std::vector<std::uint32_t> offsets_;
  std::vector<double> scores_;  // by id
  PieceTrie trie_;
  std::array<std::int32_t, 256> byte_ids_{};  // <0xXX> pieces for byte_fallback, -1 when absent
  std::optional<std::int32_t> unk_id_;
  bool byte_fallback_;
  double min_score_;
};

// Re-reads the scores from the JSON text (simdjson's DOM keeps only correctly rounded doubles) and
// rounds them the way `tokenizers` does. The DOM has already validated the document and the
// vocab's shape; only a count mismatch (a duplicated "model" or "vocab" key) is reported here.
void read_scores_like_serde(const simdjson::padded_string& source, std::vector<double>& scores,
                            const Fields& f) {
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array vocab;
  if (parser.iterate(source).get(doc) || doc["model"]["vocab"].get_array().get(vocab))
    f.fail("vocab", "cannot be re-read for its scores");
  std::size_t i = 0;
  for (auto item : vocab) {
    simdjson::ondemand::array pair;
    std::string_view token;
    if (item.get_array().get(pair)) f.fail("vocab", "entries must be [piece, score] pairs");
    std::size_t k = 0;
    for (auto value : pair) {
      if (k++ == 1 && (value.raw_json_token().get(token) || i >= scores.size()))
        f.fail("vocab", "entries must be [piece, score] pairs");
    }
    const auto parsed = parse_json_number_like_serde(token);
    if (!parsed) f.fail("vocab", "has a score out of the double range");
    scores[i++] = *parsed;
  }
  if (i != scores.size()) f.fail("vocab", "has a different length on a second reading");
}

}  // namespace

std::unique_ptr<Model> load_unigram(const Fields& f, const simdjson::padded_string& source) {
  const auto list = f.array("vocab");
  std::string arena;
  arena.reserve(list.size() * 12);
  std::vector<std::uint32_t> offsets;
  offsets.reserve(list.size() + 1);
  offsets.push_back(0);
  std::vector<double> scores;
  scores.reserve(list.size());
  for (Json item : list) {
    simdjson::dom::array pair;
    std::string_view piece;
    double score;
    if (item.get(pair) || pair.size() != 2 || pair.at(0).get(piece) || pair.at(1).get(score)) {
      f.fail("vocab", "entries must be [piece, score] pairs");
    }
    arena.append(piece);
    if (arena.size() > UINT32_MAX) f.fail("vocab", "is larger than 4 GB");
    offsets.push_back(static_cast<std::uint32_t>(arena.size()));
    scores.push_back(score);
  }
  read_scores_like_serde(source, scores, f);
  std::optional<std::int32_t> unk;
  if (f.has("unk_id")) {
    const auto unk_id = f.integer("unk_id");
    if (unk_id < 0 || static_cast<std::size_t>(unk_id) >= scores.size())
      f.fail("unk_id", "is outside the vocab");
    unk = static_cast<std::int32_t>(unk_id);
  }
  return std::make_unique<Unigram>(std::move(arena), std::move(offsets), std::move(scores), unk,
                                   f.boolean_or("byte_fallback", false));
}

}  // namespace rank_rerank::tok
