// Rerank documents from the command line with the C++ API:
//   rerank_example <model dir or HF id> <query> <document>...
// prints one "score<TAB>document" line per document, best first, then the call's statistics.
#include <rank_rerank/error.hpp>
#include <rank_rerank/reranker.hpp>

#include <cstdio>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <model> <query> <document>...\n", argv[0]);
    return 2;
  }
  try {
    rank_rerank::RerankerOptions options;
    options.device = "auto";  // the GPU when there is one
    const auto reranker = rank_rerank::Reranker::from_pretrained(argv[1], options);
    const std::vector<std::string_view> documents(argv + 3, argv + argc);
    rank_rerank::RerankStats stats;
    for (const rank_rerank::RerankHit& hit : reranker.rerank(argv[2], documents, {}, &stats))
      std::printf("%.4f\t%s\n", static_cast<double>(hit.score),
                  argv[3 + static_cast<std::size_t>(hit.index)]);
    std::printf("%s\n", stats.to_json().c_str());
  } catch (const rank_rerank::Error& e) {
    std::fprintf(stderr, "rerank_example: %s\n", e.what());
    return 1;
  }
  return 0;
}
