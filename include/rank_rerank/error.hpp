// Errors raised by every public entry point of rank-rerank.
#pragma once

#include <stdexcept>
#include <string>

namespace rank_rerank {

// What went wrong, so bindings can map it: invalid_argument becomes Python's ValueError,
// everything else RuntimeError.
enum class ErrorKind { invalid_argument, unsupported, runtime };

// The one exception type the library throws. Messages name the argument and, where shapes
// are involved, the shapes that were given and expected.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// Shorthands; callers test the condition first so messages are only built on failure.
[[noreturn]] inline void throw_invalid(const std::string& message) {
  throw Error(ErrorKind::invalid_argument, message);
}
[[noreturn]] inline void throw_unsupported(const std::string& message) {
  throw Error(ErrorKind::unsupported, message);
}

}  // namespace rank_rerank
