#include "rank_rerank/tensor.hpp"

#include <string>

#include "rank_rerank/error.hpp"

namespace rank_rerank {

std::string_view dtype_name(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f16: return "float16";
    case DType::bf16: return "bfloat16";
    case DType::i8: return "int8";
    case DType::bit: return "bit";
  }
  return "unknown";
}

std::size_t row_bytes(DType dtype, std::size_t dim) noexcept {
  switch (dtype) {
    case DType::f32: return dim * 4;
    case DType::f16:
    case DType::bf16: return dim * 2;
    case DType::i8: return dim;
    case DType::bit: return (dim + 7) / 8;
  }
  return 0;
}

TokenMatrix TokenMatrix::slice(std::size_t begin, std::size_t end) const noexcept {
  TokenMatrix out = *this;
  out.data = static_cast<const std::uint8_t*>(data) + begin * row_bytes(dtype, dim);
  out.rows = end - begin;
  out.scales = scales ? scales + begin : nullptr;
  return out;
}

namespace {
std::string shape(std::size_t rows, std::size_t dim) {
  // Appended piece by piece: GCC 12 misreports `"[" + std::string&&` under -Wrestrict.
  std::string out = "[";
  out += std::to_string(rows);
  out += ", ";
  out += std::to_string(dim);
  out += "]";
  return out;
}
}  // namespace

void validate(const TokenMatrix& m, std::string_view what) {
  const std::string name(what);
  if (m.dim == 0) throw_invalid(name + ": dimension must be positive, got shape " + shape(m.rows, m.dim));
  if (m.rows > 0 && m.data == nullptr) throw_invalid(name + ": data is null for shape " + shape(m.rows, m.dim));
  if (m.dtype == DType::i8 && m.rows > 0 && m.scales == nullptr)
    throw_invalid(name + ": int8 rows need one scale per row");
  if (m.dtype != DType::i8 && m.scales != nullptr)
    throw_invalid(name + ": scales are only meaningful for int8 rows, got " +
                  std::string(dtype_name(m.dtype)));
}

void validate(const PackedTokens& p, std::string_view what) {
  const std::string name(what);
  validate(p.tokens, name);
  if (p.offsets.empty())
    throw_invalid(name + ": offsets must have n_docs + 1 entries, got an empty array");
  if (p.offsets.front() != 0)
    throw_invalid(name + ": offsets[0] must be 0, got " + std::to_string(p.offsets.front()));
  for (std::size_t i = 1; i < p.offsets.size(); ++i) {
    if (p.offsets[i] < p.offsets[i - 1])
      throw_invalid(name + ": offsets must not decrease, but offsets[" + std::to_string(i) +
                    "] = " + std::to_string(p.offsets[i]) + " < offsets[" + std::to_string(i - 1) +
                    "] = " + std::to_string(p.offsets[i - 1]));
  }
  if (static_cast<std::size_t>(p.offsets.back()) != p.tokens.rows)
    throw_invalid(name + ": offsets end at " + std::to_string(p.offsets.back()) +
                  " but the token matrix has " + std::to_string(p.tokens.rows) + " rows");
}

void validate(const PaddedTokens& p, std::string_view what) {
  const std::string name(what);
  validate(p.tokens, name);
  if (p.tokens.rows != p.n_docs * p.max_len)
    throw_invalid(name + ": padded tokens have " + std::to_string(p.tokens.rows) +
                  " rows, expected n_docs * max_len = " + std::to_string(p.n_docs) + " * " +
                  std::to_string(p.max_len));
  const bool has_lengths = !p.lengths.empty();
  const bool has_mask = !p.mask.empty();
  if (has_lengths == has_mask)
    throw_invalid(name + ": give exactly one of lengths or mask for padded documents");
  if (has_lengths) {
    if (p.lengths.size() != p.n_docs)
      throw_invalid(name + ": lengths has " + std::to_string(p.lengths.size()) +
                    " entries, expected n_docs = " + std::to_string(p.n_docs));
    for (std::size_t i = 0; i < p.n_docs; ++i) {
      if (p.lengths[i] < 0 || static_cast<std::size_t>(p.lengths[i]) > p.max_len)
        throw_invalid(name + ": lengths[" + std::to_string(i) + "] = " +
                      std::to_string(p.lengths[i]) + " is outside [0, " +
                      std::to_string(p.max_len) + "]");
    }
  } else if (p.mask.size() != p.n_docs * p.max_len) {
    throw_invalid(name + ": mask has " + std::to_string(p.mask.size()) +
                  " entries, expected n_docs * max_len = " + std::to_string(p.n_docs * p.max_len));
  }
}

}  // namespace rank_rerank
