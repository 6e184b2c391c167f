// SPDX-License-Identifier: Apache-2.0
#include "stats.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "dhub/plugins/text_format.hpp"

namespace dhub::plugins::stats {
namespace {

std::uint64_t read_interval_ns(const sdk::Params& params) {
    const double interval_s = params.number("interval_s");
    if (!(interval_s > 0.0) || !std::isfinite(interval_s)) {
        throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT, "interval_s must be > 0, got " + format_number(interval_s));
    }
    return static_cast<std::uint64_t>(std::llround(interval_s * 1e9));
}

std::string rates(std::uint64_t frames, std::uint64_t bytes, std::uint64_t elapsed_ns) {
    const double seconds = static_cast<double>(elapsed_ns) / 1e9;
    const double frames_per_s = seconds > 0 ? static_cast<double>(frames) / seconds : 0.0;
    const double megabytes_per_s = seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0.0;
    return format_fixed(frames_per_s, 1) + " frames/s, " + format_fixed(megabytes_per_s, 2) + " MB/s";
}

std::string gaps(std::uint64_t count, std::uint64_t missing) {
    return "gaps " + std::to_string(count) + " (" + std::to_string(missing) + " slots missing)";
}

}  // namespace

Stats::Stats(sdk::NodeContext& context) : interval_ns_(read_interval_ns(context.params())) {}

dhub_status Stats::consume(sdk::NodeContext& context, const sdk::InputSlot<sdk::Bytes>& in) {
    const std::uint64_t now_ns = context.now_ns();
    if (total_.frames == 0) {
        run_start_ns_ = now_ns;
        interval_start_ns_ = now_ns;
    }
    // A slot stamped "in the future" (another clock, an instrument's own time) counts as zero latency.
    const std::uint64_t latency_ns = now_ns > in.timestamp_ns() ? now_ns - in.timestamp_ns() : 0;
    latencies_.add(latency_ns);
    max_latency_ns_ = std::max(max_latency_ns_, latency_ns);
    if (expected_sequence_ && in.sequence() > *expected_sequence_) {
        const std::uint64_t missing = in.sequence() - *expected_sequence_;
        ++interval_.gaps;
        ++total_.gaps;
        interval_.missing += missing;
        total_.missing += missing;
    }
    expected_sequence_ = in.sequence() + 1;
    ++interval_.frames;
    ++total_.frames;
    interval_.bytes += in.bytes().size();
    total_.bytes += in.bytes().size();

    if (now_ns - interval_start_ns_ >= interval_ns_) report_interval(context, now_ns);
    return DHUB_OK;
}

void Stats::report_interval(sdk::NodeContext& context, std::uint64_t now_ns) {
    context.log().info(rates(interval_.frames, interval_.bytes, now_ns - interval_start_ns_) + ", latency p50 " +
                       format_duration_ns(latencies_.percentile_ns(50)) + " p99 " +
                       format_duration_ns(latencies_.percentile_ns(99)) + " max " +
                       format_duration_ns(latencies_.max_ns()) + ", " + gaps(interval_.gaps, interval_.missing));
    interval_ = Totals{};
    latencies_.clear();
    interval_start_ns_ = now_ns;
}

void Stats::stop(sdk::NodeContext& context) {
    if (total_.frames == 0) {
        context.log().info("summary: no frames received");
        return;
    }
    const std::uint64_t elapsed_ns = context.now_ns() - run_start_ns_;
    context.log().info("summary: " + std::to_string(total_.frames) + " frames, " +
                       format_fixed(static_cast<double>(total_.bytes) / 1e6, 2) + " MB in " +
                       format_duration_ns(elapsed_ns) + " (" + rates(total_.frames, total_.bytes, elapsed_ns) +
                       "), latency max " + format_duration_ns(max_latency_ns_) + ", " +
                       gaps(total_.gaps, total_.missing));
}

}  // namespace dhub::plugins::stats

DHUB_PLUGIN("stats",
            "1.0.0",
            "Apache-2.0",
            "Channel statistics (dhub.sink.stats)",
            dhub::sdk::component<dhub::plugins::stats::Stats>())
