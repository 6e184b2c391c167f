// SPDX-License-Identifier: Apache-2.0
// The slots of one handler call as Python sees them: each slot's shared memory as a buffer (read-only for
// inputs) and a numpy array over it, shaped by the port's layout (dhub._schema). The buffer counts what is made
// from it: numpy arrays, their slices and views, memoryviews all hold an export of it while they live. When the
// call is over a slot must have none left, or the Python code kept a view of memory the kernel is about to hand
// back (to the producer, to the next consumer): that is an error the node reports.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dhub::plugins::python {

class SlotViews {
public:
    /// view_of is dhub._schema.view_of. Call everything with the GIL held.
    explicit SlotViews(const pybind11::object& view_of) : view_of_(view_of) {}
    SlotViews(const SlotViews&) = delete;
    SlotViews& operator=(const SlotViews&) = delete;
    /// Closes whatever close() was not called for (an exception between the views and the call).
    ~SlotViews();

    /// A read-only array over the committed bytes of an input slot.
    pybind11::object input(const void* data,
                           std::uint64_t bytes,
                           std::uint64_t sequence,
                           const pybind11::object& layout);
    /// A writable array over a whole output slot.
    pybind11::object output(void* data, std::uint64_t capacity, std::uint64_t sequence, const pybind11::object& layout);

    /// Closes every slot's buffer (no new view can be made of it). Empty when nothing made from them is alive;
    /// otherwise the first slot Python code still holds a view of ("input slot 17").
    std::optional<std::string> close();

private:
    struct Slot {
        pybind11::object memory;  ///< the exporting object (SlotMemory in slot_views.cpp)
        bool input;
        std::uint64_t sequence;
    };
    pybind11::object wrap(void* data, std::uint64_t bytes, bool read_only, bool input, std::uint64_t sequence);

    const pybind11::object& view_of_;
    std::vector<Slot> slots_;
};

}  // namespace dhub::plugins::python
