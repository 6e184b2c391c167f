// SPDX-License-Identifier: Apache-2.0
// Result<T>: the value of a set-up call or the error that says what went wrong and what to do.
// Hot-path calls do not use it (they return a Status without allocating); configuration and attach do.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace dhub {

/// What kind of failure, so callers can branch without parsing the message.
enum class ErrorCode {
    InvalidArgument = 1,  ///< a configuration value is out of range or malformed
    NotFound,             ///< the named resource does not exist
    AlreadyExists,        ///< the resource exists and is owned by someone alive
    PermissionDenied,     ///< the OS refused access (file mode, owner)
    Incompatible,         ///< layout, version, size or schema hash differ from what was expected
    SchemaMismatch,       ///< the broker refused the schema a consumer expects (its SCHEMA_MISMATCH)
    Corrupt,              ///< the resource is inconsistent with itself
    Timeout,              ///< it did not become ready in time
    Io,                   ///< any other OS error
    Cancelled,            ///< the caller asked to stop before it finished
};

const char* to_string(ErrorCode code) noexcept;

struct Error {
    ErrorCode code;
    std::string message;  ///< names what, where, expected and found, and what to do
};

/// E is Error unless a caller needs more than a code to decide (GraphRunner::create says which step failed).
template <typename T, typename E = Error>
class [[nodiscard]] Result {
public:
    Result(T value) : storage_(std::move(value)) {}  // NOLINT(google-explicit-constructor): mirrors std::expected
    Result(E error) : storage_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const noexcept { return std::holds_alternative<T>(storage_); }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { return std::get<T>(storage_); }
    T&& value() && { return std::get<T>(std::move(storage_)); }
    const T& value() const& { return std::get<T>(storage_); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const E& error() const { return std::get<E>(storage_); }

private:
    std::variant<T, E> storage_;
};

/// Result of an operation that yields nothing but may fail.
struct Ok {};
using VoidResult = Result<Ok>;

}  // namespace dhub
