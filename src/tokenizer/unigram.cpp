// Unigram: Viterbi over all vocabulary pieces that match at each position; characters no piece
// covers become unknown (score min - 10), and consecutive unknowns fuse into one token.
#include <algorithm>
#include <limits>

#include "tokenizer/loaders.hpp"
#include "tokenizer/unicode_text.hpp"
#include "tokenizer/vocab.hpp"

namespace rank_rerank::tok {
namespace {

class Unigram final : public Model {
 public:
  Unigram(std::vector<std::pair<std::string, double>> pieces, std::optional<std::int32_t> unk_id,
          bool byte_fallback)
      : pieces_(std::move(pieces)), unk_id_(unk_id), byte_fallback_(byte_fallback) {
    vocab_.reserve(pieces_.size());
    min_score_ = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
      vocab_.add(pieces_[i].first, static_cast<std::int32_t>(i));
      min_score_ = std::min(min_score_, pieces_[i].second);
    }
    sorted_.resize(pieces_.size());
    for (std::size_t i = 0; i < sorted_.size(); ++i) sorted_[i] = static_cast<std::int32_t>(i);
    std::sort(sorted_.begin(), sorted_.end(), [&](std::int32_t a, std::int32_t b) {
      return pieces_[static_cast<std::size_t>(a)].first <
             pieces_[static_cast<std::size_t>(b)].first;
    });
  }

  void tokenize(std::string_view s, std::vector<Token>& out) const override {
    struct Node {
      std::int32_t id = 0;
      double score = 0;
      long start = -1;
    };
    const std::size_t n = s.size();
    const double unk_score = min_score_ - 10.0;
    std::vector<Node> best(n + 1);
    std::size_t pos = 0;
    while (pos < n) {
      const double here = best[pos].score;
      const std::size_t mblen =
          std::min(n - pos, utf8_length_from_lead(static_cast<unsigned char>(s[pos])));
      bool single = false;
      // Pieces that are prefixes of s[pos..]: narrow the sorted range one byte at a time.
      std::size_t lo = 0, hi = sorted_.size();
      for (std::size_t len = 1; pos + len <= n && lo < hi; ++len) {
        const char c = s[pos + len - 1];
        auto byte_at = [&](std::int32_t idx) -> int {
          const std::string& p = pieces_[static_cast<std::size_t>(idx)].first;
          return p.size() >= len ? static_cast<unsigned char>(p[len - 1]) : -1;
        };
        const auto first = sorted_.begin() + static_cast<std::ptrdiff_t>(lo);
        const auto last = sorted_.begin() + static_cast<std::ptrdiff_t>(hi);
        const auto l = std::lower_bound(first, last, static_cast<unsigned char>(c),
                                        [&](std::int32_t idx, int v) { return byte_at(idx) < v; });
        const auto u = std::upper_bound(l, last, static_cast<unsigned char>(c),
                                        [&](int v, std::int32_t idx) { return v < byte_at(idx); });
        lo = static_cast<std::size_t>(l - sorted_.begin());
        hi = static_cast<std::size_t>(u - sorted_.begin());
        if (lo < hi && pieces_[static_cast<std::size_t>(sorted_[lo])].first.size() == len) {
          const std::int32_t id = *vocab_.find(s.substr(pos, len));
          const double cand = pieces_[static_cast<std::size_t>(id)].second + here;
          Node& target = best[pos + len];
          if (target.start < 0 || cand > target.score) target = {id, cand, static_cast<long>(pos)};
          if (len == mblen) single = true;
        }
      }
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
    // Backtrack, fusing consecutive unknowns.
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    std::size_t end = n;
    std::size_t unk_end = 0;  // end of the pending run of unknowns; 0 when none
    while (end > 0) {
      const Node& node = best[end];
      const auto start = static_cast<std::size_t>(node.start);
      if (unk_id_ && node.id == *unk_id_) {
        if (unk_end == 0) unk_end = end;
      } else {
        if (unk_end != 0) {
          spans.emplace_back(end, unk_end);
          unk_end = 0;
        }
        spans.emplace_back(start, end);
      }
      end = start;
    }
    if (unk_end != 0) spans.emplace_back(0, unk_end);
    std::reverse(spans.begin(), spans.end());
    for (auto [a, b] : spans) emit(s.substr(a, b - a), a, out);
  }

  std::string_view token_text(const Token& t, std::string_view word) const override {
    if (unk_id_ && t.id == *unk_id_) return word.substr(t.start, t.end - t.start);
    return pieces_[static_cast<std::size_t>(t.id)].first;
  }
  std::optional<std::int32_t> token_to_id(std::string_view t) const override {
    return vocab_.find(t);
  }
  std::optional<std::string> id_to_token(std::int32_t id) const override {
    if (id < 0 || static_cast<std::size_t>(id) >= pieces_.size()) return std::nullopt;
    return pieces_[static_cast<std::size_t>(id)].first;
  }
  std::size_t vocab_size() const override { return pieces_.size(); }

 private:
  void emit(std::string_view piece, std::size_t offset, std::vector<Token>& out) const {
    const auto start = static_cast<std::uint32_t>(offset),
               end = static_cast<std::uint32_t>(offset + piece.size());
    if (auto id = vocab_.find(piece)) {
      out.push_back(Token{*id, start, end});
      return;
    }
    if (byte_fallback_) {
      std::vector<Token> bytes;
      char hex[8];
      for (char ch : piece) {
        std::snprintf(hex, sizeof hex, "<0x%02X>", static_cast<unsigned char>(ch));
        auto id = vocab_.find(hex);
        if (!id) break;
        bytes.push_back(Token{*id, start, end});
      }
      if (bytes.size() == piece.size()) {
        out.insert(out.end(), bytes.begin(), bytes.end());
        return;
      }
    }
    out.push_back(Token{*unk_id_, start, end});
  }

  std::vector<std::pair<std::string, double>> pieces_;
  std::vector<std::int32_t> sorted_;
  Vocab vocab_;
  std::optional<std::int32_t> unk_id_;
  bool byte_fallback_;
  double min_score_;
};

}  // namespace

std::unique_ptr<Model> load_unigram(const Fields& f) {
  std::vector<std::pair<std::string, double>> pieces;
  const auto list = f.array("vocab");
  pieces.reserve(list.size());
  for (Json item : list) {
    simdjson::dom::array pair;
    std::string_view piece;
    double score;
    if (item.get(pair) || pair.size() != 2 || pair.at(0).get(piece) || pair.at(1).get(score)) {
      f.fail("vocab", "entries must be [piece, score] pairs");
    }
    pieces.emplace_back(std::string(piece), score);
  }
  std::optional<std::int32_t> unk;
  if (f.has("unk_id")) {
    const auto id = f.integer("unk_id");
    if (id < 0 || static_cast<std::size_t>(id) >= pieces.size())
      f.fail("unk_id", "is outside the vocab");
    unk = static_cast<std::int32_t>(id);
  }
  return std::make_unique<Unigram>(std::move(pieces), unk, f.boolean_or("byte_fallback", false));
}

}  // namespace rank_rerank::tok
