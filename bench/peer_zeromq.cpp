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
#include "zeromq_round_trip.hpp"

namespace dhub::bench {
namespace {

constexpr const char* TRANSPORT = "zeromq";
constexpr std::size_t MIB = std::size_t{1} << 20;

std::string endpoint(const testing::TempDir& dir, const std::string& name) {
    return "ipc://" + (dir.path() / name).string();
}

// ---------------------------------------------------------------- ping-pong (PAIR)

void measure_pingpong(const BenchOptions& options, const testing::TempDir& dir, std::size_t payload, CaseResult& row) {
    std::uint64_t total = options.sleep_round_trips;
    if (payload >= MIB) total = std::max<std::uint64_t>(total / 10, 100);  // ~1 ms per round trip
    row.set_latency(zeromq_round_trips(options, endpoint(dir, "pingpong-" + std::to_string(payload)), payload, total));
    row.note = "PAIR, ends touched (copied by zmq), " + std::to_string(total - BenchOptions::warmup_of(total)) +
               " round trips";
}

// ---------------------------------------------------------------- one-way (PUSH/PULL)

struct OnewayConfig {
    std::size_t payload_bytes;
    int high_water_mark;  // messages queued per side; bounded at large sizes to bound memory
    std::size_t full_messages;
};

void measure_oneway(const BenchOptions& options,
                    const testing::TempDir& dir,
                    const OnewayConfig& config,
                    CaseResult& row) {
    const std::string address = endpoint(dir, "oneway-" + std::to_string(config.payload_bytes));
    const PushPullTally tally = zeromq_push_pull(options, address, config.payload_bytes,
                                                 options.scaled(config.full_messages), config.high_water_mark);
    row.set_throughput(tally.timed, tally.elapsed_ns);
    row.note = "PUSH/PULL, HWM " + std::to_string(config.high_water_mark) + ", " +
               std::string(touch_mode_name(touch_mode_for(config.payload_bytes))) + ", " +
               (tally.bad == 0 ? std::string("lossless") : "bad " + std::to_string(tally.bad));
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
