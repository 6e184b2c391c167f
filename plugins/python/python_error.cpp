// SPDX-License-Identifier: Apache-2.0
#include "python_error.hpp"

namespace dhub::plugins::python {

namespace py = pybind11;

std::string format_exception(const py::error_already_set& error) {
    try {
        const py::object lines =
            py::module_::import("traceback").attr("format_exception")(error.type(), error.value(), error.trace());
        std::string text = py::str("").attr("join")(lines).cast<std::string>();
        while (!text.empty() && text.back() == '\n')
            text.pop_back();
        return text;
    } catch (const py::error_already_set&) {
        return error.what();  // pybind11's own rendering, when the traceback module itself fails
    }
}

bool is_exception(const py::error_already_set& error, const char* module, const char* name) {
    try {
        return error.matches(py::module_::import(module).attr(name));
    } catch (const py::error_already_set&) {
        return false;
    }
}

}  // namespace dhub::plugins::python
