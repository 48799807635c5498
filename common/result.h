// Result<T>: a value or an error message, for utilities and parsers that can
// fail in ordinary ways (a missing file, a malformed number). Failures that are
// *outcomes* of an evaluation (compile error, wrong output) are domain results,
// not errors; only fatal conditions are thrown, as ratchet::FatalError.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace ratchet {

struct Error {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const std::string& error() const { return std::get<Error>(state_).message; }

 private:
  std::variant<T, Error> state_;
};

// Void results: success or an error message.
struct Ok {};
using Status = Result<Ok>;

inline Error fail(std::string message) { return Error{std::move(message)}; }

// Thrown only for conditions that end the command; main() prints
// "ratchet: error: <message>" and exits with exit_code (2 usage/config, 1 runtime).
class FatalError : public std::runtime_error {
 public:
  FatalError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

[[noreturn]] inline void usage_error(const std::string& message) {
  throw FatalError(kExitUsage, message);
}
[[noreturn]] inline void runtime_error(const std::string& message) {
  throw FatalError(kExitRuntime, message);
}

}  // namespace ratchet
