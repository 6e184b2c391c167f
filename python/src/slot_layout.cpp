// SPDX-License-Identifier: Apache-2.0
#include "slot_layout.hpp"

#include <cstring>

namespace dhub::python {
namespace py = pybind11;

SlotLayout SlotLayout::from_document(const std::string& document) {
    SlotLayout layout;
    layout.python_ = py::module_::import("dhub._schema").attr("layout_of")(document);
    const py::object shape = layout.python_.attr("shape");
    if (shape.is_none()) return layout;
    layout.typed_ = true;
    layout.dtype_ = py::dtype::from_args(layout.python_.attr("dtype"));
    for (const py::handle extent : shape)
        layout.shape_.push_back(extent.cast<py::ssize_t>());
    // A view covers exactly the value's elements (dtype itemsize x shape), at most the schema's size.
    std::size_t elements = 1;
    for (const py::ssize_t extent : layout.shape_)
        elements *= static_cast<std::size_t>(extent);
    layout.size_ = elements * static_cast<std::size_t>(layout.dtype_.itemsize());
    return layout;
}

py::array SlotLayout::view(std::byte* data, std::size_t bytes, py::handle base, bool readonly) const {
    py::array array =
        typed_ ? py::array(dtype_, shape_, {}, data, base)
               : py::array(dtype_, std::vector<py::ssize_t>{static_cast<py::ssize_t>(bytes)}, {}, data, base);
    if (readonly) py::detail::array_proxy(array.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return array;
}

py::array SlotLayout::copy(const std::byte* data, std::size_t bytes) const {
    py::array array = typed_ ? py::array(dtype_, shape_)
                             : py::array(dtype_, std::vector<py::ssize_t>{static_cast<py::ssize_t>(bytes)});
    // A typed copy of a short slot: what the slot did not hold is zero, never leftover heap memory.
    const auto size = static_cast<std::size_t>(array.nbytes());
    const std::size_t copied = std::min(bytes, size);
    std::memcpy(array.mutable_data(), data, copied);
    std::memset(static_cast<std::byte*>(array.mutable_data()) + copied, 0, size - copied);
    py::detail::array_proxy(array.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return array;
}

}  // namespace dhub::python
