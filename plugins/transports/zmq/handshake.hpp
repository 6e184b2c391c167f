// SPDX-License-Identifier: Apache-2.0
// The channel as the handshake carries it (wire.hpp's ChannelDescription, which knows nothing of the SDK) and as
// the SDK describes and compares it (sdk::ChannelInfo, channel_mismatch): both halves convert the same way.
#pragma once

#include <string>
#include <utility>

#include "dhub/sdk/transport.hpp"
#include "wire.hpp"

namespace dhub::zmq_transport {

/// What a HELLO or WELCOME says of a local channel, under the name the far end knows it by.
inline ChannelDescription describe_channel(const sdk::ChannelInfo& info, std::string name) {
    return {std::move(name), info.slot_bytes, info.slot_count, info.schema_hash};
}
inline ChannelDescription describe_channel(const sdk::ChannelInfo& info) {
    return describe_channel(info, info.name);
}

/// The same, for sdk::describe() and sdk::channel_mismatch().
inline sdk::ChannelInfo info_of(const ChannelDescription& channel) {
    sdk::ChannelInfo info;
    info.name = channel.name;
    info.slot_bytes = channel.slot_bytes;
    info.slot_count = channel.slot_count;
    info.schema_hash = channel.schema_hash;
    return info;
}

}  // namespace dhub::zmq_transport
