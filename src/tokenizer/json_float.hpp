// JSON numbers read the way `tokenizers` reads them. Its serde_json is built without the
// `float_roundtrip` feature, so a decimal is turned into a double by converting the (at most 19
// digit) significand to double and then multiplying or dividing by one power of ten: two roundings
// instead of one, which is off by one unit in the last place for about a fifth of the Unigram
// scores written with 17 digits. Exact ties between Viterbi paths then resolve differently, so the
// Unigram model parses its scores this way too.
#pragma once

#include <optional>
#include <string_view>

namespace rank_rerank::tok {

// The double serde_json (default features) gives for a JSON number token; nullopt where it reports
// a number out of range.
std::optional<double> parse_json_number_like_serde(std::string_view token);

}  // namespace rank_rerank::tok
