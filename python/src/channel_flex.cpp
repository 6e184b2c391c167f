// SPDX-License-Identifier: Apache-2.0
#include "channel_flex.hpp"

#include <vector>

#include "errors.hpp"

namespace dhub::python {
namespace py = pybind11;

shm::FlexZone ChannelFlex::zone() const {
    auto zone = zone_();
    if (!zone) raise(Error{ErrorCode::InvalidArgument, "flex zone of '" + channel_ + "': the channel is closed here"});
    if (zone->capacity() == 0) {
        raise(Error{ErrorCode::InvalidArgument,
                    "channel '" + channel_ + "' has no flex zone (its producer created it with flex_bytes 0)"});
    }
    return *zone;
}

std::size_t ChannelFlex::capacity() const {
    return zone().capacity();
}

std::uint64_t ChannelFlex::version() const {
    return zone().version();
}

py::bytes ChannelFlex::read() const {
    const shm::FlexZone flex = zone();
    std::vector<std::byte> buffer(flex.capacity());
    std::size_t used = 0;
    // With the GIL held: the copy is short (a writer holds the zone for one copy), and a close() in another thread
    // cannot free the zone under it.
    const shm::Status status = flex.read(buffer, used);
    if (status != shm::Status::Ok) raise(status, "reading the flex zone of '" + channel_ + "'");
    return {reinterpret_cast<const char*>(buffer.data()), std::min(used, buffer.size())};
}

void ChannelFlex::write(const py::buffer& content) const {
    shm::FlexZone flex = zone();
    const py::buffer_info info = content.request();
    const std::span<const std::byte> bytes(static_cast<const std::byte*>(info.ptr),
                                           static_cast<std::size_t>(info.size * info.itemsize));
    if (bytes.size() > flex.capacity()) {
        raise(Raise::TooLarge, "flex zone of '" + channel_ + "' holds " + std::to_string(flex.capacity()) +
                                   " bytes; got " + std::to_string(bytes.size()));
    }
    const shm::Status status = flex.write(bytes);  // GIL held, as for read()
    if (status != shm::Status::Ok) raise(status, "writing the flex zone of '" + channel_ + "'");
}

void bind_flex(py::module_& module) {
    py::class_<ChannelFlex>(module, "Flex",
                            "A channel's flex zone: a small shared region beside the ring for metadata (calibration, "
                            "units, run id). Reads are consistent snapshots; any side may write.")
        .def_property_readonly("capacity", &ChannelFlex::capacity, "Bytes it can hold.")
        .def_property_readonly("version", &ChannelFlex::version, "How many writes completed; changes with the content.")
        .def("read", &ChannelFlex::read, "The content as last written, as bytes.")
        .def("write", &ChannelFlex::write, py::arg("content"), "Replaces the content (bytes-like).")
        .def(
            "read_json",
            [](const ChannelFlex& flex) -> py::object {
                const py::bytes content = flex.read();
                if (py::len(content) == 0) return py::none();
                return py::module_::import("json").attr("loads")(content);
            },
            "The content parsed as JSON (None when empty).")
        .def(
            "write_json",
            [](const ChannelFlex& flex, const py::object& value) {
                const py::object text = py::module_::import("json").attr("dumps")(value);
                flex.write(text.attr("encode")("utf-8"));
            },
            py::arg("value"), "Writes value as JSON text.");
}

}  // namespace dhub::python
