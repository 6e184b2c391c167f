// SPDX-License-Identifier: Apache-2.0
// One decoded control-plane message and the field table that says what each message type's body must hold.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "dhub/broker/protocol.hpp"

namespace dhub::broker {

struct Message {
    MessageType type = MessageType::Invalid;
    std::uint64_t request_id = 0;
    nlohmann::json body = nlohmann::json::object();
};

/// What a body field must be. Strings are bounded so a client cannot make the broker store large data.
enum class FieldKind : std::uint8_t {
    Invalid = 0,
    Name,      ///< string, 1..128 bytes, printable ASCII without spaces (channel, client, consumer names)
    Text,      ///< string, 0..1024 bytes (messages, roles, segments)
    Hex,       ///< lower- or upper-case hex string, 2..128 characters, even length (schema hashes)
    Secret,    ///< hex string of exactly 64 characters (a 32-byte attach secret)
    Unsigned,  ///< non-negative integer that fits in u64
    Object,    ///< JSON object (e.g. policies), passed through
    Array,     ///< JSON array (e.g. the channels of LIST_ACK)
    Identity,  ///< object {pid: unsigned, start_ticks: unsigned, name?: Name}: who a producer/consumer is
};

enum class Presence : std::uint8_t { Required = 1, Optional };

struct FieldSpec {
    MessageType type;
    std::string_view name;
    FieldKind kind;
    Presence presence;
};

/// Every body field of every message type, in one table: the decoder validates against it, and
/// docs/protocol.md documents it (a test keeps the two in step). Unknown extra fields are ignored, so a
/// minor version can add optional ones.
std::span<const FieldSpec> field_table() noexcept;

std::string_view to_string(FieldKind kind) noexcept;

}  // namespace dhub::broker
