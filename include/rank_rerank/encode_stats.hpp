// What one encoder call did, for performance monitoring (the Reranker's per-call statistics are
// built from it). Every encoder call takes an optional EncodeStats* and adds to it.
#pragma once

#include <cstddef>
#include <vector>

namespace rank_rerank {

struct EncodeStats {
  std::size_t texts = 0;   // texts (or pairs) encoded
  std::size_t tokens = 0;  // their tokens after truncation, special tokens included
  double tokenize_ms = 0;  // wall-clock time the call spent tokenizing or waiting for the
                           // tokenizer (GPU encoders tokenize ahead on a thread of their own)
  double encode_ms = 0;    // forward passes, heads and the copy of the results to host memory
                           // (score_candidates: until the device finished them; nothing copied)
  double score_ms = 0;     // score_candidates: MaxSim and the scores' copy to host memory
  // One entry per forward pass as it ran (a pass split after running out of device memory counts
  // as its halves).
  std::vector<std::size_t> batch_texts;
  std::vector<std::size_t> batch_tokens;
};

}  // namespace rank_rerank
