// SPDX-License-Identifier: Apache-2.0
#include "slot_arrays.hpp"

namespace dhub::python {
namespace py = pybind11;

py::object SlotArrays::make(
    ViewSpace& space, const SlotLayout& layout, const std::byte* data, std::size_t bytes, bool readonly) {
    if (!space.holds(data)) return layout.copy(data, bytes);  // a private copy already: nothing to watch
    auto* keep = new std::shared_ptr<void>();
    const py::capsule base(keep, [](void* pointer) { delete static_cast<std::shared_ptr<void>*>(pointer); });
    std::byte* view = space.translate(data);
    py::array array = layout.view(view, bytes, base, readonly);
    made_.push_back({array, keep, {view, static_cast<std::size_t>(array.nbytes())}});
    return array;
}

void SlotArrays::release(ViewSpace& space) {
    if (made_.empty()) return;
    std::vector<ViewRange> kept;
    for (const Made& made : made_) {
        // Our reference is one; any other is Python code's (a view of an array refers to the array).
        if (Py_REFCNT(made.array.ptr()) > 1) kept.push_back(made.range);
    }
    if (!kept.empty()) {
        const std::shared_ptr<void> frozen = space.cut_loose(kept);
        for (const Made& made : made_) {
            if (Py_REFCNT(made.array.ptr()) > 1) *made.keep = frozen;
        }
        kept_total_ += kept.size();
    }
    made_.clear();
}

}  // namespace dhub::python
