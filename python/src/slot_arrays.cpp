// SPDX-License-Identifier: Apache-2.0
#include "slot_arrays.hpp"

#include <utility>

namespace dhub::python {
namespace py = pybind11;

/// After this many arrays kept past their slot, the reader is told once what that costs.
constexpr std::uint64_t KEPT_WARNING = 64;
/// Windows kept mapped for the next reads; past this (a ring of more slots) they are all dropped and made again.
/// Each is one of the process's memory mappings (vm.max_map_count, 65530 by default).
constexpr std::size_t MAX_CACHED_WINDOWS = 1024;

py::object SlotArrays::make(
    ViewSpace& space, const SlotLayout& layout, const std::byte* data, std::size_t bytes, bool readonly) {
    if (!space.holds(data)) return layout.copy(data, bytes);  // a private copy already: nothing to watch
    auto* keep = new std::shared_ptr<void>();
    const py::capsule base(keep, [](void* pointer) { delete static_cast<std::shared_ptr<void>*>(pointer); });
    std::byte* view = space.translate(data);
    py::array array = layout.view(view, bytes, base, readonly);
    made_.push_back({array, keep, view});
    return array;
}

void SlotArrays::release(ViewSpace& space) {
    if (made_.empty()) return;
    std::vector<const std::byte*> kept;
    for (const Made& made : made_) {
        // Our reference is one; any other is Python code's (a view of an array refers to the array).
        if (Py_REFCNT(made.array.ptr()) > 1) kept.push_back(made.view);
    }
    if (!kept.empty()) {
        const std::shared_ptr<void> frozen = space.cut_loose(kept);
        for (const Made& made : made_) {
            if (Py_REFCNT(made.array.ptr()) > 1) *made.keep = frozen;
        }
        // A name bound to slot.array inside the with block still refers to it when the block ends: the loop stays
        // correct but copies every slot. Said once per reader, when it has clearly become a habit.
        warning_due_ = space.cut_count() >= KEPT_WARNING && space.cut_count() - kept.size() < KEPT_WARNING;
    }
    made_.clear();
    // No array refers to a cached window now: the right moment to bound how many stay mapped.
    space.trim(MAX_CACHED_WINDOWS);
}

}  // namespace dhub::python

namespace dhub::python {

void SlotArrays::warn_if_due() {
    if (!std::exchange(warning_due_, false)) return;
    if (PyErr_WarnEx(PyExc_RuntimeWarning,
                     "dhub: 64 slot arrays outlived their with block, and each was copied when its slot was "
                     "released; `del` names bound to slot.array inside the block (or copy only what you keep) to "
                     "stay zero copy",
                     1) != 0) {
        throw py::error_already_set();  // warnings turned into errors
    }
}

}  // namespace dhub::python
