// SPDX-License-Identifier: Apache-2.0
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "dhub/base/clock.hpp"
#include "dhub/shm/consumer.hpp"
#include "frame_pattern.hpp"
#include "latency_histogram.hpp"
#include "roles.hpp"
#include "stop_signal.hpp"

namespace dhub::demo {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t NS_PER_S = 1'000'000'000ULL;
/// The consumer may start before the producer has created the channel: it retries this long.
constexpr std::uint64_t ATTACH_RETRY_NS = 10 * NS_PER_S;

/// What the consumer saw over some period (one second, or the whole run).
struct Tally {
    std::uint64_t frames = 0;
    std::uint64_t bytes = 0;
    std::uint64_t gaps = 0;  ///< sequence numbers never delivered
    std::uint64_t bad = 0;   ///< frames whose checksum or pattern was wrong
    LatencyHistogram latency;

    void add(const Tally& other) {
        frames += other.frames;
        bytes += other.bytes;
        gaps += other.gaps;
        bad += other.bad;
        latency.merge(other.latency);
    }
};

double us(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e3;
}

void print_tally(const char* label, const Tally& tally, std::uint64_t span_ns) {
    const double seconds = static_cast<double>(span_ns) / static_cast<double>(NS_PER_S);
    const double per_second = seconds > 0 ? 1.0 / seconds : 0.0;
    std::printf(
        "consumer: %s %8.0f frames/s %8.1f MB/s  latency p50 %7.1f us  p99 %7.1f us  max %8.1f us  "
        "gaps %llu  bad %llu\n",
        label, static_cast<double>(tally.frames) * per_second, static_cast<double>(tally.bytes) * per_second / 1e6,
        us(tally.latency.percentile(0.50)), us(tally.latency.percentile(0.99)), us(tally.latency.max()),
        static_cast<unsigned long long>(tally.gaps), static_cast<unsigned long long>(tally.bad));
    std::fflush(stdout);
}

/// Retries while the channel does not exist yet or its creator is still initialising it.
Result<shm::Consumer> attach_with_retry(const std::string& channel) {
    const std::uint64_t deadline = monotonic_ns() + ATTACH_RETRY_NS;
    for (;;) {
        auto attached =
            shm::Consumer::attach(channel, {.name = "shm-demo", .expect = {}, .wait = {}, .ready_timeout = 1s});
        if (attached) return attached;
        const ErrorCode code = attached.error().code;
        const bool transient = code == ErrorCode::NotFound || code == ErrorCode::Timeout;
        if (!transient || monotonic_ns() >= deadline || stop_requested()) return attached;
        timespec pause{0, 10'000'000};
        ::nanosleep(&pause, nullptr);
    }
}

}  // namespace

int run_consumer(const DemoOptions& options) {
    auto attached = attach_with_retry(options.channel);
    if (!attached) {
        std::fprintf(stderr, "consumer: cannot attach to channel '%s': %s\n", options.channel.c_str(),
                     attached.error().message.c_str());
        return 1;
    }
    shm::Consumer& consumer = attached.value();
    std::printf("consumer: pid %d attached to '%s' (seat %u)\n", static_cast<int>(::getpid()), options.channel.c_str(),
                consumer.seat());
    std::fflush(stdout);

    const shm::WaitOptions wait{100ms, 20us};
    Tally total;
    Tally interval;
    bool started = false;
    bool producer_died = false;
    std::uint64_t next_seq = 0;  // the sequence number the next frame should carry
    std::uint64_t first_frame_ns = 0;
    std::uint64_t last_frame_ns = 0;
    std::uint64_t interval_start = monotonic_ns();
    const std::uint64_t run_start = interval_start;

    // Accounts for a frame (good or bad) with sequence seq: anything between it and the expected one was
    // lost.
    auto account_sequence = [&](std::uint64_t seq) {
        if (!started) {
            started = true;
            next_seq = seq;
            if (seq != 0) std::printf("consumer: joined at sequence %llu\n", static_cast<unsigned long long>(seq));
        }
        if (seq > next_seq) interval.gaps += seq - next_seq;
        next_seq = seq + 1;
    };

    for (;;) {
        shm::ReadSlot slot = consumer.acquire_read(wait);
        const std::uint64_t now = monotonic_ns();
        if (slot) {
            // Latency: from the producer's commit stamp (CLOCK_MONOTONIC is system-wide) to the slot in hand.
            interval.latency.record(now > slot.timestamp_ns() ? now - slot.timestamp_ns() : 0);
            account_sequence(slot.sequence());
            if (!frame_matches(slot.payload(), slot.sequence())) ++interval.bad;
            ++interval.frames;
            interval.bytes += slot.payload().size();
            if (first_frame_ns == 0) first_frame_ns = now;
            last_frame_ns = now;
            (void)slot.release();
        } else if (slot.status() == shm::Status::Closed) {
            break;
        } else if (slot.status() == shm::Status::ChecksumMismatch) {
            account_sequence(slot.sequence());
            ++interval.bad;
        } else if (slot.status() == shm::Status::Timeout) {
            // A producer that closed cleanly is reported as Closed by the next read; one that vanished
            // without closing never will be.
            const bool closed = consumer.view().header().closed.load(std::memory_order_acquire) != 0;
            if (!closed && !consumer.producer_alive()) {
                std::fprintf(stderr, "consumer: the producer of '%s' died without closing the channel\n",
                             options.channel.c_str());
                producer_died = true;
                break;
            }
        }
        if (stop_requested()) break;
        if (now - interval_start >= NS_PER_S) {
            const double at = static_cast<double>(now - run_start) / static_cast<double>(NS_PER_S);
            const std::string label = "t=" + std::to_string(static_cast<int>(at + 0.5)) + "s";
            print_tally(label.c_str(), interval, now - interval_start);
            total.add(interval);
            interval = Tally{};
            interval_start = now;
        }
    }
    // Frames committed after the last one delivered were lost too (the producer's final write_seq).
    const std::uint64_t written = consumer.view().header().write_seq.load(std::memory_order_acquire);
    if (started && written > next_seq && !stop_requested()) interval.gaps += written - next_seq;
    total.add(interval);

    print_tally("total", total, last_frame_ns > first_frame_ns ? last_frame_ns - first_frame_ns : 0);
    const bool ok = total.frames > 0 && total.gaps == 0 && total.bad == 0 && !producer_died;
    std::printf("consumer: summary: %llu frames (%.1f MB), %llu missed, %llu bad%s -> %s\n",
                static_cast<unsigned long long>(total.frames), static_cast<double>(total.bytes) / 1e6,
                static_cast<unsigned long long>(total.gaps), static_cast<unsigned long long>(total.bad),
                producer_died ? ", producer died" : (total.frames == 0 ? ", no frame received" : ""),
                ok ? "OK" : "FAILED");
    std::fflush(stdout);
    return ok ? 0 : 1;
}

}  // namespace dhub::demo
