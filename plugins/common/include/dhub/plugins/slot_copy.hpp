// SPDX-License-Identifier: Apache-2.0
// The pass-through of the byte-level stages (decimate, throttle): a slot goes on exactly as it came, its
// committed bytes and its timestamp, whatever its schema.
#pragma once

#include <cstring>
#include <span>
#include <string>

#include "dhub/sdk/plugin.hpp"

namespace dhub::plugins {

/// Copies in's committed bytes and timestamp into out. An output slot smaller than the input is
/// DHUB_ERR_INVALID_ARGUMENT with a log line that says which slot_bytes to raise.
inline dhub_status copy_slot(sdk::NodeContext& context,
                             const sdk::InputSlot<sdk::Bytes>& in,
                             sdk::OutputSlot<sdk::Bytes>& out) {
    const std::span<const std::byte> bytes = in.bytes();
    if (out.capacity() < bytes.size()) {
        context.log().error("output slot holds " + std::to_string(out.capacity()) + " bytes, the input slot " +
                            std::to_string(bytes.size()) +
                            ": set slot_bytes of the output channel to at least that of the input");
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    if (!bytes.empty()) std::memcpy(out.bytes().data(), bytes.data(), bytes.size());
    out.set_bytes(bytes.size());
    out.set_timestamp_ns(in.timestamp_ns());
    return DHUB_OK;
}

}  // namespace dhub::plugins
