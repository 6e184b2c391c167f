// SPDX-License-Identifier: Apache-2.0
// dhub's errors as Python exceptions: one class per ErrorCode and per slot status, all under dhub.Error, each
// carrying the C++ message unchanged (so a log line and a traceback say the same thing) and a `code` string.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "dhub/base/result.hpp"
#include "dhub/shm/status.hpp"

namespace dhub::python {

/// The exception classes a caller can name without an ErrorCode.
enum class Raise { Error, Timeout, Closed, SlotReleased, SchemaMismatch, ChecksumMismatch, NotOwner, TooLarge };

void register_errors(pybind11::module_& module);

/// The exception class, for `except` clauses in C++ (error_already_set::matches).
pybind11::handle error_class(Raise kind);

/// Sets the Python exception for error and throws error_already_set.
[[noreturn]] void raise(const Error& error);
[[noreturn]] void raise(Raise kind, const std::string& message);

/// The exception for a slot status other than Ok, `what` saying which call on which channel.
[[noreturn]] void raise(shm::Status status, const std::string& what);

/// Unwraps a Result or raises its error.
template <typename T>
T value_or_raise(Result<T>&& result) {
    if (!result) raise(result.error());
    return std::move(result.value());
}
inline void value_or_raise(VoidResult&& result) {
    if (!result) raise(result.error());
}

}  // namespace dhub::python
