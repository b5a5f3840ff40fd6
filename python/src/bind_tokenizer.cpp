// Python binding of rank_rerank::Tokenizer: thin conversions, GIL released around encoding.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "convert.hpp"
#include "rank_rerank/tokenizer.hpp"

namespace rank_rerank::python {

namespace {

nb::dict encoding_dict(Encoding&& e) {
  nb::dict d;
  std::vector<std::int64_t> offsets;
  offsets.reserve(e.size() * 2);
  for (auto [a, b] : e.offsets) {
    offsets.push_back(a);
    offsets.push_back(b);
  }
  const std::size_t n = e.size();
  d["tokens"] = nb::cast(e.tokens);
  d["ids"] = to_numpy(std::move(e.ids));
  d["type_ids"] = to_numpy(std::move(e.type_ids));
  d["attention_mask"] = to_numpy(std::move(e.attention_mask));
  d["special_tokens_mask"] = to_numpy(std::move(e.special_tokens_mask));
  d["word_ids"] = to_numpy(std::move(e.word_ids));
  d["offsets"] = to_numpy(std::move(offsets), {n, 2});
  return d;
}

// The batch as numpy arrays, built in C++ so the cost per text stays there. Padded batches (all
// rows of one length) are 2-D (n, L); otherwise every array is the rows concatenated, and `lengths`
// splits them (np.split(ids, np.cumsum(lengths)[:-1])).
nb::dict batch_dict(const std::vector<Encoding>& out, bool padded) {
  const std::size_t n = out.size();
  std::size_t total = 0;
  bool rectangular = padded;
  for (const Encoding& e : out) {
    total += e.size();
    rectangular &= e.size() == out.front().size();
  }
  std::vector<std::int32_t> ids, types, mask, special, words;
  std::vector<std::int64_t> offsets, lengths(n);
  for (auto* v : {&ids, &types, &mask, &special, &words}) v->reserve(total);
  offsets.reserve(total * 2);
  for (std::size_t r = 0; r < n; ++r) {
    const Encoding& e = out[r];
    lengths[r] = static_cast<std::int64_t>(e.size());
    ids.insert(ids.end(), e.ids.begin(), e.ids.end());
    types.insert(types.end(), e.type_ids.begin(), e.type_ids.end());
    mask.insert(mask.end(), e.attention_mask.begin(), e.attention_mask.end());
    special.insert(special.end(), e.special_tokens_mask.begin(), e.special_tokens_mask.end());
    words.insert(words.end(), e.word_ids.begin(), e.word_ids.end());
    for (auto [a, b] : e.offsets) {
      offsets.push_back(a);
      offsets.push_back(b);
    }
  }
  const std::size_t width = n > 0 && rectangular ? out.front().size() : 0;
  auto shaped = [&](std::vector<std::int32_t>&& v) {
    return rectangular && n > 0 ? to_numpy(std::move(v), {n, width}) : to_numpy(std::move(v));
  };
  nb::dict d;
  d["ids"] = shaped(std::move(ids));
  d["type_ids"] = shaped(std::move(types));
  d["attention_mask"] = shaped(std::move(mask));
  d["special_tokens_mask"] = shaped(std::move(special));
  d["word_ids"] = shaped(std::move(words));
  d["offsets"] = rectangular && n > 0 ? to_numpy(std::move(offsets), {n, width, 2})
                                      : to_numpy(std::move(offsets), {total, 2});
  d["lengths"] = to_numpy(std::move(lengths));
  return d;
}

EncodeOptions make_options(bool add_special_tokens, std::optional<std::size_t> max_length,
                           const std::string& strategy, std::optional<bool> pad,
                           std::optional<std::size_t> pad_length, std::size_t pad_to_multiple_of,
                           int num_threads) {
  EncodeOptions o;
  o.add_special_tokens = add_special_tokens;
  o.num_threads = num_threads;
  if (max_length) {
    TruncationOptions t;
    t.max_length = *max_length;
    if (strategy == "only_first") {
      t.strategy = TruncationStrategy::only_first;
    } else if (strategy == "only_second") {
      t.strategy = TruncationStrategy::only_second;
    } else if (strategy != "longest_first") {
      throw_invalid("truncation: strategy must be longest_first, only_first or only_second, got '" +
                    strategy + "'");
    }
    o.truncation = std::optional<TruncationOptions>(t);
  }
  if (pad && !*pad) o.padding = std::optional<PaddingOptions>();
  if (pad && *pad) {
    PaddingOptions p;
    p.max_length = pad_length;
    p.pad_to_multiple_of = pad_to_multiple_of;
    o.padding = std::optional<PaddingOptions>(p);
  }
  return o;
}

}  // namespace

void bind_tokenizer(nb::module_& m) {
  nb::class_<Tokenizer>(
      m, "Tokenizer",
      "Tokenizer reading Hugging Face tokenizer.json; same ids and offsets as `tokenizers`. "
      "Offsets are code-point indices into the given str.")
      .def_static("from_file", &Tokenizer::from_file, nb::arg("path"),
                  "Load tokenizer.json (or a BERT vocab.txt).")
      .def_static("from_pretrained", &Tokenizer::from_pretrained, nb::arg("directory"),
                  "Load from a local model directory.")
      .def_static(
          "from_str", [](const std::string& json) { return Tokenizer::from_json(json); },
          nb::arg("json"))
      .def(
          "encode",
          [](const Tokenizer& t, const std::string& text, std::optional<std::string> pair,
             bool add_special_tokens) {
            EncodeOptions o;
            o.add_special_tokens = add_special_tokens;
            Encoding e;
            {
              nb::gil_scoped_release release;
              e = pair ? t.encode_pair(text, *pair, o) : t.encode(text, o);
            }
            return encoding_dict(std::move(e));
          },
          nb::arg("text"), nb::arg("pair") = nb::none(), nb::arg("add_special_tokens") = true,
          "Encode one text (or pair); returns a dict of numpy arrays (offsets shape (n, 2)) and "
          "tokens.")
      .def(
          "encode_batch",
          [](const Tokenizer& t, const std::vector<std::string>& texts,
             std::optional<std::vector<std::string>> pairs, bool add_special_tokens,
             std::optional<std::size_t> max_length, const std::string& truncation_strategy,
             std::optional<bool> padding, std::optional<std::size_t> pad_length,
             std::size_t pad_to_multiple_of, int num_threads) {
            const EncodeOptions o =
                make_options(add_special_tokens, max_length, truncation_strategy, padding,
                             pad_length, pad_to_multiple_of, num_threads);
            std::vector<Encoding> out;
            {
              nb::gil_scoped_release release;
              std::vector<std::string_view> tv(texts.begin(), texts.end()), pv;
              if (pairs) pv.assign(pairs->begin(), pairs->end());
              out = t.encode_batch(tv, pv, o);
            }
            return batch_dict(out, padding ? *padding : t.padding().has_value());
          },
          nb::arg("texts"), nb::arg("pairs") = nb::none(), nb::arg("add_special_tokens") = true,
          nb::arg("max_length") = nb::none(), nb::arg("truncation_strategy") = "longest_first",
          nb::arg("padding") = nb::none(), nb::arg("pad_length") = nb::none(),
          nb::arg("pad_to_multiple_of") = 0, nb::arg("num_threads") = 0,
          "Encode many texts (optionally pairs) across threads. padding: None keeps the "
          "tokenizer.json setting, True pads (to pad_length, else the longest row), False does "
          "not. "
          "Returns a dict of numpy arrays: padded batches are 2-D (n, L), offsets (n, L, 2); "
          "otherwise each array holds the rows one after another (offsets (total, 2)) and "
          "`lengths` gives each row's length.")
      .def("decode", &Tokenizer::decode, nb::arg("ids"), nb::arg("skip_special_tokens") = true)
      .def("token_to_id", &Tokenizer::token_to_id, nb::arg("token"))
      .def_prop_ro("vocab_size", &Tokenizer::vocab_size);
}

}  // namespace rank_rerank::python
