// SPDX-License-Identifier: Apache-2.0
// The zmq transport's wire protocol, version 1 (docs/transports.md, "Wire protocol"): what a sender and a
// receiver say to each other, as bytes. No socket here: encoding and decoding are pure functions over byte
// spans, so that every frame a peer can send is tested and fuzzed without a network.
//
// Every message is one header frame, and DATA has a second frame with the chunk's bytes. A header starts with
// the same eight bytes in every version: magic "DHZT", the version (u16), the type (u8), flags (u8). Integers
// are little-endian.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace dhub::zmq_transport {

inline constexpr std::uint32_t WIRE_MAGIC = 0x545A4844;  // "DHZT" read little-endian
inline constexpr std::uint16_t WIRE_VERSION = 1;
/// HELLO's resume_next when the receiver has nothing yet: start with the oldest slot the sender still keeps.
inline constexpr std::uint64_t RESUME_NONE = ~std::uint64_t{0};
/// Limits on the texts a peer sends, so that a hostile one cannot make a receiver allocate much.
inline constexpr std::size_t MAX_NAME_BYTES = 256;
inline constexpr std::size_t MAX_TEXT_BYTES = 1024;

enum class MessageType : std::uint8_t {
    Hello = 1,      ///< receiver -> sender: which channel, its geometry, where to resume
    Welcome = 2,    ///< sender -> receiver: the sender's channel, session and mode
    Refuse = 3,     ///< either way: why not
    Credit = 4,     ///< receiver -> sender: what it committed, how many more it takes
    Data = 5,       ///< sender -> receiver: one chunk of one slot (+ a payload frame)
    Heartbeat = 6,  ///< sender -> receiver: alive, and what it sent so far
    Bye = 7,        ///< receiver -> sender: leaving for good; forget me
    End = 8,        ///< sender -> receiver: the channel closed; nothing follows its last slot
    Batch = 9,      ///< sender -> receiver: several whole small slots (+ one frame with their bytes, in order)
};

enum class Delivery : std::uint8_t { Lossless = 1, Latest = 2 };

enum class RefuseCode : std::uint16_t {
    Mismatch = 1,     ///< the two channels differ (name, slot size, schema)
    Version = 2,      ///< the peer speaks another protocol version
    UnknownPeer = 3,  ///< a credit from a peer the sender does not know (it restarted): say hello again
    Malformed = 4,    ///< a frame this end cannot read
};

/// The geometry both ends compare.
struct ChannelDescription {
    std::string name;
    std::uint64_t slot_bytes = 0;
    std::uint32_t slot_count = 0;
    std::array<std::uint8_t, 32> schema_hash{};
    bool operator==(const ChannelDescription&) const = default;
};

struct Hello {
    ChannelDescription channel;               ///< the receiver's local channel
    std::uint64_t session = 0;                ///< the sender session it last heard of (0: none)
    std::uint64_t resume_next = RESUME_NONE;  ///< the far sequence number it wants next, in that session
    std::uint32_t credits = 0;                ///< slots it takes beyond resume_next
    std::string label;                        ///< who it is, for the sender's log ("kernel-b/rx")
    bool operator==(const Hello&) const = default;
};

struct Welcome {
    ChannelDescription channel;  ///< the sender's local channel
    std::uint64_t session = 0;   ///< random per sender start: a new one means its sequence numbers restarted
    /// The first sequence number it will send this receiver: anything before it is gone from the sender.
    /// RESUME_NONE: not known yet (the sender has read nothing): the first that arrives.
    std::uint64_t first = 0;
    std::uint32_t chunk_bytes = 0;
    Delivery delivery = Delivery::Lossless;
    bool operator==(const Welcome&) const = default;
};

struct Refuse {
    RefuseCode code = RefuseCode::Malformed;
    std::string text;
    bool operator==(const Refuse&) const = default;
};

