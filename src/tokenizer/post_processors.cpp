// Post-processors: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence.
#include <cstdint>
#include <map>

#include "tokenizer/components.hpp"
#include "tokenizer/processing.hpp"
#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {
namespace {

struct SpecialPiece {
  std::vector<std::int32_t> ids;
  std::vector<std::string> tokens;
};

void append_specials(Encoding& e, const SpecialPiece& p, std::int32_t type_id) {
  for (std::size_t i = 0; i < p.ids.size(); ++i) {
    e.ids.push_back(p.ids[i]);
    e.tokens.push_back(p.tokens[i]);
    e.type_ids.push_back(type_id);
    e.attention_mask.push_back(1);
    e.special_tokens_mask.push_back(1);
    e.word_ids.push_back(-1);
    e.sequence_ids.push_back(-1);
    e.offsets.emplace_back(0, 0);
  }
}

void set_sequence(Encoding& e, std::int32_t seq, std::optional<std::int32_t> type_id) {
  e.sequence_ids.assign(e.size(), seq);
  if (type_id) e.type_ids.assign(e.size(), *type_id);
}

class Template final : public PostProcessor {
 public:
  struct Item {
    bool is_sequence;
    std::string id;  // "A"/"B" or the special token name
    std::int32_t type_id;
    std::size_t sequence;  // 0 for A, 1 for B
  };
  Template(std::vector<Item> single, std::vector<Item> pair, std::map<std::string, SpecialPiece> sp)
      : single_(std::move(single)), pair_(std::move(pair)), specials_(std::move(sp)) {}
  std::size_t added_tokens(bool is_pair) const override {
    std::size_t n = 0;
    for (const Item& it : is_pair ? pair_ : single_)
      if (!it.is_sequence) n += specials_.at(it.id).ids.size();
    return n;
  }
  void process(std::vector<Encoding>& encs, bool add_special) const override {
    const std::vector<Item>& items = encs.size() == 2 ? pair_ : single_;
    std::size_t total = 0, uses[2] = {0, 0};
    for (const Item& it : items) {
      if (!it.is_sequence) {
        total += add_special ? specials_.at(it.id).ids.size() : 0;
      } else if (it.sequence < encs.size()) {
        total += encs[it.sequence].size();
        ++uses[it.sequence];
      }
    }
    Encoding out;
    reserve_encoding(out, total);
    for (const Item& it : items) {
      if (!it.is_sequence) {
        if (add_special) append_specials(out, specials_.at(it.id), it.type_id);
        continue;
      }
      if (it.sequence >= encs.size()) continue;
      const auto seq = static_cast<std::int32_t>(it.sequence);
      Encoding e = --uses[it.sequence] == 0 ? std::move(encs[it.sequence]) : encs[it.sequence];
      set_sequence(e, seq, it.type_id);
      append_encoding(out, std::move(e));
    }
    encs.clear();
    encs.push_back(std::move(out));
  }

 private:
  std::vector<Item> single_, pair_;
  std::map<std::string, SpecialPiece> specials_;
};

class BertLike final : public PostProcessor {
 public:
  BertLike(SpecialPiece cls, SpecialPiece sep, bool roberta, bool trim, bool prefix)
      : cls_(std::move(cls)),
        sep_(std::move(sep)),
        roberta_(roberta),
        trim_(trim),
        prefix_(prefix) {}
  std::size_t added_tokens(bool is_pair) const override { return is_pair ? (roberta_ ? 4 : 3) : 2; }
  void process(std::vector<Encoding>& encs, bool add_special) const override {
    if (roberta_) {
      for (Encoding& e : encs) {
        if (trim_) trim_byte_level_offsets(e, prefix_);
        e.type_ids.assign(e.size(), 0);
      }
    }
    for (std::size_t i = 0; i < encs.size(); ++i)
      set_sequence(encs[i], static_cast<std::int32_t>(i), std::nullopt);
    if (!add_special) return;
    std::size_t total = added_tokens(encs.size() == 2);
    for (const Encoding& e : encs) total += e.size();
    Encoding out;
    reserve_encoding(out, total);
    append_specials(out, cls_, 0);
    append_encoding(out, std::move(encs[0]));
    append_specials(out, sep_, 0);
    if (encs.size() == 2) {
      const std::int32_t t = roberta_ ? 0 : 1;
      if (roberta_) append_specials(out, sep_, 0);
      if (!roberta_) encs[1].type_ids.assign(encs[1].size(), 1);
      append_encoding(out, std::move(encs[1]));
      append_specials(out, sep_, t);
    }
    encs.clear();
    encs.push_back(std::move(out));
  }

