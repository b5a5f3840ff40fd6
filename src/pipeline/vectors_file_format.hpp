// Constants of the document vectors file (docs/formats.md), shared by its reader and writer.
#pragma once

#include <string_view>

namespace rank_rerank::pipeline::vectors_file {

inline constexpr std::string_view kFormat = "rank-rerank/document-vectors";
inline constexpr std::string_view kVersion = "1";

}  // namespace rank_rerank::pipeline::vectors_file
