// SPDX-License-Identifier: Apache-2.0
#include "errors.hpp"

#include <array>
#include <utility>

namespace dhub::python {
namespace py = pybind11;
namespace {

struct ExceptionClass {
    const char* name;
    const char* code;  ///< the `code` attribute of its instances
    const char* doc;
    PyObject* type = nullptr;
};

// Indexed by ErrorCode (1-based) first, then the slot statuses of Raise.
std::array<ExceptionClass, 17> classes = {{
    {"Error", "error", "Any dhub error. `code` names it, the message says what and where."},
    {"InvalidArgument", "invalid_argument", "A value is out of range or malformed."},
    {"NotFound", "not_found", "The channel (or other named thing) does not exist."},
    {"AlreadyExists", "already_exists", "The channel has a live producer, or the seat is taken."},
    {"PermissionDenied", "permission_denied", "The operating system refused access (mode, owner)."},
    {"Incompatible", "incompatible", "Layout, size, policy or schema differ from what was expected."},
    {"SchemaMismatch", "schema_mismatch", "The channel's schema cannot be read as the expected one."},
    {"Corrupt", "corrupt", "The segment is inconsistent with itself."},
    {"Timeout", "timeout", "Nothing arrived (or no slot was free) before the timeout."},
    {"IoError", "io", "Any other operating-system error."},
    {"Cancelled", "cancelled", "The call was cancelled before it finished."},
    {"Closed", "closed", "The producer closed the channel and every slot was read."},
    {"SlotReleased", "slot_released", "The slot was released (its with block ended): copy what you keep."},
    {"ChecksumMismatch", "checksum_mismatch", "A slot failed its BLAKE2b checksum; it was skipped and counted."},
    {"NotOwner", "not_owner", "This producer lost the channel: another producer took it over."},
    {"Overwritten", "overwritten", "A latest-only slot was rewritten while it was read."},
    {"TooLarge", "too_large", "The value does not fit in the slot (or the flex zone)."},
}};

PyObject* class_named(std::string_view name) {
    for (const ExceptionClass& entry : classes) {
        if (name == entry.name) return entry.type;
    }
    return classes[0].type;
}

PyObject* class_of(ErrorCode code) {
    const auto index = static_cast<std::size_t>(code);
    return index < 11 ? classes[index].type : classes[0].type;
}

PyObject* class_of(Raise kind) {
    switch (kind) {
        case Raise::Error:
            return class_named("Error");
        case Raise::Timeout:
            return class_named("Timeout");
        case Raise::Closed:
            return class_named("Closed");
        case Raise::SlotReleased:
            return class_named("SlotReleased");
        case Raise::SchemaMismatch:
            return class_named("SchemaMismatch");
        case Raise::ChecksumMismatch:
            return class_named("ChecksumMismatch");
        case Raise::NotOwner:
            return class_named("NotOwner");
        case Raise::TooLarge:
            return class_named("TooLarge");
    }
    return classes[0].type;
}

[[noreturn]] void raise_with(PyObject* type, const std::string& message) {
    PyErr_SetString(type, message.c_str());
    throw py::error_already_set();
}

}  // namespace

void register_errors(py::module_& module) {
    for (std::size_t i = 0; i < classes.size(); ++i) {
        ExceptionClass& entry = classes[i];
        const std::string qualified = std::string("dhub.") + entry.name;
        PyObject* base = i == 0 ? PyExc_Exception : classes[0].type;
        entry.type = PyErr_NewExceptionWithDoc(qualified.c_str(), entry.doc, base, nullptr);
        if (entry.type == nullptr) throw py::error_already_set();
        py::handle type(entry.type);
        type.attr("code") = entry.code;
        module.add_object(entry.name, type);
    }
}

py::handle error_class(Raise kind) {
    return class_of(kind);
}

void raise(const Error& error) {
    raise_with(class_of(error.code), error.message);
}

void raise(Raise kind, const std::string& message) {
    raise_with(class_of(kind), message);
}

void raise(shm::Status status, const std::string& what) {
    switch (status) {
        case shm::Status::Timeout:
            raise_with(class_named("Timeout"), what + ": timed out");
        case shm::Status::Closed:
            raise_with(class_named("Closed"), what + ": the producer closed the channel and every slot was read");
        case shm::Status::Overwritten:
            raise_with(class_named("Overwritten"), what + ": the slot was rewritten while it was read; read again");
        case shm::Status::ChecksumMismatch:
            raise_with(class_named("ChecksumMismatch"), what + ": a slot failed its checksum and was skipped");
        case shm::Status::NotOwner:
            raise_with(class_named("NotOwner"), what + ": another producer took the channel over");
        case shm::Status::TooLarge:
            raise_with(class_named("TooLarge"), what + ": larger than the slot");
        case shm::Status::Invalid:
        case shm::Status::Ok:
            break;
    }
    raise_with(classes[0].type, what + ": " + shm::to_string(status));
}

}  // namespace dhub::python
