// SPDX-License-Identifier: Apache-2.0
// The control-plane wire protocol between a BrokerClient (DEALER) and the broker (ROUTER): the one source of
// truth for its version, frame layout, message types, error codes and notice events. docs/protocol.md
// describes the same table for humans; a unit test checks that every name here appears there.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dhub::broker {

/// A major bump breaks compatibility (the broker answers ERROR VERSION_MISMATCH); a minor bump only adds
/// optional fields or message types, which older peers ignore or answer with UNKNOWN_TYPE.
inline constexpr std::uint8_t PROTOCOL_MAJOR = 1;
inline constexpr std::uint8_t PROTOCOL_MINOR = 2;  // 1: typed schema documents; 2: shm_domain, transport

/// Frame 1 of every message: "DHUB" then the major and minor version bytes. Frozen for every major version,
/// together with the ERROR message, so that a peer of another major can still be told why it is refused.
inline constexpr std::size_t HEADER_BYTES = 6;
inline constexpr std::array<char, 4> MAGIC = {'D', 'H', 'U', 'B'};

/// Frames of a message as a DEALER sends it: header, type, request id, JSON body. The ROUTER sees the
/// sender's routing id in front of them.
inline constexpr std::size_t FRAME_COUNT = 4;
inline constexpr std::size_t REQUEST_ID_BYTES = 8;  ///< u64, little-endian
inline constexpr std::size_t MAX_BODY_BYTES = 64 * 1024;
inline constexpr std::size_t MAX_TYPE_BYTES = 32;
inline constexpr int MAX_JSON_DEPTH = 8;
/// Request id of broker-initiated NOTICE messages; clients never use it for requests.
inline constexpr std::uint64_t NOTICE_REQUEST_ID = 0;

enum class MessageType : std::uint8_t {
    Invalid = 0,
    Hello,
    HelloAck,
    RegisterChannel,
    RegisterChannelAck,
    Discover,
    DiscoverAck,
    DeregisterChannel,
    DeregisterChannelAck,
    RegisterConsumer,
    RegisterConsumerAck,
    DeregisterConsumer,
    DeregisterConsumerAck,
    Heartbeat,
    HeartbeatAck,
    List,
    ListAck,
    Error,
    Notice,
};

/// The name on the wire ("REGISTER_CHANNEL"); "INVALID" for Invalid.
std::string_view to_wire(MessageType type) noexcept;
std::optional<MessageType> message_type_from_wire(std::string_view name) noexcept;
/// A request a client may send (the broker answers it with its _ACK or with ERROR).
bool is_request(MessageType type) noexcept;
/// The successful answer to a request type; Invalid for non-requests.
MessageType ack_of(MessageType request) noexcept;

/// ERROR {code, message}: the stable machine-readable part is the code.
namespace error_code {
inline constexpr std::string_view MALFORMED = "MALFORMED";                    ///< the frames could not be decoded
inline constexpr std::string_view VERSION_MISMATCH = "VERSION_MISMATCH";      ///< protocol major differs
inline constexpr std::string_view UNKNOWN_TYPE = "UNKNOWN_TYPE";              ///< not a request this broker knows
inline constexpr std::string_view HELLO_REQUIRED = "HELLO_REQUIRED";          ///< no session: send HELLO first
inline constexpr std::string_view NOT_FOUND = "NOT_FOUND";                    ///< no such channel / consumer
inline constexpr std::string_view ALREADY_REGISTERED = "ALREADY_REGISTERED";  ///< owned by another live producer
inline constexpr std::string_view SCHEMA_MISMATCH = "SCHEMA_MISMATCH";        ///< hashes differ (both named)
inline constexpr std::string_view NOT_AUTHORIZED = "NOT_AUTHORIZED";          ///< the allowlist forbids it
inline constexpr std::string_view NOT_OWNER = "NOT_OWNER";                    ///< deregistering what another owns
inline constexpr std::string_view LIMIT_EXCEEDED = "LIMIT_EXCEEDED";          ///< a broker bound was reached
}  // namespace error_code

/// NOTICE {event, channel, ...}: pushed by the broker, request id 0.
namespace notice_event {
inline constexpr std::string_view PRODUCER_DIED = "producer_died";    ///< to the channel's consumers
inline constexpr std::string_view CONSUMER_DIED = "consumer_died";    ///< to the channel's producer
inline constexpr std::string_view CHANNEL_CLOSED = "channel_closed";  ///< producer deregistered; to consumers
inline constexpr std::string_view CHANNEL_ERROR = "channel_error";    ///< e.g. a mismatching re-registration
}  // namespace notice_event

}  // namespace dhub::broker
