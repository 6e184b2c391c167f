// SPDX-License-Identifier: Apache-2.0
// Encoding and decoding of control-plane messages: pure functions over frames, no sockets. decode() never
// throws and never trusts its input: every malformed case becomes a DecodeError with a reason.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dhub/broker/message.hpp"

namespace dhub::broker {

enum class DecodeFailure : std::uint8_t {
    None = 0,
    Truncated,        ///< fewer than FRAME_COUNT frames
    ExtraFrames,      ///< more than FRAME_COUNT frames
    BadHeader,        ///< frame 1 is not "DHUB" + 2 version bytes
    VersionMismatch,  ///< protocol major differs from ours
    UnknownType,      ///< frame 2 names no message type
    BadRequestId,     ///< frame 3 is not 8 bytes
    OversizedBody,    ///< frame 4 exceeds MAX_BODY_BYTES
    InvalidJson,      ///< frame 4 is not JSON text (or nests deeper than MAX_JSON_DEPTH)
    NotAnObject,      ///< the body is JSON but not an object
    MissingField,     ///< a required field is absent
    WrongFieldType,   ///< a field has the wrong type, length or characters
};

std::string_view to_string(DecodeFailure failure) noexcept;

struct DecodeError {
    DecodeFailure failure = DecodeFailure::None;
    std::string reason;  ///< names the frame or field, what was expected and what was found
    /// Known when frame 3 could be read, so that the ERROR reply can echo it.
    std::optional<std::uint64_t> request_id;
};

class [[nodiscard]] Decoded {
public:
    Decoded(Message message) : message_(std::move(message)) {}  // NOLINT(google-explicit-constructor)
    Decoded(DecodeError error) : error_(std::move(error)) {}    // NOLINT(google-explicit-constructor)
    bool ok() const noexcept { return message_.has_value(); }
    const Message& message() const { return *message_; }
    Message& message() { return *message_; }
    const DecodeError& error() const noexcept { return error_; }

private:
    std::optional<Message> message_;
    DecodeError error_;
};

using Frames = std::array<std::string, FRAME_COUNT>;

/// Frames for message (our protocol version in the header). The body is serialised as compact JSON.
Frames encode(const Message& message);
/// Validates framing, version, type, request id, body size, JSON syntax and depth, and the body fields
/// against field_table(). Never throws.
Decoded decode(std::span<const std::string_view> frames) noexcept;

/// Checks body against the fields field_table() lists for type; "" if it conforms, else the reason.
/// Exposed so that encode-side tests can check what we send with the same rules.
std::string check_body(MessageType type, const nlohmann::json& body);

void put_u64_le(std::uint64_t value, char* out) noexcept;
std::uint64_t get_u64_le(const char* in) noexcept;

}  // namespace dhub::broker
