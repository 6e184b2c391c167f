// SPDX-License-Identifier: Apache-2.0
// Bare ZeroMQ as a yardstick, shared by the ZeroMQ peer rows (peer_zeromq.cpp, over ipc://) and the transport rows
// (transport_cases.cpp, over tcp://): messages whose payload ends are stamped and checked, and PAIR round trips
// between two forked children. ZeroMQ contexts live only in the children: a context does not survive fork().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "harness/latency_stats.hpp"
#include "harness/payload_touch.hpp"
#include "harness/registry.hpp"

namespace dhub::bench {

/// Sends message `seq` of `payload` bytes. ZeroMQ owns the buffer, so writing into it is the producer's only copy.
void send_touched(zmq::socket_t& socket, std::size_t payload, std::uint64_t seq, TouchMode mode);
/// Receives the next message into `message`; true when it is message `seq` of `payload` bytes.
bool receive_touched(
    zmq::socket_t& socket, zmq::message_t& message, std::size_t payload, std::uint64_t seq, TouchMode mode);

/// CURVE key pairs (Z85) for a yardstick run with encryption: the binding side is the server.
struct CurveKeys {
    std::string server_public, server_secret, client_public, client_secret;
};

/// What the PULL side of a one-way run counted: the messages after the first tenth, the time they took, and
/// those that arrived wrong.
struct PushPullTally {
    std::uint64_t timed = 0;
    std::int64_t elapsed_ns = 0;
    std::uint64_t bad = 0;
};

/// `total` messages of `payload` bytes PUSHed to a PULL socket bound at `address`, blocking at the high-water mark
/// `hwm` on both sides (lossless), with CURVE when `curve` is given.
PushPullTally zeromq_push_pull(const BenchOptions& options,
                               const std::string& address,
                               std::size_t payload,
                               std::uint64_t total,
                               int hwm,
                               const std::optional<CurveKeys>& curve = std::nullopt);

/// `total` PAIR round trips of `payload` bytes over `address` (the responder binds it), ends touched and checked;
/// the pinger's latencies after the warm-up.
LatencySummary zeromq_round_trips(const BenchOptions& options,
                                  const std::string& address,
                                  std::size_t payload,
                                  std::uint64_t total);

}  // namespace dhub::bench
