// SPDX-License-Identifier: Apache-2.0
// Peer: ZeroMQ (cppzmq) over ipc:// endpoints in a private temporary directory, transport "zeromq".
// ZeroMQ always blocks inside the library, so every row is a "sleep" row. Contexts are created
// only inside forked children: a ZeroMQ context does not survive fork().
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "bench_cases.hpp"
#include "harness/child_process.hpp"
#include "harness/latency_stats.hpp"
#include "harness/payload_touch.hpp"
#include "harness/process_sync.hpp"
#include "harness/shared_mapping.hpp"
#include "harness/timing.hpp"
#include "support/temp_dir.hpp"

namespace dhub::bench {
namespace {

constexpr const char* TRANSPORT = "zeromq";
constexpr std::size_t MIB = std::size_t{1} << 20;

std::string endpoint(const testing::TempDir& dir, const std::string& name) {
    return "ipc://" + (dir.path() / name).string();
}

// Sends message `seq` of `payload` bytes. ZeroMQ owns the buffer, so writing into it is the
// producer's only copy; the kernel copies again on the way through the socket.
void send_message(zmq::socket_t& socket, std::size_t payload, std::uint64_t seq, TouchMode mode) {
    zmq::message_t message(payload);
    write_payload(message.data(), payload, seq, mode);
    if (!socket.send(message, zmq::send_flags::none)) throw std::runtime_error("zmq send would block");
}

bool receive_message(
    zmq::socket_t& socket, zmq::message_t& message, std::size_t payload, std::uint64_t seq, TouchMode mode) {
    if (!socket.recv(message, zmq::recv_flags::none)) throw std::runtime_error("zmq recv returned nothing");
    return message.size() == payload && read_payload(message.data(), payload, seq, mode);
}

// ---------------------------------------------------------------- ping-pong (PAIR)

void measure_pingpong(const BenchOptions& options, const testing::TempDir& dir, std::size_t payload, CaseResult& row) {
    SharedMapping mapping(sizeof(ProcessSync));
    ProcessSync* sync = mapping.emplace<ProcessSync>();
    const std::string address = endpoint(dir, "pingpong-" + std::to_string(payload));
    std::uint64_t total = options.sleep_round_trips;
    if (payload >= MIB) total = std::max<std::uint64_t>(total / 10, 100);  // ~1 ms per round trip
    const std::uint64_t warmup = BenchOptions::warmup_of(total);

    auto responder = ChildProcess::spawn("zeromq pong", options.consumer_core, [=] {
        zmq::context_t context(1);
        zmq::socket_t socket(context, zmq::socket_type::pair);
        socket.connect(address);
        sync->arrive();
        zmq::message_t ping;
        for (std::uint64_t i = 0; i < total; ++i) {
            if (!receive_message(socket, ping, payload, i, TouchMode::ends)) {
                throw std::runtime_error("ping " + std::to_string(i) + " has wrong contents");
            }
            send_message(socket, payload, i, TouchMode::ends);
        }
    });
    auto pinger = ChildProcess::spawn("zeromq ping", options.producer_core, [=] {
        zmq::context_t context(1);
        zmq::socket_t socket(context, zmq::socket_type::pair);
        socket.bind(address);
        sync->arrive();
        sync->wait_for_arrivals(2);
        std::vector<std::int64_t> samples;
        samples.reserve(total - warmup);
        zmq::message_t pong;
        for (std::uint64_t i = 0; i < total; ++i) {
            const std::int64_t start = now_ns();
            send_message(socket, payload, i, TouchMode::ends);
            const bool good = receive_message(socket, pong, payload, i, TouchMode::ends);
            const std::int64_t end = now_ns();
            if (!good) throw std::runtime_error("pong " + std::to_string(i) + " has wrong contents");
            if (i >= warmup) samples.push_back(end - start);
        }
        return summarize_latencies(std::move(samples));
    });
    wait_all({&pinger, &responder}, options.child_timeout);
    row.set_latency(pinger.result<LatencySummary>());
    row.note = "PAIR, ends touched (copied by zmq), " + std::to_string(total - warmup) + " round trips";
}

// ---------------------------------------------------------------- one-way (PUSH/PULL)

struct OnewayConfig {
    std::size_t payload_bytes;
    int high_water_mark;  // messages queued per side; bounded at large sizes to bound memory
    std::size_t full_messages;
};

struct ConsumerTally {
    std::uint64_t received = 0;
    std::uint64_t timed_messages = 0;
    std::int64_t elapsed_ns = 0;
    std::uint64_t bad_messages = 0;
};

void measure_oneway(const BenchOptions& options,
                    const testing::TempDir& dir,
                    const OnewayConfig& config,
                    CaseResult& row) {
    SharedMapping mapping(sizeof(ProcessSync));
    ProcessSync* sync = mapping.emplace<ProcessSync>();
    const std::string address = endpoint(dir, "oneway-" + std::to_string(config.payload_bytes));
    const std::uint64_t total = options.scaled(config.full_messages);
    const std::size_t payload = config.payload_bytes;
    const int hwm = config.high_water_mark;
    const TouchMode mode = touch_mode_for(payload);

    auto consumer = ChildProcess::spawn("zeromq oneway consumer", options.consumer_core, [=] {
        zmq::context_t context(1);
        zmq::socket_t socket(context, zmq::socket_type::pull);
        socket.set(zmq::sockopt::rcvhwm, hwm);
        socket.bind(address);
        sync->arrive();
        sync->wait_for_arrivals(2);
        const std::uint64_t warmup = total / 10;
        ConsumerTally tally;
        zmq::message_t message;
        std::int64_t start = now_ns();
        // PUSH/PULL with a blocking sender is lossless: the producer waits at the high-water mark.
        for (std::uint64_t seq = 0; seq < total; ++seq) {
            if (!receive_message(socket, message, payload, seq, mode)) ++tally.bad_messages;
            if (++tally.received == warmup) start = now_ns();
        }
        tally.elapsed_ns = now_ns() - start;
        tally.timed_messages = tally.received - warmup;
        return tally;
    });
    auto producer = ChildProcess::spawn("zeromq oneway producer", options.producer_core, [=] {
        zmq::context_t context(1);
        zmq::socket_t socket(context, zmq::socket_type::push);
        socket.set(zmq::sockopt::sndhwm, hwm);
        socket.connect(address);
        sync->arrive();
        sync->wait_for_arrivals(2);
        for (std::uint64_t seq = 0; seq < total; ++seq)
            send_message(socket, payload, seq, mode);
        // Closing the context waits (infinite linger) until every queued message went out.
    });
    wait_all({&producer, &consumer}, options.child_timeout);
    const auto tally = consumer.result<ConsumerTally>();
    row.set_throughput(tally.timed_messages, tally.elapsed_ns);
    row.note = "PUSH/PULL, HWM " + std::to_string(hwm) + ", " + std::string(touch_mode_name(mode)) + ", " +
               (tally.bad_messages == 0 ? std::string("lossless") : "bad " + std::to_string(tally.bad_messages));
}

// ---------------------------------------------------------------- groups

std::vector<CaseResult> run_pingpong(const BenchOptions& options) {
    const testing::TempDir dir("dhub-bench-zmq");
    std::vector<CaseResult> results;
    for (std::size_t payload : {std::size_t{64}, std::size_t{4096}, MIB}) {
        CaseResult row{.case_name = "pingpong", .transport = TRANSPORT, .payload_bytes = payload};
        row.wait = "sleep";
        run_case(results, row, [&](CaseResult& r) { measure_pingpong(options, dir, payload, r); });
    }
    return results;
}

std::vector<CaseResult> run_oneway(const BenchOptions& options) {
    static constexpr OnewayConfig CONFIGS[] = {
        {64, 1000, 5'000'000},
        {4096, 1000, 500'000},
        {64 * 1024, 100, 50'000},
        {MIB, 16, 4'000},
    };
    const testing::TempDir dir("dhub-bench-zmq");
    std::vector<CaseResult> results;
    for (const OnewayConfig& config : CONFIGS) {
        CaseResult row{.case_name = "oneway", .transport = TRANSPORT, .payload_bytes = config.payload_bytes};
        row.wait = "sleep";
        run_case(results, row, [&](CaseResult& r) { measure_oneway(options, dir, config, r); });
    }
    return results;
}

}  // namespace

void register_zeromq_cases(Registry& registry) {
    registry.add({"zeromq.pingpong", run_pingpong, "ZeroMQ PAIR round trip over ipc://, 64 B / 4 KiB / 1 MiB"});
    registry.add({"zeromq.oneway", run_oneway, "ZeroMQ PUSH/PULL lossless one-way throughput over ipc://"});
}

}  // namespace dhub::bench
