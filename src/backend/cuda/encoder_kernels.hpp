// Launchers of the CUDA encoder kernels (encoder_kernels.cu, encoder_attention.cu, copy_rows.cu).
// Plain C++17 with raw device pointers so the C++20 backend class (cuda_backend.cpp) and the CUDA
// C++17 kernels meet on a narrow interface. Every launcher enqueues on `stream` and returns at
// once; element pointers hold `Element` values, statistics are always computed in f32.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace rank_rerank::backend::cuda {

enum class Element : std::uint8_t { f32, f16, bf16 };

// Same order as backend::Activation and backend::Pooling (checked in cuda_backend.cpp).
enum class ActivationCode : std::uint8_t { identity, gelu_erf, gelu_tanh, relu, tanh, sigmoid };
enum class PoolingCode : std::uint8_t { cls, mean, max, mean_sqrt_len, last_token };

// out[t] = LayerNorm(word[ids[t]] + position[positions[t]] + token_type[type_ids[t]]);
// token_type may be null.
void embed_layernorm(Element e, cudaStream_t stream, const std::int32_t* ids,
                     const std::int32_t* type_ids, const std::int32_t* positions, const void* word,
                     const void* position, const void* token_type, const void* gamma,
                     const void* beta, std::size_t tokens, std::size_t hidden, float eps,
                     void* out);

// x = LayerNorm(x + residual), row by row.
void add_layernorm(Element e, cudaStream_t stream, void* x, const void* residual, const void* gamma,
                   const void* beta, std::size_t rows, std::size_t cols, float eps);

// y = act(y + bias) in place; bias may be null.
void bias_activation(Element e, cudaStream_t stream, void* y, const void* bias, std::size_t rows,
                     std::size_t cols, ActivationCode activation);

// y += x over n values.
void add(Element e, cudaStream_t stream, void* y, const void* x, std::size_t n);

// One row per sequence into out[s * out_stride + c]; offsets (device) has sequences + 1 entries.
void pool(Element e, cudaStream_t stream, const void* x, std::size_t cols,
          const std::int64_t* offsets, std::size_t sequences, PoolingCode mode, void* out,
          std::size_t out_stride);

// Each row divided by max(norm, 1e-12).
void l2_normalize_rows(Element e, cudaStream_t stream, void* x, std::size_t rows, std::size_t cols);

// destination row to[i] = source row from[i] for i < pairs (from / to: device arrays); rows of
// row_bytes bytes, a multiple of 2 (f32, f16 and bf16 rows alike).
void copy_rows(cudaStream_t stream, const void* source, const std::int64_t* from, void* destination,
               const std::int64_t* to, std::size_t pairs, std::size_t row_bytes);

void convert_from_f32(Element e, cudaStream_t stream, const float* source, std::size_t n,
                      void* destination);
void convert_to_f32(Element e, cudaStream_t stream, const void* source, std::size_t n,
                    float* destination);

// One unit of attention work: `rows` query rows starting at token `first_row` of sequence
// `sequence`. The backend lists only tiles that hold real tokens.
struct AttentionTile {
  std::int32_t sequence;
  std::int32_t first_row;
};

struct AttentionArgs {
  const void* qkv = nullptr;                  // [tokens, 3 * heads * head_dim]
  void* out = nullptr;                        // [tokens, heads * head_dim]
  const std::int64_t* offsets = nullptr;      // device, sequences + 1
  const std::int64_t* key_lengths = nullptr;  // device, per sequence; null: whole sequences
  const AttentionTile* tiles = nullptr;       // device
  std::size_t tile_count = 0;
  std::size_t heads = 0;
  std::size_t head_dim = 0;
};

// Whether attention() takes the tensor-core path (f16 / bf16, head_dim 32, 64 or 128, 16-byte
// aligned rows), and the query rows per tile it then expects.
bool attention_uses_tensor_cores(Element e, std::size_t head_dim, std::size_t hidden,
                                 const void* qkv);
std::size_t attention_tile_rows(bool tensor_cores);
// Largest head_dim attention() accepts.
constexpr std::size_t kMaxHeadDim = 256;

// Multi-head attention over packed sequences with online softmax (never materialising the
// score matrix in device memory). f16 / bf16 with head_dim 32, 64 or 128 use tensor cores.
void attention(Element e, cudaStream_t stream, const AttentionArgs& args);

}  // namespace rank_rerank::backend::cuda
