// SPDX-License-Identifier: Apache-2.0
#include "slot_views.hpp"

namespace dhub::plugins::python {

namespace py = pybind11;

namespace {

/// A Python object exporting one slot's memory through the buffer protocol and counting its exports. A plain
/// memoryview cannot tell: numpy releases the export it takes of one at once and keeps a memoryview of its own
/// sharing the memory, so memoryview.release() succeeds while arrays over the slot are still alive.
struct SlotMemory {
    PyObject_HEAD void* data;  ///< null once closed: no new export
    Py_ssize_t bytes;
    int read_only;
    Py_ssize_t exports;
};

int get_buffer(PyObject* self, Py_buffer* view, int flags) {
    auto* memory = reinterpret_cast<SlotMemory*>(self);
    if (memory->data == nullptr) {
        PyErr_SetString(PyExc_BufferError, "a dhub slot is only valid during the call that received it");
        return -1;
    }
    if (PyBuffer_FillInfo(view, self, memory->data, memory->bytes, memory->read_only, flags) < 0) return -1;
    ++memory->exports;
    return 0;
}

void release_buffer(PyObject* self, Py_buffer* /*view*/) {
    --reinterpret_cast<SlotMemory*>(self)->exports;
}

PyTypeObject* slot_memory_type() {
    // Made once, with the GIL held (so by one thread at a time), and never freed, like the interpreter.
    static PyTypeObject* const type = [] {
        static PyType_Slot slots[] = {{Py_bf_getbuffer, reinterpret_cast<void*>(&get_buffer)},
                                      {Py_bf_releasebuffer, reinterpret_cast<void*>(&release_buffer)},
                                      {0, nullptr}};
        static PyType_Spec spec = {"dhub.SlotMemory", sizeof(SlotMemory), 0, Py_TPFLAGS_DEFAULT, slots};
        PyObject* made = PyType_FromSpec(&spec);
        if (made == nullptr) throw py::error_already_set();
        return reinterpret_cast<PyTypeObject*>(made);
    }();
    return type;
}

SlotMemory& memory_of(const py::object& object) {
    return *reinterpret_cast<SlotMemory*>(object.ptr());
}

/// Whether anything made from the slot's memory is still alive. An object kept alive only by a reference cycle
/// (an exception's traceback holding the call's frame and its arrays) is not kept on purpose: one collection
/// frees it before the slot is judged.
bool still_viewed(const py::object& memory) {
    if (memory_of(memory).exports == 0) return false;
    py::module_::import("gc").attr("collect")();
    return memory_of(memory).exports != 0;
}

}  // namespace

SlotViews::~SlotViews() {
    try {
        (void)close();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor reports nothing; close() was the place
    }
}

py::object SlotViews::wrap(void* data, std::uint64_t bytes, bool read_only, bool input, std::uint64_t sequence) {
    PyObject* made = PyType_GenericAlloc(slot_memory_type(), 0);
    if (made == nullptr) throw py::error_already_set();
    py::object memory = py::reinterpret_steal<py::object>(made);
    SlotMemory& fields = memory_of(memory);
    fields.data = data;
    fields.bytes = static_cast<Py_ssize_t>(bytes);
    fields.read_only = read_only ? 1 : 0;
    fields.exports = 0;
    slots_.push_back({memory, input, sequence});
    return memory;
}

py::object SlotViews::input(const void* data, std::uint64_t bytes, std::uint64_t sequence, const py::object& layout) {
    // Read-only: numpy makes a read-only array, so an input slot other consumers read is never written.
    return view_of_(wrap(const_cast<void*>(data), bytes, true, true, sequence), layout, py::none());
}

py::object SlotViews::output(void* data, std::uint64_t capacity, std::uint64_t sequence, const py::object& layout) {
    return view_of_(wrap(data, capacity, false, false, sequence), layout, py::none());
}

std::optional<std::string> SlotViews::close() {
    std::optional<std::string> kept;
    for (const Slot& slot : slots_) {
        memory_of(slot.memory).data = nullptr;
        if (!kept && still_viewed(slot.memory)) {
            kept = std::string(slot.input ? "input" : "output") + " slot " + std::to_string(slot.sequence);
        }
    }
    slots_.clear();
    return kept;
}

}  // namespace dhub::plugins::python
