// SPDX-License-Identifier: Apache-2.0
// What both halves of the zmq transport do with their sockets: read one whole message without waiting, send a
// header frame (and a chunk that ZeroMQ sends from the slot copy without copying it again), set CURVE up.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <zmq.hpp>

namespace dhub::zmq_transport {

/// At most this many frames are kept of one message; a peer that sends more is malformed, and the rest of its
/// message is read and dropped.
inline constexpr std::size_t MAX_FRAMES = 4;

/// One message off the socket, without waiting. frames is empty when nothing was waiting. A ROUTER's first frame
/// is the peer's routing id. dropped counts frames past MAX_FRAMES.
struct Incoming {
    std::vector<zmq::message_t> frames;
    std::size_t dropped = 0;
};
Incoming receive(zmq::socket_t& socket);

/// Waits up to timeout_ms for a message; false when none came, or a signal cut the wait short (EINTR).
bool wait_readable(zmq::socket_t& socket, int timeout_ms);

/// The frames after `skip` as byte spans, for decode().
std::vector<std::span<const std::byte>> spans_of(const std::vector<zmq::message_t>& frames, std::size_t skip);

/// Bytes of a shared buffer that ZeroMQ may send without copying: the buffer lives until ZeroMQ is done.
using SharedBytes = std::shared_ptr<const std::byte[]>;
zmq::message_t message_viewing(const SharedBytes& owner, std::span<const std::byte> bytes);

/// How many messages ZeroMQ holds of bytes it sends in place, such as a slot kept in shared memory: each message
/// adds one, ZeroMQ's free callback (on its I/O thread) takes it off again. The bytes may change once it reads 0.
using InZmq = std::atomic<std::uint32_t>;
zmq::message_t message_in_place(std::span<const std::byte> bytes, InZmq& in_zmq);

inline zmq::message_t message_of(const std::vector<std::byte>& bytes) {
    return zmq::message_t(bytes.data(), bytes.size());
}

/// CURVE server options on a socket that binds: its secret key.
void make_curve_server(zmq::socket_t& socket, const std::string& secret_key);
/// CURVE client options on a socket that connects: the server's public key, its own pair.
void make_curve_client(zmq::socket_t& socket,
                       const std::string& server_public_key,
                       const std::string& public_key,
                       const std::string& secret_key);

/// A routing id as printable text (hex) for log lines.
std::string printable(std::string_view routing_id);

}  // namespace dhub::zmq_transport
