#include "io/weight_dtype.hpp"

#include <array>
#include <utility>

namespace rank_rerank {
namespace {

struct DTypeInfo {
  WeightDType dtype;
  std::string_view name;
  std::size_t bits;
};

// In enum order, so the table can be indexed by the enumerator.
constexpr std::array<DTypeInfo, 22> kDTypes{{
    {WeightDType::boolean, "BOOL", 8},
    {WeightDType::u8, "U8", 8},
    {WeightDType::i8, "I8", 8},
    {WeightDType::i16, "I16", 16},
    {WeightDType::u16, "U16", 16},
    {WeightDType::i32, "I32", 32},
    {WeightDType::u32, "U32", 32},
    {WeightDType::i64, "I64", 64},
    {WeightDType::u64, "U64", 64},
    {WeightDType::f16, "F16", 16},
    {WeightDType::bf16, "BF16", 16},
    {WeightDType::f32, "F32", 32},
    {WeightDType::f64, "F64", 64},
    {WeightDType::c64, "C64", 64},
    {WeightDType::f8_e4m3, "F8_E4M3", 8},
    {WeightDType::f8_e5m2, "F8_E5M2", 8},
    {WeightDType::f8_e8m0, "F8_E8M0", 8},
    {WeightDType::f8_e4m3fnuz, "F8_E4M3FNUZ", 8},
    {WeightDType::f8_e5m2fnuz, "F8_E5M2FNUZ", 8},
    {WeightDType::f4, "F4", 4},
    {WeightDType::f6_e2m3, "F6_E2M3", 6},
    {WeightDType::f6_e3m2, "F6_E3M2", 6},
}};

constexpr bool table_follows_enum_order() {
  for (std::size_t i = 0; i < kDTypes.size(); ++i)
    if (kDTypes[i].dtype != static_cast<WeightDType>(i)) return false;
  return true;
}
static_assert(table_follows_enum_order());

const DTypeInfo& info(WeightDType dtype) noexcept {
  return kDTypes[static_cast<std::size_t>(dtype)];
}

}  // namespace

std::string_view weight_dtype_name(WeightDType dtype) noexcept { return info(dtype).name; }
std::size_t weight_dtype_bits(WeightDType dtype) noexcept { return info(dtype).bits; }

namespace io {

std::optional<WeightDType> weight_dtype_from_name(std::string_view name) noexcept {
  for (const DTypeInfo& d : kDTypes)
    if (d.name == name) return d.dtype;
  return std::nullopt;
}

std::string weight_dtype_names() {
  std::string names;
  for (const DTypeInfo& d : kDTypes) {
    if (!names.empty()) names += ", ";
    names += d.name;
  }
  return names;
}

std::size_t weight_dtype_alignment(WeightDType dtype) noexcept {
  // Complex numbers are two floats: float alignment suffices.
  if (dtype == WeightDType::c64) return 4;
  const std::size_t bits = weight_dtype_bits(dtype);
  return bits < 8 ? 1 : bits / 8;
}

std::string shape_string(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace io
}  // namespace rank_rerank
