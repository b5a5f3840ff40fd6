// What the AVX2 MaxSim tiles can reach on this core: each tile's inner loop as fixed assembly
// (so that the compiler's register allocation plays no part), 2 query vectors x 6 document
// tokens, over L1-resident data, on the calling thread. Prints multiply-adds per nanosecond.
//
//   taskset -c 1 build/release/bench/bench_avx2_tile_mix
//
// float32: the float32 tile (one broadcast per token, two FMAs).
// bf16 in tile: the bf16 pair broadcast and split by a shift and an AND, four FMAs with the
//   query read from memory (the arrangement that would avoid the per-block decode).
// int16: the int8 tile (vpmaddwd + vpaddd per query vector).
// u8 x s8: vpmaddubsw, vpmaddwd by ones, vpaddd per query vector (needs a 7-bit query).

#include <chrono>
#include <cstdint>
#include <cstdio>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

namespace {

constexpr int kDim = 128;
constexpr int kTokens = 6;
constexpr long kReps = 100000;
constexpr double kMacsPerRep = 2.0 * 8 * kTokens * kDim;  // 16 query rows x 6 tokens x 128

// Query columns: per step 64 bytes (2 vectors); document rows 512 bytes apart.
alignas(64) float query_f32[2 * 16 * kDim];
alignas(64) float doc_f32[kTokens * kDim];
alignas(64) std::uint16_t doc_bf16[2 * kTokens * kDim];
alignas(64) std::int16_t query_i16[16 * kDim];
alignas(64) std::int16_t doc_i16[2 * kTokens * kDim];
alignas(64) std::int8_t query_s8[2 * 16 * kDim];
alignas(64) std::uint8_t doc_u8[4 * kTokens * kDim];
alignas(32) const std::int16_t kOnes[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
alignas(32) const std::uint32_t kHighHalf[8] = {0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0000u,
                                                0xffff0000u, 0xffff0000u, 0xffff0000u, 0xffff0000u};

// One token of a tile: sums in ymm<A> (query vector 0) and ymm<B> (query vector 1), the token's
// row at byte offset ROW from %1; ymm12 / ymm13 hold the query vectors, ymm14 / 15 are scratch.
#define RR_FMA_TOKEN(A, B, ROW)            \
  "vbroadcastss " #ROW                     \
  "(%1), %%ymm14\n\t"                      \
  "vfmadd231ps %%ymm14, %%ymm12, %%ymm" #A \
  "\n\t"                                   \
  "vfmadd231ps %%ymm14, %%ymm13, %%ymm" #B "\n\t"
#define RR_I16_TOKEN(A, B, ROW)            \
  "vpbroadcastd " #ROW                     \
  "(%1), %%ymm14\n\t"                      \
  "vpmaddwd %%ymm14, %%ymm12, %%ymm15\n\t" \
  "vpaddd %%ymm15, %%ymm" #A ", %%ymm" #A  \
  "\n\t"                                   \
  "vpmaddwd %%ymm14, %%ymm13, %%ymm15\n\t" \
  "vpaddd %%ymm15, %%ymm" #B ", %%ymm" #B "\n\t"
#define RR_U8_TOKEN(A, B, ROW)               \
  "vpbroadcastd " #ROW                       \
  "(%1), %%ymm14\n\t"                        \
  "vpmaddubsw %%ymm12, %%ymm14, %%ymm15\n\t" \
  "vpmaddwd (%3), %%ymm15, %%ymm15\n\t"      \
  "vpaddd %%ymm15, %%ymm" #A ", %%ymm" #A    \
  "\n\t"                                     \
  "vpmaddubsw %%ymm13, %%ymm14, %%ymm15\n\t" \
  "vpmaddwd (%3), %%ymm15, %%ymm15\n\t"      \
  "vpaddd %%ymm15, %%ymm" #B ", %%ymm" #B "\n\t"
// The query of both dimensions comes from memory: (%0) dimension 2p, 64(%0) dimension 2p + 1.
#define RR_BF16_TOKEN(A, B, ROW)          \
  "vpbroadcastd " #ROW                    \
  "(%1), %%ymm14\n\t"                     \
  "vpslld $16, %%ymm14, %%ymm15\n\t"      \
  "vpand (%3), %%ymm14, %%ymm14\n\t"      \
  "vfmadd231ps (%0), %%ymm15, %%ymm" #A   \
  "\n\t"                                  \
  "vfmadd231ps 32(%0), %%ymm15, %%ymm" #B \
  "\n\t"                                  \
  "vfmadd231ps 64(%0), %%ymm14, %%ymm" #A \
  "\n\t"                                  \
  "vfmadd231ps 96(%0), %%ymm14, %%ymm" #B "\n\t"

#define RR_SIX_TOKENS(TOKEN) \
  TOKEN(0, 6, 0)             \
  TOKEN(1, 7, 512) TOKEN(2, 8, 1024) TOKEN(3, 9, 1536) TOKEN(4, 10, 2048) TOKEN(5, 11, 2560)

// Runs `steps` steps of the tile `kReps` times; each step loads the two query vectors (unless
// the tile reads them from memory), runs six tokens, then advances the query by `query_step`
// and the document by `doc_step` bytes.
#define RR_TILE_LOOP(NAME, LOAD_QUERY, TOKEN, QUERY, DOC, STEPS, QUERY_STEP, DOC_STEP, CONST) \
  __attribute__((target("avx2,fma"))) void NAME() {                                           \
    for (long r = 0; r < kReps; ++r) {                                                        \
      const void* q = QUERY;                                                                  \
      const void* d = DOC;                                                                    \
      long n = STEPS;                                                                         \
      asm volatile("1:\n\t" LOAD_QUERY RR_SIX_TOKENS(TOKEN) "add $" #QUERY_STEP               \
                                                            ", %0\n\t"                        \
                                                            "add $" #DOC_STEP                 \
                                                            ", %1\n\t"                        \
                                                            "dec %2\n\t"                      \
                                                            "jnz 1b"                          \
                   : "+r"(q), "+r"(d), "+r"(n)                                                \
                   : "r"(CONST)                                                               \
                   : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",  \
                     "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",     \
                     "xmm15");                                                                \
    }                                                                                         \
  }

#define RR_LOAD_F32 "vmovaps (%0), %%ymm12\n\tvmovaps 32(%0), %%ymm13\n\t"
#define RR_LOAD_INT "vmovdqa (%0), %%ymm12\n\tvmovdqa 32(%0), %%ymm13\n\t"

// clang-format off: one tile per line (macro invocations defining functions).
RR_TILE_LOOP(float32_tile, RR_LOAD_F32, RR_FMA_TOKEN, query_f32, doc_f32, kDim, 64, 4, kOnes)
RR_TILE_LOOP(bf16_tile, "", RR_BF16_TOKEN, query_f32, doc_bf16, kDim / 2, 128, 4, kHighHalf)
RR_TILE_LOOP(int16_tile, RR_LOAD_INT, RR_I16_TOKEN, query_i16, doc_i16, kDim / 2, 64, 4, kOnes)
RR_TILE_LOOP(u8_tile, RR_LOAD_INT, RR_U8_TOKEN, query_s8, doc_u8, kDim / 4, 64, 4, kOnes)
// clang-format on

// Best of 7 runs, in multiply-adds per nanosecond.
double rate(void (*tile)()) {
  double best = 1e300;
  for (int i = 0; i < 7; ++i) {
    const auto start = std::chrono::steady_clock::now();
    tile();
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    if (ns < best) best = ns;
  }
  return kMacsPerRep * kReps / best;
}

// Small finite values: subnormal floats would take microcode assists on Intel cores.
void fill_inputs() {
  for (int i = 0; i < 2 * 16 * kDim; ++i) query_f32[i] = 0.01f * static_cast<float>(i % 13 - 6);
  for (int i = 0; i < kTokens * kDim; ++i) doc_f32[i] = 0.02f * static_cast<float>(i % 11 - 5);
  for (int i = 0; i < 2 * kTokens * kDim; ++i)
    doc_bf16[i] = static_cast<std::uint16_t>(0x3c00 + (i * 13) % 0x300);
  for (int i = 0; i < 16 * kDim; ++i) query_i16[i] = static_cast<std::int16_t>(i % 255 - 127);
  for (int i = 0; i < 2 * kTokens * kDim; ++i)
    doc_i16[i] = static_cast<std::int16_t>((i * 7) % 255 - 127);
  for (int i = 0; i < 2 * 16 * kDim; ++i) query_s8[i] = static_cast<std::int8_t>(i % 127 - 63);
  for (int i = 0; i < 4 * kTokens * kDim; ++i)
    doc_u8[i] = static_cast<std::uint8_t>((i * 11) % 256);
}

}  // namespace

int main() {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    std::fprintf(stderr, "bench_avx2_tile_mix: this CPU has no AVX2 + FMA\n");
    return 1;
  }
  fill_inputs();
  std::printf("%-28s %s\n", "tile (2 vectors x 6 tokens)", "multiply-adds per ns, two rounds");
  struct Tile {
    const char* name;
    void (*run)();
  };
  for (const Tile& tile : {Tile{"float32", float32_tile}, Tile{"bf16 in tile", bf16_tile},
                           Tile{"int16 vpmaddwd", int16_tile}, Tile{"u8 x s8 vpmaddubsw", u8_tile}})
    std::printf("%-28s %6.1f %6.1f\n", tile.name, rate(tile.run), rate(tile.run));
  return 0;
}

#else

int main() {
  std::fprintf(stderr, "bench_avx2_tile_mix: x86-64 with GCC or clang only\n");
  return 1;
}

#endif
