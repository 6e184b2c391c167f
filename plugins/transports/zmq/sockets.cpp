// SPDX-License-Identifier: Apache-2.0
#include "sockets.hpp"

#include <cerrno>

namespace dhub::zmq_transport {
namespace {

/// ZeroMQ's free callback: drops the message's reference to its buffer.
void release_buffer(void* /*data*/, void* hint) {
    delete static_cast<SharedBytes*>(hint);
}

/// ZeroMQ's free callback for a message sent in place: one fewer it holds (release: its reads of the bytes are
/// done before the owner, which loads with acquire, lets them change).
void drop_in_zmq(void* /*data*/, void* hint) {
    static_cast<InZmq*>(hint)->fetch_sub(1, std::memory_order_release);
}

}  // namespace

zmq::message_t message_in_place(std::span<const std::byte> bytes, InZmq& in_zmq) {
    if (bytes.empty()) return zmq::message_t();
    in_zmq.fetch_add(1, std::memory_order_relaxed);
    try {
        // ZeroMQ's API takes a non-const pointer, but never writes through it for a message it sends.
        return zmq::message_t(const_cast<std::byte*>(bytes.data()), bytes.size(), &drop_in_zmq, &in_zmq);
    } catch (...) {
        in_zmq.fetch_sub(1, std::memory_order_relaxed);
        throw;
    }
}

bool wait_readable(zmq::socket_t& socket, int timeout_ms) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    try {
        return zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) > 0;
    } catch (const zmq::error_t& error) {
        if (error.num() == EINTR) return false;  // a signal to the process: the caller looks again
        throw;
    }
}

Incoming receive(zmq::socket_t& socket) {
    Incoming incoming;
    zmq::message_t frame;
    try {
        if (!socket.recv(frame, zmq::recv_flags::dontwait)) return incoming;
    } catch (const zmq::error_t& error) {
        if (error.num() == EINTR) return incoming;
        throw;
    }
    bool more = frame.more();
    incoming.frames.push_back(std::move(frame));
    while (more) {
        zmq::message_t next;
        // The parts of a message arrive together: once the first is read, the rest are there.
        try {
            if (!socket.recv(next, zmq::recv_flags::none)) break;
        } catch (const zmq::error_t& error) {
            if (error.num() == EINTR) continue;
            throw;
        }
        more = next.more();
        if (incoming.frames.size() < MAX_FRAMES) {
            incoming.frames.push_back(std::move(next));
        } else {
            ++incoming.dropped;
        }
    }
    return incoming;
}

std::vector<std::span<const std::byte>> spans_of(const std::vector<zmq::message_t>& frames, std::size_t skip) {
    std::vector<std::span<const std::byte>> spans;
    for (std::size_t index = skip; index < frames.size(); ++index) {
        spans.emplace_back(static_cast<const std::byte*>(frames[index].data()), frames[index].size());
    }
    return spans;
}

zmq::message_t message_viewing(const SharedBytes& owner, std::span<const std::byte> bytes) {
    if (bytes.empty()) return zmq::message_t();
    auto* hint = new SharedBytes(owner);
    // ZeroMQ's API takes a non-const pointer, but never writes through it for a message it sends.
    auto* data = const_cast<std::byte*>(bytes.data());
    try {
        return zmq::message_t(data, bytes.size(), &release_buffer, hint);
    } catch (...) {
        delete hint;
        throw;
    }
}

void make_curve_server(zmq::socket_t& socket, const std::string& secret_key) {
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, secret_key);
}

void make_curve_client(zmq::socket_t& socket,
                       const std::string& server_public_key,
                       const std::string& public_key,
                       const std::string& secret_key) {
    socket.set(zmq::sockopt::curve_serverkey, server_public_key);
    socket.set(zmq::sockopt::curve_publickey, public_key);
    socket.set(zmq::sockopt::curve_secretkey, secret_key);
}

std::string printable(std::string_view routing_id) {
    static constexpr char DIGITS[] = "0123456789abcdef";
    std::string text;
    for (const char c : routing_id) {
        const auto byte = static_cast<unsigned char>(c);
        text.push_back(DIGITS[byte >> 4]);
        text.push_back(DIGITS[byte & 0xF]);
    }
    return text;
}

}  // namespace dhub::zmq_transport
