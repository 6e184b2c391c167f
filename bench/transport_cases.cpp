// SPDX-License-Identifier: Apache-2.0
// Transports, in one run over loopback TCP: the zmq transport carrying a channel from one dhub-kernel process to
// another (bench_source -> zmq_send | zmq_receive -> bench_sink) against bare cppzmq PUSH/PULL of the same sizes,
// both also with CurveZMQ; and 64 B latency through the bridge (the far producer's stamp to the sink) against a
// bare ZeroMQ round trip. ZeroMQ contexts live only in forked children: a context does not survive fork().
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "bench_cases.hpp"
#include "harness/latency_stats.hpp"
#include "kernel_bridge.hpp"
#include "support/child_process.hpp"
#include "support/loopback_port.hpp"
#include "support/temp_dir.hpp"
#include "zeromq_round_trip.hpp"

namespace dhub::bench {
namespace {

constexpr std::size_t KIB = 1024;
constexpr std::size_t MIB = KIB * KIB;
constexpr std::uint32_t SLOTS = 64;

struct CurvePair {
    std::string public_key;
    std::string secret_key;
};
struct Curve {
    CurvePair server;
    CurvePair client;
};

CurvePair make_pair() {
    std::array<char, 41> public_key{}, secret_key{};
    if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0)
        throw std::runtime_error("zmq_curve_keypair failed");
    return {public_key.data(), secret_key.data()};
}

/// How many messages of a size make a run of about a second on this machine.
std::uint64_t messages_for(const BenchOptions& options, std::size_t payload) {
    return options.scaled(payload >= MIB ? 4'000 : 400'000);
}

// ---------------------------------------------------------------- bare cppzmq PUSH/PULL over TCP

double bare_push_pull(const BenchOptions& options, std::size_t payload, const std::optional<Curve>& curve) {
    std::optional<CurveKeys> keys;
    if (curve) {
        keys = CurveKeys{curve->server.public_key, curve->server.secret_key, curve->client.public_key,
                         curve->client.secret_key};
    }
    const PushPullTally tally = zeromq_push_pull(options, testing::restartable_loopback_endpoint(), payload,
                                                 messages_for(options, payload), 1000, keys);
    if (tally.bad != 0) throw std::runtime_error(std::to_string(tally.bad) + " messages arrived wrong");
    return static_cast<double>(tally.timed) * 1e9 / static_cast<double>(tally.elapsed_ns);
}

// ---------------------------------------------------------------- the bridge: two dhub-kernel processes

/// Writes a secret key file as dhub-keygen does (mode 0600: the transport refuses one others can read).
std::string secret_file(const testing::TempDir& dir, const std::string& name, const std::string& key) {
    const std::string path = (dir.path() / (name + ".key")).string();
    std::ofstream(path) << key << "\n";
    ::chmod(path.c_str(), 0600);
    return path;
}

/// zmq_send | zmq_receive between two kernels (kernel_bridge.hpp). With rate_hz > 0 the source is paced and the
/// sink times each slot from its far producer's stamp.
BridgeRun bridge(const BenchOptions& options,
                 std::size_t payload,
                 std::uint64_t messages,
                 const std::optional<Curve>& curve,
                 double rate_hz = 0) {
    const testing::TempDir keys("dhub-bench-keys");
    const std::string endpoint = testing::restartable_loopback_endpoint();
    nlohmann::json tx_params = {{"bind", endpoint}};
    nlohmann::json rx_params = {{"connect", endpoint}};
    if (curve) {
        tx_params["curve_secret_key"] = secret_file(keys, "server", curve->server.secret_key);
        rx_params["curve_server_key"] = curve->server.public_key;
        rx_params["curve_secret_key"] = secret_file(keys, "client", curve->client.secret_key);
    }
    const BridgeEnds ends{
        {{"id", "tx"}, {"plugin", "zmq"}, {"component", "dhub.transport.zmq_send"}, {"params", tx_params}},
        {{"id", "rx"}, {"plugin", "zmq"}, {"component", "dhub.transport.zmq_receive"}, {"params", rx_params}}};
    return run_kernel_bridge(options, ends, payload, SLOTS, messages, rate_hz);
}

std::string percent(double ratio) {
    return std::to_string(static_cast<int>(ratio * 100.0 + 0.5)) + " %";
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

std::vector<CaseResult> run_zmq_bridge(const BenchOptions& options) {
    std::vector<CaseResult> results;
    const int rounds = options.quick ? 1 : 3;
    for (const bool with_curve : {false, true}) {
        for (const std::size_t payload : {4 * KIB, MIB}) {
            const std::optional<Curve> curve =
                with_curve ? std::optional<Curve>(Curve{make_pair(), make_pair()}) : std::nullopt;
            const std::string suffix = with_curve ? "_curve" : "";
            CaseResult bare_row{.case_name = "zmq_bridge" + suffix, .transport = "zeromq", .payload_bytes = payload};
            CaseResult bridge_row{.case_name = "zmq_bridge" + suffix, .transport = "dhub", .payload_bytes = payload};
            bare_row.wait = bridge_row.wait = "sleep";
            // Alternated, medians of each: the machine's pace drifts between runs a second apart.
            std::vector<double> bare, bridged;
            std::string pairs;
            try {
                for (int round = 0; round < rounds; ++round) {
                    bare.push_back(bare_push_pull(options, payload, curve));
                    bridged.push_back(bridge(options, payload, messages_for(options, payload), curve).msgs_per_s);
                    pairs += (pairs.empty() ? "" : ", ") + percent(bridged.back() / bare.back());
                }
            } catch (const std::exception& error) {
                bare_row.error = bridge_row.error = error.what();
                results.push_back(bare_row);
                results.push_back(bridge_row);
                continue;
            }
            const double bare_rate = median(bare);
            const double bridge_rate = median(bridged);
            bare_row.msgs_per_s = bare_rate;
            bare_row.gb_per_s = bare_rate * static_cast<double>(payload) / 1e9;
            bare_row.note = "bare cppzmq PUSH/PULL over loopback TCP" + std::string(with_curve ? ", CURVE" : "");
            bridge_row.msgs_per_s = bridge_rate;
            bridge_row.gb_per_s = bridge_rate * static_cast<double>(payload) / 1e9;
            bridge_row.note =
                "kernel -> zmq_send | zmq_receive -> kernel, lossless: " + percent(bridge_rate / bare_rate) +
                " of bare (pairs: " + pairs + ")";
            results.push_back(bare_row);
            results.push_back(bridge_row);
        }
    }
    return results;
}

std::vector<CaseResult> run_zmq_latency(const BenchOptions& options) {
    std::vector<CaseResult> results;
    CaseResult bare_row{.case_name = "zmq_latency", .transport = "zeromq", .payload_bytes = 64};
    CaseResult bridge_row{.case_name = "zmq_latency", .transport = "dhub", .payload_bytes = 64};
    bare_row.wait = bridge_row.wait = "sleep";
    run_case(results, bare_row, [&](CaseResult& row) {
        // 64 B PAIR round trips over TCP: the bare ZeroMQ latency the bridge's one-way latency is set against.
        row.set_latency(
            zeromq_round_trips(options, testing::restartable_loopback_endpoint(), 64, options.sleep_round_trips));
        row.note = "bare ZeroMQ PAIR round trip over loopback TCP";
    });
    run_case(results, bridge_row, [&](CaseResult& row) {
        const std::uint64_t messages = options.quick ? 2'000 : 10'000;
        const BridgeRun run = bridge(options, 64, messages, std::nullopt, 2'000);
        row.p50_ns = run.p50_ns;
        row.p99_ns = run.p99_ns;
        row.note = "one way: the far producer's stamp to the sink in the other kernel, paced at 2 kHz";
    });
    return results;
}

}  // namespace

void register_transport_cases(Registry& registry) {
    registry.add({"transport.zmq_bridge", run_zmq_bridge,
                  "the zmq transport between two dhub-kernel processes vs bare cppzmq PUSH/PULL over loopback TCP, "
                  "4 KiB and 1 MiB, without and with CURVE"});
    registry.add({"transport.zmq_latency", run_zmq_latency,
                  "64 B through the zmq transport (producer stamp to the far sink) vs a bare ZeroMQ round trip"});
}

}  // namespace dhub::bench
