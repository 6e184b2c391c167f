// SPDX-License-Identifier: Apache-2.0
// dhub._dhub: the C++ half of the dhub Python package (python/dhub/__init__.py re-exports it). Channels as numpy
// arrays, zero copy, over the same DataBlock the kernels use. docs/python.md.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include "broker.hpp"
#include "channel_flex.hpp"
#include "consumer.hpp"
#include "dhub/shm/inspect.hpp"
#include "dhub/shm/segment.hpp"
#include "errors.hpp"
#include "json_format.hpp"
#include "producer.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_dhub, module) {
    module.doc() = "dhub channels as numpy arrays (the C++ half of the dhub package; use `import dhub`).";
    dhub::python::register_errors(module);
    dhub::python::bind_flex(module);
    dhub::python::bind_consumer(module);
    dhub::python::bind_producer(module);
    dhub::python::bind_broker(module);

    module.def(
        "inspect",
        [](const std::string& channel) {
            auto info = [&] {
                py::gil_scoped_release released;
                return dhub::shm::inspect_channel(channel);
            }();
            if (!info) dhub::python::raise(info.error());
            return py::module_::import("json").attr("loads")(dhub::tools::to_json(info.value()).dump());
        },
        py::arg("channel"),
        "Everything `dhub-shm inspect --json` shows of a channel on this host, as a dict: geometry, policies, "
        "producer, consumer seats and their counts, slots, the typed schema and validator rejections.");
    module.def(
        "channels", [] { return dhub::shm::Segment::list(); },
        "The names of every dhub channel on this host (their segments in /dev/shm).");
}
