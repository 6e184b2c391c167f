// SPDX-License-Identifier: Apache-2.0
// How a channel's slots look from numpy (dhub._schema.layout_of on its schema document), and the arrays made
// over them: typed views of `size` bytes, or the committed bytes as uint8 where the channel has no typed schema.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>
#include <vector>

namespace dhub::python {

class SlotLayout {
public:
    SlotLayout() = default;
    /// From a schema document (JSON text; "" for none), through dhub._schema.layout_of.
    static SlotLayout from_document(const std::string& document);

    bool typed() const noexcept { return typed_; }
    /// Bytes a typed view covers (0 untyped).
    std::size_t size() const noexcept { return size_; }
    /// The dhub._schema.SlotLayout object (Python's view of the same thing).
    const pybind11::object& python() const noexcept { return python_; }

    /// An array over bytes at data: typed (the committed length is not checked: a typed slot is its schema's
    /// size), or the first `bytes` as uint8. base keeps the memory alive; readonly clears WRITEABLE.
    pybind11::array view(std::byte* data, std::size_t bytes, pybind11::handle base, bool readonly) const;
    /// The same over a private copy of the bytes (a Delivery::Latest read: the slot's bytes are already a copy).
    pybind11::array copy(const std::byte* data, std::size_t bytes) const;

private:
    bool typed_ = false;
    std::size_t size_ = 0;
    pybind11::dtype dtype_ = pybind11::dtype("uint8");
    std::vector<pybind11::ssize_t> shape_;
    pybind11::object python_ = pybind11::none();
};

}  // namespace dhub::python
