// SPDX-License-Identifier: Apache-2.0
#include "zeromq_round_trip.hpp"

#include <stdexcept>
#include <vector>

#include "harness/child_process.hpp"
#include "harness/process_sync.hpp"
#include "harness/shared_mapping.hpp"
#include "harness/timing.hpp"

namespace dhub::bench {

void send_touched(zmq::socket_t& socket, std::size_t payload, std::uint64_t seq, TouchMode mode) {
    zmq::message_t message(payload);
    write_payload(message.data(), payload, seq, mode);
    if (!socket.send(message, zmq::send_flags::none)) throw std::runtime_error("zmq send would block");
}

bool receive_touched(
    zmq::socket_t& socket, zmq::message_t& message, std::size_t payload, std::uint64_t seq, TouchMode mode) {
    if (!socket.recv(message, zmq::recv_flags::none)) throw std::runtime_error("zmq recv returned nothing");
    return message.size() == payload && read_payload(message.data(), payload, seq, mode);
}

PushPullTally zeromq_push_pull(const BenchOptions& options,
                               const std::string& address,
                               std::size_t payload,
                               std::uint64_t total,
                               int hwm,
                               const std::optional<CurveKeys>& curve) {
    SharedMapping mapping(sizeof(ProcessSync));
    ProcessSync* sync = mapping.emplace<ProcessSync>();
    const TouchMode mode = touch_mode_for(payload);
    auto consumer = ChildProcess::spawn("zeromq pull", options.consumer_core, [=] {
        zmq::context_t context(1);
        zmq::socket_t socket(context, zmq::socket_type::pull);
        socket.set(zmq::sockopt::rcvhwm, hwm);
        if (curve) {
            socket.set(zmq::sockopt::curve_server, 1);
            socket.set(zmq::sockopt::curve_secretkey, curve->server_secret);
        }
        socket.bind(address);
        sync->arrive();
        sync->wait_for_arrivals(2);
        const std::uint64_t warmup = total / 10;
        PushPullTally tally;
        zmq::message_t message;
        std::int64_t start = now_ns();
        // PUSH/PULL with a blocking sender is lossless: the producer waits at the high-water mark.
        for (std::uint64_t seq = 0; seq < total; ++seq) {
            if (!receive_touched(socket, message, payload, seq, mode)) ++tally.bad;
            if (seq + 1 == warmup) start = now_ns();
        }
        tally.elapsed_ns = now_ns() - start;
        tally.timed = total - warmup;
        return tally;
    });
    auto producer = ChildProcess::spawn("zeromq push", options.producer_core, [=] {
        zmq::context_t context(1);
        zmq::socket_t socket(context, zmq::socket_type::push);
        socket.set(zmq::sockopt::sndhwm, hwm);
        if (curve) {
            socket.set(zmq::sockopt::curve_serverkey, curve->server_public);
            socket.set(zmq::sockopt::curve_publickey, curve->client_public);
            socket.set(zmq::sockopt::curve_secretkey, curve->client_secret);
        }
        socket.connect(address);
        sync->arrive();
        sync->wait_for_arrivals(2);
        for (std::uint64_t seq = 0; seq < total; ++seq)
            send_touched(socket, payload, seq, mode);
        // Closing the context waits (infinite linger) until every queued message went out.
    });
    wait_all({&producer, &consumer}, options.child_timeout);
    return consumer.result<PushPullTally>();
}

LatencySummary zeromq_round_trips(const BenchOptions& options,
                                  const std::string& address,
                                  std::size_t payload,
                                  std::uint64_t total) {
    SharedMapping mapping(sizeof(ProcessSync));
    ProcessSync* sync = mapping.emplace<ProcessSync>();
    const std::uint64_t warmup = BenchOptions::warmup_of(total);
    auto responder = ChildProcess::spawn("zeromq pong", options.consumer_core, [=] {
        zmq::context_t context(1);
        zmq::socket_t socket(context, zmq::socket_type::pair);
        socket.bind(address);
        sync->arrive();
        zmq::message_t ping;
        for (std::uint64_t i = 0; i < total; ++i) {
            if (!receive_touched(socket, ping, payload, i, TouchMode::ends)) {
                throw std::runtime_error("ping " + std::to_string(i) + " has wrong contents");
            }
            send_touched(socket, payload, i, TouchMode::ends);
        }
    });
    auto pinger = ChildProcess::spawn("zeromq ping", options.producer_core, [=] {
        zmq::context_t context(1);
        zmq::socket_t socket(context, zmq::socket_type::pair);
        socket.connect(address);
        sync->arrive();
        sync->wait_for_arrivals(2);
        std::vector<std::int64_t> samples;
        samples.reserve(total - warmup);
        zmq::message_t pong;
        for (std::uint64_t i = 0; i < total; ++i) {
            const std::int64_t start = now_ns();
            send_touched(socket, payload, i, TouchMode::ends);
            const bool good = receive_touched(socket, pong, payload, i, TouchMode::ends);
            const std::int64_t end = now_ns();
            if (!good) throw std::runtime_error("pong " + std::to_string(i) + " has wrong contents");
            if (i >= warmup) samples.push_back(end - start);
        }
        return summarize_latencies(std::move(samples));
    });
    wait_all({&pinger, &responder}, options.child_timeout);
    return pinger.result<LatencySummary>();
}

}  // namespace dhub::bench
