// SPDX-License-Identifier: Apache-2.0
// dhub.Flex: a channel's flex zone (shared metadata beside the ring) as consistent snapshots, from a producer
// or a consumer. It asks its channel for the zone on every call, so it fails cleanly once the channel closed.
#pragma once
#include <pybind11/pybind11.h>

#include <functional>
#include <optional>
#include <string>

#include "dhub/shm/flex_zone.hpp"

namespace dhub::python {

class ChannelFlex {
public:
    using ZoneSource = std::function<std::optional<shm::FlexZone>()>;
    ChannelFlex(std::string channel, ZoneSource zone) : channel_(std::move(channel)), zone_(std::move(zone)) {}

    std::size_t capacity() const;
    std::uint64_t version() const;
    /// The content as last written (a consistent snapshot).
    pybind11::bytes read() const;
    /// Replaces the content; dhub.TooLarge if it does not fit.
    void write(const pybind11::buffer& content) const;

private:
    shm::FlexZone zone() const;
    std::string channel_;
    ZoneSource zone_;
};

void bind_flex(pybind11::module_& module);

}  // namespace dhub::python
