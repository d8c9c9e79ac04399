// The error vocabulary of tginvite: a small set of codes that callers branch on, and
// Result<T> / Status, a subset of C++23's std::expected<T, Error>.
//
// Fallible functions return [[nodiscard]] Result<T> or Status. Callers branch on Error::code,
// never on the message; the message is lower-case and gains context at each hop
// ("import contacts.csv: line 42: phone: not a number"). Presentation of codes happens in exactly
// two places: exit codes in cli/, HTTP statuses in web/.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace tginvite {

enum class ErrorCode {
  kInvalidArgument,  // bad input from a user: refuse it, say why
  kNotFound,         // the named thing does not exist
  kAlreadyExists,    // the thing to create exists already
  kFailedPrecondition,  // the thing is not in a state that allows this (yet, or any more): say why
  kAborted,          // lost a race (database busy, serialization failure): retry the unit of work
  kUnavailable,      // a dependency is down or timed out: back off and retry
  kInternal,         // a bug or corruption
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;

  // Returns the same error with "context: " put before its message.
  Error WithContext(std::string_view context) const {
    return Error{code, fmt::format("{}: {}", context, message)};
  }
};

template <typename... Args>
Error Fail(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Error{code, fmt::format(format, std::forward<Args>(args)...)};
}

template <typename T>
// The implicit move assignment is not noexcept: a throwing move of T propagates (it cannot
// terminate), which clang-tidy 14's bugprone-exception-escape takes for an escape.
class [[nodiscard]] Result {  // NOLINT(bugprone-exception-escape)
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status Ok() { return {}; }

}  // namespace tginvite

#define TGINVITE_CAT2(a, b) a##b
#define TGINVITE_CAT(a, b) TGINVITE_CAT2(a, b)

// Returns the error of `expr` (a Status or Result) from the enclosing function.
#define RETURN_IF_ERROR(expr) \
  TGINVITE_RETURN_IF_ERROR_(TGINVITE_CAT(tginvite_status_, __COUNTER__), expr, )
// Like RETURN_IF_ERROR, with "context: " put before the message.
#define RETURN_IF_ERROR_CTX(expr, context)                                     \
  TGINVITE_RETURN_IF_ERROR_(TGINVITE_CAT(tginvite_status_, __COUNTER__), expr, \
                            .WithContext(context))
#define TGINVITE_RETURN_IF_ERROR_(var, expr, decorate) \
  do {                                                 \
    if (auto&& var = (expr); !var) {                   \
      return var.error() decorate;                     \
    }                                                  \
  } while (false)

// `ASSIGN_OR_RETURN(auto x, Foo());` unwraps a Result or returns its error. It expands to more
// than one statement: put braces around it under an `if`.
#define ASSIGN_OR_RETURN(lhs, expr) \
  TGINVITE_ASSIGN_OR_RETURN_(TGINVITE_CAT(tginvite_result_, __COUNTER__), lhs, expr)
#define TGINVITE_ASSIGN_OR_RETURN_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp) return tmp.error();                    \
  lhs = std::move(tmp).value()
