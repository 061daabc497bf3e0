// Status and Result<T>: the return type of every fallible call in spr.
// An error carries a Code that tells the caller what to do next (retry, re-list,
// re-read, tell the user, stop) and a message that names the thing and the fix.
// Values are immutable after construction; safe to pass between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace spr {

enum class Code {
  kOk = 0,
  kInvalidArgument,  // bad flag, bad input file: tell the user, do not retry
  kNotFound,         // the thing does not exist
  kAlreadyExists,    // create of an existing thing
  kConflict,         // optimistic concurrency: re-read and retry
  kInvalid,          // the API rejected the object (422): tell the user
  kGone,             // resourceVersion too old (410): re-list
  kUnavailable,      // transient (429, 5xx, timeout, connection): retry with backoff
  kUnauthorized,     // 401/403: stop and say so
  kCorruption,       // a journal record failed verification
  kVersionMismatch,  // data written by a newer schema
  kIoError,          // disk or journal write failed: stop acting
  kInternal,         // a bug in spr
};

const char* codeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return Status(); }

  bool isOk() const { return code_ == Code::kOk; }
  explicit operator bool() const { return isOk(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<CodeName>: <message>", for logs and CLI output.
  std::string toString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T> holds either a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design
  Result(Code code, std::string message) : status_(code, std::move(message)) {}

  bool isOk() const { return value_.has_value(); }
  explicit operator bool() const { return isOk(); }
  const Status& status() const { return status_; }
  // REQUIRES: isOk().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

inline const char* codeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kConflict: return "Conflict";
    case Code::kInvalid: return "Invalid";
    case Code::kGone: return "Gone";
    case Code::kUnavailable: return "Unavailable";
    case Code::kUnauthorized: return "Unauthorized";
    case Code::kCorruption: return "Corruption";
    case Code::kVersionMismatch: return "VersionMismatch";
    case Code::kIoError: return "IoError";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

inline std::string Status::toString() const {
  if (isOk()) return "OK";
  return std::string(codeName(code_)) + ": " + message_;
}

}  // namespace spr

// Returns early from the enclosing function with the error of `expr` if it failed.
#define SPR_RETURN_IF_ERROR(expr)                \
  do {                                           \
    ::spr::Status spr_status_ = (expr);          \
    if (!spr_status_.isOk()) return spr_status_; \
  } while (0)
