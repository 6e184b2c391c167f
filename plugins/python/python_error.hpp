// SPDX-License-Identifier: Apache-2.0
// A Python exception as text for the node's log: what Python itself prints for an uncaught one.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

namespace dhub::plugins::python {

/// "Traceback (most recent call last): ... ValueError: ..." without the final newline. Call with the GIL held.
std::string format_exception(const pybind11::error_already_set& error);

/// True when the exception is the Python class module.name (e.g. "dhub._plugin", "SetupError").
bool is_exception(const pybind11::error_already_set& error, const char* module, const char* name);

}  // namespace dhub::plugins::python
