// Decoders: WordPiece, ByteLevel, Metaspace, BPEDecoder, Replace, Strip, Fuse, ByteFallback,
// Sequence. Each rewrites the token strings; the caller concatenates them.
#include <cstdint>

#include "tokenizer/components.hpp"
#include "tokenizer/processing.hpp"
#include "tokenizer/unicode_text.hpp"

namespace rank_rerank::tok {
namespace {

// Built into a new string: in-place std::string::replace trips GCC 12's -Wrestrict at -O3.
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::size_t p = s.find(from);
  if (p == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  std::size_t last = 0;
  for (; p != std::string::npos; p = s.find(from, last)) {
    out.append(s, last, p - last);
    out.append(to);
    last = p + from.size();
  }
  out.append(s, last, std::string::npos);
  s = std::move(out);
}

void cleanup(std::string& s) {
  for (auto [a, b] : {std::pair{" .", "."},
                      {" ?", "?"},
                      {" !", "!"},
                      {" ,", ","},
                      {" ' ", "'"},
                      {" n't", "n't"},
                      {" 'm", "'m"},
                      {" do not", " don't"},
                      {" 's", "'s"},
                      {" 've", "'ve"},
                      {" 're", "'re"}}) {
    replace_all(s, a, b);
  }
}

class WordPieceDecoder final : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool clean) : prefix_(std::move(prefix)), clean_(clean) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (i != 0) {
        if (t.compare(0, prefix_.size(), prefix_) == 0) {
          t.erase(0, prefix_.size());
        } else {
          std::string spaced;
          spaced.reserve(t.size() + 1);
          spaced.push_back(' ');
          spaced += t;
          t = std::move(spaced);
        }
      }
      if (clean_) cleanup(t);
    }
  }

 private:
  std::string prefix_;
  bool clean_;
};

class ByteLevelDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& t : tokens) {
      std::size_t i = 0;
      while (i < t.size()) {
        const std::size_t start = i;
        const int b = char_to_byte(next_code_point(t, i));
        if (b >= 0) {
          bytes.push_back(static_cast<char>(b));
        } else {
          bytes.append(t, start, i - start);
        }
      }
    }
    std::string text;
    sanitize_utf8(bytes, text);
    tokens.assign(1, text);
  }
};

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string rep, bool prepend) : rep_(std::move(rep)), prepend_(prepend) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      replace_all(tokens[i], rep_, " ");
      if (i == 0 && prepend_ && !tokens[i].empty() && tokens[i][0] == ' ') tokens[i].erase(0, 1);
    }
  }

 private:
  std::string rep_;
  bool prepend_;
};

class BpeDecoder final : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i)
      replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
  }

 private:
  std::string suffix_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) replace_all(t, from_, to_);
  }

 private:
  std::string from_, to_;
};

class StripDecoder final : public Decoder {
 public:
  StripDecoder(std::string content, std::size_t start, std::size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      for (std::size_t k = 0;
           k < start_ && t.compare(0, content_.size(), content_) == 0 && !content_.empty(); ++k)
        t.erase(0, content_.size());
      for (std::size_t k = 0; k < stop_ && !content_.empty() && t.size() >= content_.size() &&
                              t.compare(t.size() - content_.size(), content_.size(), content_) == 0;
           ++k)
        t.erase(t.size() - content_.size());
    }
  }

 private:
  std::string content_;
  std::size_t start_, stop_;
};

class FuseDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    tokens.assign(1, all);
  }
};

// The byte of a "<0xHH>" token: two hex digits, or '+' and one (Rust's u8::from_str_radix, which
// `tokenizers` uses, accepts a leading plus sign). -1 when it is not one.
int fallback_byte(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (t[3] == '+') return hex(t[4]);
  const int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

class ByteFallbackDecoder final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string bytes;
    std::size_t pending = 0;
    auto flush = [&] {
      if (pending == 0) return;
      std::string text;
      if (sanitize_utf8(bytes, text)) {
        out.push_back(text);
      } else {
        for (std::size_t k = 0; k < pending; ++k) out.emplace_back("\xEF\xBF\xBD");
      }
      bytes.clear();
      pending = 0;
    };
    for (const std::string& t : tokens) {
      if (const int b = fallback_byte(t); b >= 0) {
        bytes.push_back(static_cast<char>(b));
        ++pending;
      } else {
        flush();
        out.push_back(t);
      }
    }
    flush();
    tokens = std::move(out);
  }
};

class DecoderSequence final : public Decoder {
 public:
  explicit DecoderSequence(std::vector<std::unique_ptr<Decoder>> parts)
      : parts_(std::move(parts)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

std::unique_ptr<Decoder> make_wordpiece_decoder() {
  return std::make_unique<WordPieceDecoder>("##", true);
}

std::unique_ptr<Decoder> load_decoder(Json obj) {
  const std::string type = component_type(obj, "decoder");
  const Fields f(obj, "decoder " + type);
  if (type == "WordPiece")
    return std::make_unique<WordPieceDecoder>(f.str_or("prefix", "##"),
                                              f.boolean_or("cleanup", true));
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") {
    return std::make_unique<MetaspaceDecoder>(f.str_or("replacement", "\xE2\x96\x81"),
                                              f.str_or("prepend_scheme", "always") != "never");
  }
  if (type == "BPEDecoder") return std::make_unique<BpeDecoder>(f.str_or("suffix", "</w>"));
  if (type == "Replace") {
    const Fields pattern(f.at("pattern"), f.where() + " pattern");
    return std::make_unique<ReplaceDecoder>(pattern.str("String"), f.str("content"));
  }
  if (type == "Strip") {
    return std::make_unique<StripDecoder>(
        f.str("content"), static_cast<std::size_t>(f.integer_in_or("start", 0, INT32_MAX, 0)),
        static_cast<std::size_t>(f.integer_in_or("stop", 0, INT32_MAX, 0)));
  }
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> parts;
    for (Json d : f.array("decoders")) parts.push_back(load_decoder(d));
    return std::make_unique<DecoderSequence>(std::move(parts));
  }
  throw_unsupported("tokenizer.json: decoder type '" + type + "' is not supported");
}

}  // namespace rank_rerank::tok
