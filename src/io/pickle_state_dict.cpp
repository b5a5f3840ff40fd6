#include "io/pickle_state_dict.hpp"

#include <memory>
#include <set>
#include <unordered_map>
#include <utility>

#include "io/pickle_vocabulary.hpp"
#include "rank_rerank/error.hpp"

namespace rank_rerank::io {
namespace {

// Nesting deeper than this is not a state dict; the bound also keeps destruction shallow.
constexpr int kMaxDepth = 64;

enum class Kind {
  none,
  boolean,
  integer,
  floating,
  string,
  tuple,
  list,
  dict,
  callable,
  storage_type,
  storage,
  tensor
};

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::none:
      return "None";
    case Kind::boolean:
      return "bool";
    case Kind::integer:
      return "int";
    case Kind::floating:
      return "float";
    case Kind::string:
      return "str";
    case Kind::tuple:
      return "tuple";
    case Kind::list:
      return "list";
    case Kind::dict:
      return "dict";
    case Kind::callable:
      return "function";
    case Kind::storage_type:
      return "storage type";
    case Kind::storage:
      return "storage";
    case Kind::tensor:
      return "tensor";
  }
  return "value";
}

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
  Kind kind = Kind::none;
  // Set once the value is inside a container or consumed as an argument: from then on it may not
  // change, which makes reference cycles impossible.
  bool frozen = false;
  int depth = 0;
  std::int64_t integer = 0;     // int, bool
  std::string text;             // str
  std::vector<ValuePtr> items;  // tuple, list; dict as key, value, key, value, ...
  PickleCallable callable = PickleCallable::ordered_dict;
  PickledTensor tensor;  // storage: storage_key, dtype, storage_numel; tensor: all fields
};

ValuePtr make(Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (extra > s.size() - i - 1) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3f);
    }
    constexpr std::uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[extra] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
      return false;
    i += extra + 1;
  }
  return true;
}

class Machine {
 public:
  Machine(std::span<const std::byte> input, std::string_view source)
      : in_(input), source_(source) {}

  ValuePtr run() {
    while (true) {
      op_at_ = pos_;
      const unsigned char op = byte();
      if (op == '.') {
        if (!marks_.empty()) fail("STOP inside an open MARK");
        return pop();
      }
      step(op);
    }
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw_invalid(std::string(source_) + ": byte " + std::to_string(op_at_) + ": " + message);
  }

 private:
  // ---- input ----
  std::span<const std::byte> take(std::uint64_t n) {
    if (n > in_.size() - pos_) fail("pickle ends in the middle of " + opcode_label(current_op()));
    const auto out = in_.subspan(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }
  unsigned char current_op() const { return std::to_integer<unsigned char>(in_[op_at_]); }
  unsigned char byte() {
    if (pos_ >= in_.size()) fail("pickle ends without STOP: truncated");
    return std::to_integer<unsigned char>(in_[pos_++]);
  }
  std::uint64_t little_endian(int width) {
    const auto bytes = take(static_cast<std::uint64_t>(width));
    std::uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i)
      v = (v << 8) | std::to_integer<std::uint64_t>(bytes[static_cast<std::size_t>(i)]);
    return v;
  }
  std::string text(std::uint64_t n) {
    const auto bytes = take(n);
    std::string s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    if (!valid_utf8(s)) fail("string is not valid UTF-8");
    return s;
  }
  std::string line() {
    std::string s;
    while (true) {
      const unsigned char c = byte();
      if (c == '\n') return s;
      s += static_cast<char>(c);
    }
  }

