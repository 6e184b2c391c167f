// SPDX-License-Identifier: Apache-2.0
// The numpy arrays made over the slots of one read or write, and what becomes of them at release: an array
// Python code still refers to (it, or a view of it, was kept) is cut loose from the ring (ViewSpace), the
// others are simply dropped. Each array's base is a capsule that owns, once cut loose, the private pages it
// points into.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <vector>

#include "slot_layout.hpp"
#include "view_space.hpp"

namespace dhub::python {

class SlotArrays {
public:
    /// An array over `bytes` at `data` (a slot payload in the channel's mapping, or a private copy).
    pybind11::object make(
        ViewSpace& space, const SlotLayout& layout, const std::byte* data, std::size_t bytes, bool readonly);
    /// Cuts loose the arrays still referred to from Python, then drops every array. Call it before the slots
    /// go back to the ring. Never raises for Python: call warn_if_due() once the slots are handed back.
    void release(ViewSpace& space);
    /// Tells Python (a RuntimeWarning, once per reader or writer) when arrays are routinely kept past their slot;
    /// raises only if warnings are errors.
    void warn_if_due();

private:
    struct Made {
        pybind11::object array;
        std::shared_ptr<void>* keep = nullptr;  ///< owned by the array's base capsule
        const std::byte* view = nullptr;        ///< where the array points (in its window)
    };
    std::vector<Made> made_;
    bool warning_due_ = false;
};

}  // namespace dhub::python
