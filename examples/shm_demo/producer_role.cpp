// SPDX-License-Identifier: Apache-2.0
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "dhub/base/clock.hpp"
#include "dhub/shm/producer.hpp"
#include "frame_pattern.hpp"
#include "roles.hpp"
#include "stop_signal.hpp"

namespace dhub::demo {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t NS_PER_S = 1'000'000'000ULL;
/// How long the producer waits for its consumer to attach before giving up.
constexpr std::uint64_t ATTACH_WAIT_NS = 10 * NS_PER_S;

shm::ChannelConfig demo_config(const DemoOptions& options, std::string channel) {
    shm::ChannelConfig config;
    config.name = std::move(channel);
    config.slot_bytes = options.frame_bytes;
    config.ring = shm::RingPolicy::Ring;
    config.slot_count = options.slots;
    config.sync = shm::SyncPolicy::EveryReader;
    config.checksum = shm::ChecksumPolicy::Verify;
    config.max_consumers = 4;
    return config;
}

/// True if the child has ended (without reaping it: the launcher still wants its exit status).
bool child_exited(pid_t pid) {
    if (pid <= 0) return false;
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

bool has_active_consumer(const shm::ChannelView& view) {
    for (std::uint32_t seat = 0; seat < view.consumer_capacity(); ++seat) {
        if (view.consumer(seat).state.load(std::memory_order_acquire) == shm::layout::CONSUMER_ACTIVE) return true;
    }
    return false;
}

/// Every-reader consumers start at the newest slot, so frames written before one attaches would never
/// reach it: the producer waits for its consumer before the first frame.
bool wait_for_consumer(const shm::Producer& producer, pid_t consumer_pid) {
    const std::uint64_t deadline = monotonic_ns() + ATTACH_WAIT_NS;
    while (!has_active_consumer(producer.view())) {
        if (stop_requested()) return false;
        if (child_exited(consumer_pid)) {
            std::fprintf(stderr, "producer: the consumer process (pid %d) exited before attaching to '%s'\n",
                         static_cast<int>(consumer_pid), producer.view().channel().c_str());
            return false;
        }
        if (monotonic_ns() >= deadline) {
            std::fprintf(stderr,
                         "producer: no consumer attached to '%s' within %llu s; start one with "
                         "`dhub-shm-demo --role consumer --channel %s`\n",
                         producer.view().channel().c_str(), static_cast<unsigned long long>(ATTACH_WAIT_NS / NS_PER_S),
                         producer.view().channel().c_str());
            return false;
        }
        timespec pause{0, 1'000'000};
        ::nanosleep(&pause, nullptr);
    }
    return true;
}

void sleep_until(std::uint64_t monotonic_deadline_ns) {
    const timespec until{static_cast<time_t>(monotonic_deadline_ns / NS_PER_S),
                         static_cast<long>(monotonic_deadline_ns % NS_PER_S)};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) != 0 && !stop_requested()) {
    }
}

}  // namespace

int run_producer(const DemoOptions& options, pid_t consumer_pid) {
    const std::string channel = options.channel.empty() ? "demo-" + std::to_string(::getpid()) : options.channel;
    auto created = shm::Producer::create(demo_config(options, channel));
    if (!created) {
        std::fprintf(stderr, "producer: cannot create channel '%s': %s\n", channel.c_str(),
                     created.error().message.c_str());
        return 1;
    }
    shm::Producer& producer = created.value();
    std::printf(
        "producer: pid %d, channel '%s': %u slots x %zu bytes, every_reader, checksum verify, %.0f Hz for %g "
        "s\n",
        static_cast<int>(::getpid()), channel.c_str(), options.slots, options.frame_bytes, options.rate_hz,
        options.seconds);
    std::fflush(stdout);
    if (!wait_for_consumer(producer, consumer_pid)) return stop_requested() ? 0 : 1;

    const shm::WaitOptions wait{100ms, 20us};
    const std::uint64_t period_ns =
        options.rate_hz > 0.0 ? static_cast<std::uint64_t>(static_cast<double>(NS_PER_S) / options.rate_hz) : 0;
    const std::uint64_t start = monotonic_ns();
    const std::uint64_t end = start + static_cast<std::uint64_t>(options.seconds * static_cast<double>(NS_PER_S));
    std::uint64_t frames = 0;
    int exit_code = 0;
    while (!stop_requested()) {
        // Fixed-rate schedule: frame k is due at start + k * period; a late producer catches up.
        const std::uint64_t due = start + frames * period_ns;
        if (due >= end || monotonic_ns() >= end) break;
        if (period_ns != 0) sleep_until(due);
        shm::WriteSlot slot = producer.acquire_write(wait);
        // Timeout: the consumer holds the ring full; try again (after looking at stop and end).
        if (slot.status() == shm::Status::Timeout) continue;
        if (!slot) {
            std::fprintf(stderr, "producer: acquire_write on '%s' failed: %s\n", channel.c_str(),
                         shm::to_string(slot.status()));
            exit_code = 1;
            break;
        }
        const auto frame = slot.payload().first(options.frame_bytes);
        fill_frame(frame, slot.sequence());
        if (const shm::Status committed = slot.commit(frame.size()); committed != shm::Status::Ok) {
            std::fprintf(stderr, "producer: commit on '%s' failed: %s\n", channel.c_str(), shm::to_string(committed));
            exit_code = 1;
            break;
        }
        ++frames;
    }
    const double elapsed_s = static_cast<double>(monotonic_ns() - start) / static_cast<double>(NS_PER_S);
    const std::uint64_t ring_full = producer.view().header().counters.write_waits.load(std::memory_order_relaxed);
    // Consumers drain what is left, then see Closed; the segment name is removed now.
    producer.close();
    std::printf("producer: %s after %llu frames in %.2f s (%.0f frames/s), waited %llu times for a full ring\n",
                stop_requested() ? "interrupted" : "done", static_cast<unsigned long long>(frames), elapsed_s,
                elapsed_s > 0 ? static_cast<double>(frames) / elapsed_s : 0.0,
                static_cast<unsigned long long>(ring_full));
    std::fflush(stdout);
    return exit_code;
}

}  // namespace dhub::demo