  // ---- stack ----
  std::size_t frame_start() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr pop() {
    if (stack_.size() <= frame_start()) fail(opcode_label(current_op()) + " on an empty stack");
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  ValuePtr& top() {
    if (stack_.size() <= frame_start()) fail(opcode_label(current_op()) + " on an empty stack");
    return stack_.back();
  }
  std::vector<ValuePtr> pop_to_mark() {
    if (marks_.empty()) fail(opcode_label(current_op()) + " without a MARK");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(
        std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
        std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }

  // ---- containers ----
  void adopt(Value& container, const ValuePtr& child) {
    if (child.get() == &container) fail("a container cannot contain itself");
    child->frozen = true;
    if (child->depth + 1 > kMaxDepth) fail("values nest deeper than " + std::to_string(kMaxDepth));
    container.depth = std::max(container.depth, child->depth + 1);
    container.items.push_back(child);
  }
  ValuePtr tuple(std::vector<ValuePtr> items) {
    ValuePtr t = make(Kind::tuple);
    for (const ValuePtr& item : items) adopt(*t, item);
    return t;
  }
  Value& mutable_container(Kind kind) {
    Value& c = *top();
    if (c.kind != kind)
      fail(opcode_label(current_op()) + " on a value of type " + std::string(kind_name(c.kind)) +
           ", " + std::string(kind_name(kind)) + " expected");
    if (c.frozen) fail(opcode_label(current_op()) + " on a container already nested in another");
    return c;
  }
  void set_items(std::vector<ValuePtr> items) {
    if (items.size() % 2 != 0) fail("SETITEMS with an odd number of values");
    Value& dict = mutable_container(Kind::dict);
    for (const ValuePtr& item : items) adopt(dict, item);
  }

  // ---- globals and calls ----
  ValuePtr global(const std::string& module, const std::string& name) {
    const std::string qualified = module + "." + name;
    if (const std::optional<PickleCallable> callable = allowed_callable(qualified)) {
      ValuePtr v = make(Kind::callable);
      v->callable = *callable;
      v->text = qualified;
      return v;
    }
    if (const std::optional<WeightDType> dtype = torch_storage_dtype(qualified)) {
      ValuePtr v = make(Kind::storage_type);
      v->tensor.dtype = *dtype;
      v->text = qualified;
      return v;
    }
    fail("global '" + qualified +
         "' is not allowed: only collections.OrderedDict, torch._utils._rebuild_tensor_v2, "
         "torch._utils._rebuild_parameter(_with_state) and torch.*Storage types are accepted");
  }

  const Value& arg(const Value& args, std::size_t i, Kind kind, const char* what) const {
    const Value& a = *args.items[i];
    if (a.kind != kind)
      fail(std::string(what) + " is of type " + std::string(kind_name(a.kind)) + ", " +
           std::string(kind_name(kind)) + " expected");
    return a;
  }
  std::vector<std::int64_t> int_tuple(const Value& args, std::size_t i, const char* what) const {
    const Value& t = arg(args, i, Kind::tuple, what);
    std::vector<std::int64_t> out;
    for (const ValuePtr& item : t.items) {
      if (item->kind != Kind::integer || item->integer < 0)
        fail(std::string(what) + " must hold non-negative ints");
      out.push_back(item->integer);
    }
    return out;
  }

  ValuePtr call(const Value& callable, const Value& args) {
    const std::size_t n = args.items.size();
    switch (callable.callable) {
      case PickleCallable::ordered_dict:
        if (n != 0) fail("collections.OrderedDict called with arguments");
        return make(Kind::dict);
      case PickleCallable::rebuild_tensor_v2: {
        if (n != 6 && n != 7)
          fail("_rebuild_tensor_v2 expects 6 or 7 arguments, got " + std::to_string(n));
        ValuePtr t = make(Kind::tensor);
        t->tensor = arg(args, 0, Kind::storage, "_rebuild_tensor_v2 storage").tensor;
        const Value& offset = arg(args, 1, Kind::integer, "_rebuild_tensor_v2 storage_offset");
        if (offset.integer < 0) fail("_rebuild_tensor_v2 storage_offset is negative");
        t->tensor.storage_offset = static_cast<std::uint64_t>(offset.integer);
        t->tensor.shape = int_tuple(args, 2, "_rebuild_tensor_v2 size");
        t->tensor.stride = int_tuple(args, 3, "_rebuild_tensor_v2 stride");
        if (t->tensor.shape.size() != t->tensor.stride.size())
          fail("_rebuild_tensor_v2 size has " + std::to_string(t->tensor.shape.size()) +
               " dimensions but stride " + std::to_string(t->tensor.stride.size()));
        return t;
      }
      case PickleCallable::rebuild_parameter:
      case PickleCallable::rebuild_parameter_with_state: {
        const std::size_t expected = callable.callable == PickleCallable::rebuild_parameter ? 3 : 4;
        if (n != expected)
          fail(callable.text + " expects " + std::to_string(expected) + " arguments, got " +
               std::to_string(n));
        const Value& data = arg(args, 0, Kind::tensor, "parameter data");
        ValuePtr t = make(Kind::tensor);
        t->tensor = data.tensor;
        return t;
      }
    }
    fail("unreachable callable");
  }

  // A persistent id: ('storage', torch.<T>Storage, key, location, numel).
  ValuePtr persistent_storage(const Value& pid) {
    if (pid.kind != Kind::tuple || pid.items.size() != 5 || pid.items[0]->kind != Kind::string ||
        pid.items[0]->text != "storage")
      fail("persistent id is not ('storage', type, key, location, numel)");
    const Value& type = arg(pid, 1, Kind::storage_type, "persistent id storage type");
    const Value& key = arg(pid, 2, Kind::string, "persistent id key");
    arg(pid, 3, Kind::string, "persistent id location");
    const Value& numel = arg(pid, 4, Kind::integer, "persistent id numel");
    if (numel.integer < 0) fail("persistent id numel is negative");
    ValuePtr s = make(Kind::storage);
    s->tensor.storage_key = key.text;
    s->tensor.dtype = type.tensor.dtype;
    s->tensor.storage_numel = static_cast<std::uint64_t>(numel.integer);
    return s;
  }

  void memo_put(std::uint64_t index) { memo_[index] = top(); }
  void memo_get(std::uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " was never stored");
    push(it->second);
  }

  ValuePtr integer(std::int64_t value) {
    ValuePtr v = make(Kind::integer);
    v->integer = value;
    return v;
  }
  ValuePtr boolean(bool value) {
    ValuePtr v = make(Kind::boolean);
    v->integer = value ? 1 : 0;
    return v;
  }
  ValuePtr string(std::string s) {
    ValuePtr v = make(Kind::string);
    v->text = std::move(s);
    return v;
  }

  void step(unsigned char op) {
    switch (op) {
      case 0x80: {  // PROTO
        const unsigned char version = byte();
        if (version < 2 || version > 5)
          fail("pickle protocol " + std::to_string(version) + " (2 to 5 expected)");
        return;
      }
      case 0x95:
        take(8);
        return;  // FRAME: a length hint only
      case '(':
        marks_.push_back(stack_.size());
        return;
      case '}':
        push(make(Kind::dict));
        return;
      case ']':
        push(make(Kind::list));
        return;
      case ')':
        push(make(Kind::tuple));
        return;
      case 't':
        push(tuple(pop_to_mark()));
        return;
      case 0x85:
      case 0x86:
      case 0x87: {
        std::vector<ValuePtr> items(op - 0x84);
        for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
        push(tuple(std::move(items)));
        return;
      }
      case 'J':
        push(integer(static_cast<std::int32_t>(little_endian(4))));
        return;
      case 'K':
        push(integer(static_cast<std::int64_t>(little_endian(1))));
        return;
      case 'M':
        push(integer(static_cast<std::int64_t>(little_endian(2))));
        return;
      case 0x8a: {  // LONG1: little-endian two's complement of n bytes
        const unsigned char n = byte();
        if (n > 8) fail("LONG1 of " + std::to_string(n) + " bytes does not fit in 64 bits");
        std::uint64_t v = n == 0 ? 0 : little_endian(n);
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~std::uint64_t{0} << (8 * n);
        push(integer(static_cast<std::int64_t>(v)));
        return;
      }
      case 'N':
        push(make(Kind::none));
        return;
      case 0x88:
        push(boolean(true));
        return;
      case 0x89:
        push(boolean(false));
        return;
      case 'G':  // BINFLOAT: only ever metadata, whose values are not used
        take(8);
        push(make(Kind::floating));
        return;
      case 'X':
        push(string(text(little_endian(4))));
        return;
      case 0x8c:
        push(string(text(little_endian(1))));
        return;
      case 0x8d:
        push(string(text(little_endian(8))));
        return;
      case 'c': {
        const std::string module = line();
        const std::string name = line();
        push(global(module, name));
        return;
      }
      case 0x93: {  // STACK_GLOBAL
        const ValuePtr name = pop();
        const ValuePtr module = pop();
        if (module->kind != Kind::string || name->kind != Kind::string)
          fail("STACK_GLOBAL needs two strings");
        push(global(module->text, name->text));
        return;
      }
      case 'q':
        memo_put(little_endian(1));
        return;
      case 'r':
        memo_put(little_endian(4));
        return;
      case 0x94:
        memo_put(memo_.size());
        return;
      case 'h':
        memo_get(little_endian(1));
        return;
      case 'j':
        memo_get(little_endian(4));
        return;
      case 'Q': {
        const ValuePtr pid = pop();
        push(persistent_storage(*pid));
        return;
      }
      case 'R': {
        const ValuePtr args = pop();
        const ValuePtr callable = pop();
        if (callable->kind != Kind::callable)
          fail("REDUCE calls a value of type " + std::string(kind_name(callable->kind)) +
               ", not an allowed function");
        if (args->kind != Kind::tuple) fail("REDUCE arguments are not a tuple");
        args->frozen = true;
        push(call(*callable, *args));
        return;
      }
      case 'b': {  // BUILD: attributes of an OrderedDict (torch's _metadata), which are ignored
        const ValuePtr state = pop();
        state->frozen = true;
        if (top()->kind != Kind::dict)
          fail("BUILD on a value of type " + std::string(kind_name(top()->kind)) +
               ": only dict attributes are accepted");
        return;
      }
      case 's': {
        const ValuePtr value = pop();
        const ValuePtr key = pop();
        set_items({key, value});
        return;
      }
      case 'u':
        set_items(pop_to_mark());
        return;
      case 'a': {
        const ValuePtr value = pop();
        adopt(mutable_container(Kind::list), value);
        return;
      }
      case 'e': {
        std::vector<ValuePtr> items = pop_to_mark();
        Value& list = mutable_container(Kind::list);
        for (const ValuePtr& item : items) adopt(list, item);
        return;
      }
      default:
        fail(opcode_label(op) +
             " is not accepted: only the opcodes torch.save emits for state "
             "dicts are understood");
    }
  }

  std::span<const std::byte> in_;
  std::string_view source_;
  std::size_t pos_ = 0;
  std::size_t op_at_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, ValuePtr> memo_;
};

}  // namespace

