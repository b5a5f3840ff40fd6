#include "io/pickle_vocabulary.hpp"

#include <array>
#include <utility>

namespace rank_rerank::io {
namespace {

// Every pickle opcode (protocols 0-5) by byte, so refusals can name what they refuse.
constexpr std::array<std::pair<unsigned char, std::string_view>, 68> kOpcodeNames{{
    {'(', "MARK"},
    {'.', "STOP"},
    {'0', "POP"},
    {'1', "POP_MARK"},
    {'2', "DUP"},
    {'F', "FLOAT"},
    {'I', "INT"},
    {'J', "BININT"},
    {'K', "BININT1"},
    {'L', "LONG"},
    {'M', "BININT2"},
    {'N', "NONE"},
    {'P', "PERSID"},
    {'Q', "BINPERSID"},
    {'R', "REDUCE"},
    {'S', "STRING"},
    {'T', "BINSTRING"},
    {'U', "SHORT_BINSTRING"},
    {'V', "UNICODE"},
    {'X', "BINUNICODE"},
    {'a', "APPEND"},
    {'b', "BUILD"},
    {'c', "GLOBAL"},
    {'d', "DICT"},
    {'}', "EMPTY_DICT"},
    {'e', "APPENDS"},
    {'g', "GET"},
    {'h', "BINGET"},
    {'i', "INST"},
    {'j', "LONG_BINGET"},
    {'l', "LIST"},
    {']', "EMPTY_LIST"},
    {'o', "OBJ"},
    {'p', "PUT"},
    {'q', "BINPUT"},
    {'r', "LONG_BINPUT"},
    {'s', "SETITEM"},
    {'t', "TUPLE"},
    {')', "EMPTY_TUPLE"},
    {'u', "SETITEMS"},
    {'G', "BINFLOAT"},
    {0x80, "PROTO"},
    {0x81, "NEWOBJ"},
    {0x82, "EXT1"},
    {0x83, "EXT2"},
    {0x84, "EXT4"},
    {0x85, "TUPLE1"},
    {0x86, "TUPLE2"},
    {0x87, "TUPLE3"},
    {0x88, "NEWTRUE"},
    {0x89, "NEWFALSE"},
    {0x8a, "LONG1"},
    {0x8b, "LONG4"},
    {'B', "BINBYTES"},
    {'C', "SHORT_BINBYTES"},
    {0x8c, "SHORT_BINUNICODE"},
    {0x8d, "BINUNICODE8"},
    {0x8e, "BINBYTES8"},
    {0x8f, "EMPTY_SET"},
    {0x90, "ADDITEMS"},
    {0x91, "FROZENSET"},
    {0x92, "NEWOBJ_EX"},
    {0x93, "STACK_GLOBAL"},
    {0x94, "MEMOIZE"},
    {0x95, "FRAME"},
    {0x96, "BYTEARRAY8"},
    {0x97, "NEXT_BUFFER"},
    {0x98, "READONLY_BUFFER"},
}};

}  // namespace

std::string opcode_label(unsigned char op) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string label = "0x";
  label += kHex[op >> 4];
  label += kHex[op & 0xf];
  for (const auto& [code, name] : kOpcodeNames)
    if (code == op) return std::string(name) + " (" + label + ")";
  return "unknown opcode " + label;
}

namespace {

// The torch storage types a state dict's persistent ids name, and their element types.
constexpr std::array<std::pair<std::string_view, WeightDType>, 10> kStorageTypes{{
    {"torch.FloatStorage", WeightDType::f32},
    {"torch.HalfStorage", WeightDType::f16},
    {"torch.BFloat16Storage", WeightDType::bf16},
    {"torch.DoubleStorage", WeightDType::f64},
    {"torch.LongStorage", WeightDType::i64},
    {"torch.IntStorage", WeightDType::i32},
    {"torch.ShortStorage", WeightDType::i16},
    {"torch.CharStorage", WeightDType::i8},
    {"torch.ByteStorage", WeightDType::u8},
    {"torch.BoolStorage", WeightDType::boolean},
}};

constexpr std::array<std::pair<std::string_view, PickleCallable>, 4> kCallables{{
    {"collections.OrderedDict", PickleCallable::ordered_dict},
    {"torch._utils._rebuild_tensor_v2", PickleCallable::rebuild_tensor_v2},
    {"torch._utils._rebuild_parameter", PickleCallable::rebuild_parameter},
    {"torch._utils._rebuild_parameter_with_state", PickleCallable::rebuild_parameter_with_state},
}};

}  // namespace

std::optional<PickleCallable> allowed_callable(std::string_view qualified_name) noexcept {
  for (const auto& [name, callable] : kCallables)
    if (name == qualified_name) return callable;
  return std::nullopt;
}

std::optional<WeightDType> torch_storage_dtype(std::string_view qualified_name) noexcept {
  for (const auto& [name, dtype] : kStorageTypes)
    if (name == qualified_name) return dtype;
  return std::nullopt;
}

}  // namespace rank_rerank::io
