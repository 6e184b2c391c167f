// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/message.hpp"

namespace dhub::broker {
namespace {

using enum MessageType;
using K = FieldKind;
constexpr Presence REQ = Presence::Required;
constexpr Presence OPT = Presence::Optional;

// Keep docs/protocol.md in step with this table (broker_protocol_doc_test checks the names).
constexpr FieldSpec FIELDS[] = {
    {Hello, "protocol_major", K::Unsigned, REQ},
    {Hello, "protocol_minor", K::Unsigned, REQ},
    {Hello, "name", K::Name, REQ},
    {Hello, "role", K::Text, REQ},
    {Hello, "identity", K::Identity, OPT},

    {HelloAck, "protocol_major", K::Unsigned, REQ},
    {HelloAck, "protocol_minor", K::Unsigned, REQ},
    {HelloAck, "session", K::Unsigned, REQ},
    {HelloAck, "heartbeat_ms", K::Unsigned, REQ},
    {HelloAck, "dead_after_ms", K::Unsigned, REQ},

    {RegisterChannel, "name", K::Name, REQ},
    {RegisterChannel, "segment", K::Text, REQ},
    {RegisterChannel, "layout_version", K::Unsigned, REQ},
    {RegisterChannel, "schema_hash", K::Hex, REQ},
    {RegisterChannel, "policies", K::Object, REQ},
    {RegisterChannel, "producer", K::Identity, REQ},
    {RegisterChannel, "slot_bytes", K::Unsigned, REQ},
    {RegisterChannel, "slot_count", K::Unsigned, REQ},
    {RegisterChannel, "attach_secret", K::Secret, REQ},
    {RegisterChannel, "schema", K::Object, OPT},
    {RegisterChannel, "shm_domain", K::Hex, OPT},
    {RegisterChannel, "transport", K::Object, OPT},

    {RegisterChannelAck, "name", K::Name, REQ},
    {RegisterChannelAck, "consumer_count", K::Unsigned, REQ},

    {Discover, "name", K::Name, REQ},
    {Discover, "wait_ms", K::Unsigned, OPT},

    {DiscoverAck, "name", K::Name, REQ},
    {DiscoverAck, "segment", K::Text, REQ},
    {DiscoverAck, "layout_version", K::Unsigned, REQ},
    {DiscoverAck, "schema_hash", K::Hex, REQ},
    {DiscoverAck, "policies", K::Object, REQ},
    {DiscoverAck, "producer", K::Identity, REQ},
    {DiscoverAck, "slot_bytes", K::Unsigned, REQ},
    {DiscoverAck, "slot_count", K::Unsigned, REQ},
    {DiscoverAck, "consumer_count", K::Unsigned, REQ},
    {DiscoverAck, "attach_secret", K::Secret, REQ},
    {DiscoverAck, "schema", K::Object, OPT},
    {DiscoverAck, "shm_domain", K::Hex, OPT},
    {DiscoverAck, "transport", K::Object, OPT},

    {DeregisterChannel, "name", K::Name, REQ},
    {DeregisterChannelAck, "name", K::Name, REQ},

    {RegisterConsumer, "channel", K::Name, REQ},
    {RegisterConsumer, "consumer", K::Identity, REQ},
    {RegisterConsumer, "expected_schema_hash", K::Hex, REQ},
    {RegisterConsumer, "expected_schema", K::Object, OPT},
    {RegisterConsumerAck, "channel", K::Name, REQ},
    {RegisterConsumerAck, "consumer_count", K::Unsigned, REQ},

    {DeregisterConsumer, "channel", K::Name, REQ},
    {DeregisterConsumer, "consumer", K::Identity, REQ},
    {DeregisterConsumerAck, "channel", K::Name, REQ},

    {ListAck, "channels", K::Array, REQ},

    {Error, "code", K::Text, REQ},
    {Error, "message", K::Text, REQ},

    {Notice, "event", K::Text, REQ},
    {Notice, "channel", K::Name, REQ},
    {Notice, "producer", K::Identity, OPT},
    {Notice, "consumer", K::Identity, OPT},
    {Notice, "message", K::Text, OPT},
};

}  // namespace

std::span<const FieldSpec> field_table() noexcept {
    return FIELDS;
}

std::string_view to_string(FieldKind kind) noexcept {
    switch (kind) {
        case FieldKind::Invalid:
            return "invalid";
        case FieldKind::Name:
            return "name (string of 1..128 printable characters, no spaces)";
        case FieldKind::Text:
            return "string of at most 1024 bytes";
        case FieldKind::Hex:
            return "hex string (2..128 characters, even length)";
        case FieldKind::Secret:
            return "hex string of 64 characters";
        case FieldKind::Unsigned:
            return "non-negative integer";
        case FieldKind::Object:
            return "object";
        case FieldKind::Array:
            return "array";
        case FieldKind::Identity:
            return "identity object {pid, start_ticks, name?}";
    }
    return "invalid";
}

}  // namespace dhub::broker
