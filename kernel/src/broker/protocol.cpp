// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/protocol.hpp"

#include <utility>

namespace dhub::broker {
namespace {

struct TypeName {
    MessageType type;
    std::string_view wire;
    MessageType ack;  ///< Invalid unless type is a request
};

constexpr TypeName TYPE_NAMES[] = {
    {MessageType::Hello, "HELLO", MessageType::HelloAck},
    {MessageType::HelloAck, "HELLO_ACK", MessageType::Invalid},
    {MessageType::RegisterChannel, "REGISTER_CHANNEL", MessageType::RegisterChannelAck},
    {MessageType::RegisterChannelAck, "REGISTER_CHANNEL_ACK", MessageType::Invalid},
    {MessageType::Discover, "DISCOVER", MessageType::DiscoverAck},
    {MessageType::DiscoverAck, "DISCOVER_ACK", MessageType::Invalid},
    {MessageType::DeregisterChannel, "DEREGISTER_CHANNEL", MessageType::DeregisterChannelAck},
    {MessageType::DeregisterChannelAck, "DEREGISTER_CHANNEL_ACK", MessageType::Invalid},
    {MessageType::RegisterConsumer, "REGISTER_CONSUMER", MessageType::RegisterConsumerAck},
    {MessageType::RegisterConsumerAck, "REGISTER_CONSUMER_ACK", MessageType::Invalid},
    {MessageType::DeregisterConsumer, "DEREGISTER_CONSUMER", MessageType::DeregisterConsumerAck},
    {MessageType::DeregisterConsumerAck, "DEREGISTER_CONSUMER_ACK", MessageType::Invalid},
    {MessageType::Heartbeat, "HEARTBEAT", MessageType::HeartbeatAck},
    {MessageType::HeartbeatAck, "HEARTBEAT_ACK", MessageType::Invalid},
    {MessageType::List, "LIST", MessageType::ListAck},
    {MessageType::ListAck, "LIST_ACK", MessageType::Invalid},
    {MessageType::Error, "ERROR", MessageType::Invalid},
    {MessageType::Notice, "NOTICE", MessageType::Invalid},
};

}  // namespace

std::string_view to_wire(MessageType type) noexcept {
    for (const auto& entry : TYPE_NAMES) {
        if (entry.type == type) return entry.wire;
    }
    return "INVALID";
}

std::optional<MessageType> message_type_from_wire(std::string_view name) noexcept {
    for (const auto& entry : TYPE_NAMES) {
        if (entry.wire == name) return entry.type;
    }
    return std::nullopt;
}

bool is_request(MessageType type) noexcept {
    return ack_of(type) != MessageType::Invalid;
}

MessageType ack_of(MessageType request) noexcept {
    for (const auto& entry : TYPE_NAMES) {
        if (entry.type == request) return entry.ack;
    }
    return MessageType::Invalid;
}

}  // namespace dhub::broker
