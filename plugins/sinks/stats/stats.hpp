// SPDX-License-Identifier: Apache-2.0
// dhub.sink.stats: watches a channel and logs one line per interval_s: frames/s, MB/s (10^6 bytes), the
// latency from each slot's timestamp to when the sink read it (p50, p99, max), and gaps (jumps in the
// sequence). At stop it logs a summary of the whole run. A line is written when a slot arrives after
// the interval has passed, so an idle channel writes nothing until the summary.
#pragma once

#include <cstdint>
#include <optional>

#include "dhub/sdk/plugin.hpp"
#include "latency_window.hpp"

namespace dhub::plugins::stats {

class Stats : public sdk::Sink<sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.sink.stats";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "Logs frame rate, throughput, latency percentiles and gaps of a channel";
    static constexpr const char* input_schema = "*";
    static constexpr const char* params_schema = R"json([
{"name":"interval_s","type":"number","default":1,"min":0.001,"unit":"s","doc":"seconds between two report lines"}
])json";

    explicit Stats(sdk::NodeContext& context);

    dhub_status consume(sdk::NodeContext& context, const sdk::InputSlot<sdk::Bytes>& in);
    void stop(sdk::NodeContext& context);

private:
    struct Totals {
        std::uint64_t frames = 0;
        std::uint64_t bytes = 0;
        std::uint64_t gaps = 0;
        std::uint64_t missing = 0;
    };

    void report_interval(sdk::NodeContext& context, std::uint64_t now_ns);

    std::uint64_t interval_ns_;
    std::optional<std::uint64_t> expected_sequence_;
    std::uint64_t run_start_ns_ = 0;
    std::uint64_t interval_start_ns_ = 0;
    Totals interval_;
    Totals total_;
    LatencyWindow latencies_;
    std::uint64_t max_latency_ns_ = 0;
};

}  // namespace dhub::plugins::stats