inline constexpr std::uint8_t CREDIT_REWIND = 1;  ///< Credit.flags: resend everything from next on

struct Credit {
    std::uint64_t session = 0;
    std::uint64_t next = 0;     ///< every far sequence number below it is committed (or, latest, passed over)
    std::uint32_t credits = 0;  ///< slots it takes beyond those: the sender keeps at most this many in flight
    std::uint8_t flags = 0;     ///< CREDIT_REWIND
    bool operator==(const Credit&) const = default;
};

inline constexpr std::uint8_t DATA_LAST_CHUNK = 1;  ///< Data.flags: the slot's last chunk

struct Data {
    std::uint64_t session = 0;
    std::uint64_t sequence = 0;      ///< the far producer's sequence number
    std::uint64_t timestamp_ns = 0;  ///< the far producer's stamp
    std::uint64_t slot_bytes = 0;    ///< the whole slot's committed length
    std::uint64_t offset = 0;        ///< where this chunk starts in the slot
    /// The sequence number of the slot before this one in the sender's stream (RESUME_NONE: none): a lossless
    /// receiver missing sequence numbers between the two knows they never reached the sender, and counts them
    /// lost instead of asking for them again.
    std::uint64_t previous = RESUME_NONE;
    std::uint8_t flags = 0;                ///< DATA_LAST_CHUNK
    std::span<const std::byte> payload{};  ///< the second frame: the chunk's bytes (decode only)
};

/// Several whole slots in one message: small slots one at a time would cost ZeroMQ a message, and both threads a
/// wake-up, each.
inline constexpr std::size_t MAX_BATCH_SLOTS = 256;

struct BatchSlot {
    std::uint64_t sequence = 0;
    std::uint64_t timestamp_ns = 0;
    std::uint64_t slot_bytes = 0;
    std::uint64_t previous = RESUME_NONE;
    bool operator==(const BatchSlot&) const = default;
};

struct Batch {
    std::uint64_t session = 0;
    std::vector<BatchSlot> slots;
    std::span<const std::byte> payload{};  ///< the second frame: the slots' bytes back to back (decode only)
    /// Each slot as the DATA message of one whole chunk it stands for, its payload within `payload`.
    std::vector<Data> as_data() const;
};

struct Heartbeat {
    std::uint64_t session = 0;
    std::uint64_t sent_next = 0;  ///< one past the newest sequence number sent to this receiver (0: none yet)
    bool operator==(const Heartbeat&) const = default;
};

struct Bye {
    bool operator==(const Bye&) const = default;
};

struct End {
    std::uint64_t session = 0;
    std::uint64_t end_next = 0;  ///< one past the channel's last sequence number
    bool operator==(const End&) const = default;
};

using Message = std::variant<Hello, Welcome, Refuse, Credit, Data, Heartbeat, Bye, End, Batch>;

/// Why a message could not be read: what and where ("DATA header: 40 bytes, expected 48"), and the code a
/// sender answers with.
struct DecodeError {
    RefuseCode code = RefuseCode::Malformed;
    std::string what;
};

/// Reads one message from its frames (the routing id already taken off). Never throws on any input.
std::variant<Message, DecodeError> decode(std::span<const std::span<const std::byte>> frames);

/// The header frame of a message (DATA's payload goes in a second frame of the caller's).
std::vector<std::byte> encode(const Hello& message);
std::vector<std::byte> encode(const Welcome& message);
std::vector<std::byte> encode(const Refuse& message);
std::vector<std::byte> encode(const Credit& message);
std::vector<std::byte> encode(const Data& message);
std::vector<std::byte> encode(const Heartbeat& message);
std::vector<std::byte> encode(const Bye& message);
std::vector<std::byte> encode(const End& message);
std::vector<std::byte> encode(const Batch& message);

/// "HELLO", "DATA", ... for log lines.
const char* name_of(MessageType type) noexcept;

}  // namespace dhub::zmq_transport