 private:
  SpecialPiece cls_, sep_;
  bool roberta_, trim_, prefix_;
};

class ByteLevelProcessor final : public PostProcessor {
 public:
  ByteLevelProcessor(bool trim, bool prefix) : trim_(trim), prefix_(prefix) {}
  std::size_t added_tokens(bool) const override { return 0; }
  void process(std::vector<Encoding>& encs, bool) const override {
    for (std::size_t i = 0; i < encs.size(); ++i) {
      if (trim_) trim_byte_level_offsets(encs[i], prefix_);
      set_sequence(encs[i], static_cast<std::int32_t>(i), std::nullopt);
    }
  }

 private:
  bool trim_, prefix_;
};

class ProcessorSequence final : public PostProcessor {
 public:
  explicit ProcessorSequence(std::vector<std::unique_ptr<PostProcessor>> parts)
      : parts_(std::move(parts)) {}
  std::size_t added_tokens(bool is_pair) const override {
    std::size_t n = 0;
    for (const auto& p : parts_) n += p->added_tokens(is_pair);
    return n;
  }
  void process(std::vector<Encoding>& encs, bool add_special) const override {
    for (const auto& p : parts_) p->process(encs, add_special);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

SpecialPiece pair_piece(const Fields& f, std::string_view key) {
  const auto arr = f.array(key);
  std::string_view token;
  std::int64_t id;
  if (arr.size() != 2 || arr.at(0).get(token) || arr.at(1).get(id) || id < 0 || id > INT32_MAX)
    f.fail(key, "must be [token, id] with an id in [0, 2^31)");
  return SpecialPiece{{static_cast<std::int32_t>(id)}, {std::string(token)}};
}

std::vector<Template::Item> template_items(const Fields& f, std::string_view key) {
  std::vector<Template::Item> items;
  for (Json piece : f.array(key)) {
    const Fields p(piece, f.where() + " " + std::string(key));
    const bool seq = p.has("Sequence");
    const Fields body(p.at(seq ? "Sequence" : "SpecialToken"), p.where());
    const std::string id = body.str("id");
    items.push_back({seq, id,
                     static_cast<std::int32_t>(body.integer_in_or("type_id", 0, INT32_MAX, 0)),
                     id == "B" ? std::size_t{1} : std::size_t{0}});
  }
  return items;
}

}  // namespace

void reserve_encoding(Encoding& e, std::size_t n) {
  e.ids.reserve(n);
  e.type_ids.reserve(n);
  e.attention_mask.reserve(n);
  e.special_tokens_mask.reserve(n);
  e.word_ids.reserve(n);
  e.sequence_ids.reserve(n);
  e.offsets.reserve(n);
  e.tokens.reserve(n);
}

void append_encoding(Encoding& a, Encoding&& b) {
  a.ids.insert(a.ids.end(), b.ids.begin(), b.ids.end());
  a.type_ids.insert(a.type_ids.end(), b.type_ids.begin(), b.type_ids.end());
  a.attention_mask.insert(a.attention_mask.end(), b.attention_mask.begin(), b.attention_mask.end());
  a.special_tokens_mask.insert(a.special_tokens_mask.end(), b.special_tokens_mask.begin(),
                               b.special_tokens_mask.end());
  a.word_ids.insert(a.word_ids.end(), b.word_ids.begin(), b.word_ids.end());
  a.sequence_ids.insert(a.sequence_ids.end(), b.sequence_ids.begin(), b.sequence_ids.end());
  a.offsets.insert(a.offsets.end(), b.offsets.begin(), b.offsets.end());
  a.tokens.insert(a.tokens.end(), std::make_move_iterator(b.tokens.begin()),
                  std::make_move_iterator(b.tokens.end()));
}

void trim_byte_level_offsets(Encoding& e, bool add_prefix_space) {
  const char32_t space = byte_to_char(' ');
  auto is_space = [&](char32_t c) { return c == space || is_white_space(c); };
  for (std::size_t i = 0; i < e.size(); ++i) {
    const std::string_view t = e.tokens[i];
    std::size_t lead = 0, trail = 0, run = 0;
    bool leading = true;
    std::size_t k = 0;
    while (k < t.size()) {
      const bool blank = is_space(next_code_point(t, k));
      if (leading && blank) ++lead;
      leading &= blank;
      run = blank ? run + 1 : 0;
    }
    trail = run;
    auto& [start, end] = e.offsets[i];
    if (lead > 0) {
      const bool is_first = i == 0 || start == 0;
      if (is_first && add_prefix_space && lead == 1) lead = 0;
      start = std::min<std::uint32_t>(start + static_cast<std::uint32_t>(lead), end);
    }
    if (trail > 0 && end >= trail)
      end = std::max<std::uint32_t>(end - static_cast<std::uint32_t>(trail), start);
  }
}

std::unique_ptr<PostProcessor> make_bert_processing(std::string sep, std::int32_t sep_id,
                                                    std::string cls, std::int32_t cls_id) {
  return std::make_unique<BertLike>(SpecialPiece{{cls_id}, {std::move(cls)}},
                                    SpecialPiece{{sep_id}, {std::move(sep)}}, false, false, false);
}

std::unique_ptr<PostProcessor> load_post_processor(Json obj) {
  const std::string type = component_type(obj, "post_processor");
  const Fields f(obj, "post_processor " + type);
  if (type == "TemplateProcessing") {
    std::map<std::string, SpecialPiece> sp;
    for (auto [name, value] : f.object("special_tokens")) {
      const Fields s(value, f.where() + " special_tokens");
      SpecialPiece piece;
      for (Json id : s.array("ids")) {
        std::int64_t v;
        if (id.get(v) || v < 0 || v > INT32_MAX) s.fail("ids", "must hold integers in [0, 2^31)");
        piece.ids.push_back(static_cast<std::int32_t>(v));
      }
      for (Json tok : s.array("tokens")) {
        std::string_view v;
        if (tok.get(v)) s.fail("tokens", "must hold strings");
        piece.tokens.emplace_back(v);
      }
      if (piece.ids.size() != piece.tokens.size()) s.fail("ids", "and 'tokens' differ in length");
      sp.emplace(std::string(name), std::move(piece));
    }
    auto single = template_items(f, "single");
    auto pair = template_items(f, "pair");
    for (const auto* list : {&single, &pair}) {
      for (const auto& it : *list) {
        if (it.is_sequence && it.id != "A" && it.id != "B")
          f.fail("single", "uses a sequence other than A or B");
        if (!it.is_sequence && !sp.count(it.id))
          f.fail("special_tokens", "lacks '" + it.id + "' used by the template");
      }
    }
    return std::make_unique<Template>(std::move(single), std::move(pair), std::move(sp));
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    const bool roberta = type == "RobertaProcessing";
    return std::make_unique<BertLike>(pair_piece(f, "cls"), pair_piece(f, "sep"), roberta,
                                      roberta && f.boolean_or("trim_offsets", true),
                                      roberta && f.boolean_or("add_prefix_space", true));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelProcessor>(f.boolean_or("trim_offsets", true),
                                                f.boolean_or("add_prefix_space", true));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PostProcessor>> parts;
    for (Json p : f.array("processors")) parts.push_back(load_post_processor(p));
    return std::make_unique<ProcessorSequence>(std::move(parts));
  }
  throw_unsupported("tokenizer.json: post_processor type '" + type + "' is not supported");
}

}  // namespace rank_rerank::tok