std::vector<PickledTensor> read_state_dict_pickle(std::span<const std::byte> pickle,
                                                  std::string_view source) {
  Machine machine(pickle, source);
  const ValuePtr result = machine.run();
  if (result->kind != Kind::dict)
    throw_invalid(std::string(source) + ": holds a value of type " +
                  std::string(kind_name(result->kind)) +
                  ", a state dict (dict of str -> tensor) expected");
  std::vector<PickledTensor> tensors;
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i + 1 < result->items.size(); i += 2) {
    const Value& key = *result->items[i];
    const Value& value = *result->items[i + 1];
    if (key.kind != Kind::string)
      throw_invalid(std::string(source) + ": state dict key is of type " +
                    std::string(kind_name(key.kind)) + ", str expected");
    if (value.kind != Kind::tensor)
      throw_invalid(std::string(source) + ": entry '" + key.text + "' is of type " +
                    std::string(kind_name(value.kind)) +
                    ", not a tensor: only state dicts of tensors are read");
    if (!seen.insert(key.text).second)
      throw_invalid(std::string(source) + ": tensor '" + key.text + "' appears more than once");
    PickledTensor t = value.tensor;
    t.name = key.text;
    tensors.push_back(std::move(t));
  }
  return tensors;
}

}  // namespace rank_rerank::io
