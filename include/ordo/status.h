// Status and Result<T>: how every public Ordo call reports failure.
//
// Ordo does not throw across its public API. A call that can fail returns a Status (or a
// Result<T>, which holds either a value or a non-OK Status). The set of codes is small and
// closed so callers can switch on it; the message is for people.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ordo {

enum class StatusCode : unsigned char {
  kOk = 0,
  kNotFound,           // a file, definition, instance or job that does not exist
  kInvalidDefinition,  // a BPMN file with errors; the diagnostics say which
  kInvalidArgument,    // a caller passed something malformed
  kConflict,           // the state changed under the caller (e.g. a job already completed)
  kAdapterError,       // an outside system failed
  kIoError,            // reading or writing a file failed
  kCorruption,         // stored data is not what Ordo wrote
  kInternal,           // a bug in Ordo; please report it
  kBusy,               // another process held the database past the busy timeout: try again
  kUnauthenticated,    // the caller did not prove who it is (a webhook whose signature fails)
};

// Returns a stable lower-case name for `code`, e.g. "not found".
std::string_view to_string(StatusCode code) noexcept;

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() noexcept { return Status(); }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status invalid_definition(std::string m) {
    return {StatusCode::kInvalidDefinition, std::move(m)};
  }
  static Status invalid_argument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status io_error(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool is_ok() const noexcept { return code_ == StatusCode::kOk; }
  explicit operator bool() const noexcept { return is_ok(); }
  StatusCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  // "not found: no such file 'x.bpmn'"; "ok" for an OK status.
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a T or a non-OK Status. Accessing value() of a failed Result is a programming error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.is_ok() && "a Result made from a Status must carry an error");
  }

  bool is_ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return is_ok(); }
  const Status& status() const noexcept { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace ordo
