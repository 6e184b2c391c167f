// SPDX-License-Identifier: Apache-2.0
// The DataBlock measured the way the baselines and peers are (transport "dhub"): every party is a
// forked child process pinned to a core, each side maps the channel itself, payloads are touched by the
// same rules (payload_touch.hpp).
#include <sys/mman.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <thread>

#include <unistd.h>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_cases.hpp"
#include "dhub/shm/consumer.hpp"
#include "dhub/shm/producer.hpp"
#include "dhub/shm/segment.hpp"
#include "harness/child_process.hpp"
#include "harness/latency_stats.hpp"
#include "harness/payload_touch.hpp"
#include "harness/process_sync.hpp"
#include "harness/shared_mapping.hpp"
#include "harness/timing.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace dhub::bench {
namespace {

using namespace std::chrono_literals;
using shm::ChannelConfig;
using shm::Consumer;
using shm::Producer;
using shm::Status;
using shm::SyncPolicy;
using shm::WaitOptions;

constexpr const char* TRANSPORT = "dhub";
constexpr std::size_t MIB = std::size_t{1} << 20;
constexpr int UNPINNED = -1;

/// Busy-poll for the whole timeout, or sleep on the futex at once.
constexpr WaitOptions SPIN_WAIT{10s, 10s};
constexpr WaitOptions SLEEP_WAIT{10s, 0ns};

struct Control {
    ProcessSync sync;
    alignas(64) std::atomic<std::uint32_t> channels_created{0};
};

std::string channel_name(const std::string& what) {
    return "bench-" + std::to_string(::getpid()) + "-" + what;
}

/// A case's channel name whose segment is removed when the case ends, however it ends: a failing case
/// kills its children (SIGKILL), and a killed producer cannot unlink its segment itself. Declared before
/// the children, so it is destroyed after them.
class ScopedChannel {
public:
    explicit ScopedChannel(const std::string& what) : name_(channel_name(what)) {}
    ~ScopedChannel() { (void)shm::Segment::unlink(name_); }
    ScopedChannel(const ScopedChannel&) = delete;
    ScopedChannel& operator=(const ScopedChannel&) = delete;
    const std::string& name() const noexcept { return name_; }

private:
    std::string name_;
};

template <typename T>
T expect_ok(Result<T> result, const char* what) {
    if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message);
    return std::move(result.value());
}

void expect_status(Status status, const char* what) {
    if (status != Status::Ok) throw std::runtime_error(std::string(what) + ": " + shm::to_string(status));
}

Producer create_channel(const std::string& name, std::size_t payload, std::uint32_t slots, SyncPolicy sync) {
    ChannelConfig config;
    config.name = name;
    config.slot_bytes = payload;
    config.slot_count = slots;
    config.sync = sync;
    return expect_ok(Producer::create(config), "create channel");
}

Consumer attach_when_created(Control* control, std::uint32_t channels, const std::string& name) {
    while (control->channels_created.load(std::memory_order_acquire) < channels)
        sched_yield();
    return expect_ok(Consumer::attach(name, {.name = "bench"}), "attach");
}

// ---------------------------------------------------------------- pingpong

struct PingPongSetup {
    std::size_t payload;
    WaitOptions wait;
    int pinger_core;
    int responder_core;
    std::size_t round_trips;
};

void measure_pingpong(const PingPongSetup& setup, std::chrono::milliseconds timeout, CaseResult& row) {
    SharedMapping mapping(sizeof(Control));
    Control* control = mapping.emplace<Control>();
    const ScopedChannel ping_channel("ping");
    const std::string& ping = ping_channel.name();
    const ScopedChannel pong_channel("pong");
    const std::string& pong = pong_channel.name();
    const std::size_t total = setup.round_trips;
    const std::size_t warmup = BenchOptions::warmup_of(total);
    const std::size_t payload = setup.payload;
    const WaitOptions wait = setup.wait;

    auto responder = ChildProcess::spawn("dhub pingpong responder", setup.responder_core, [=] {
        Producer out = create_channel(pong, payload, 4, SyncPolicy::SingleReader);
        control->channels_created.fetch_add(1, std::memory_order_acq_rel);
        Consumer in = attach_when_created(control, 2, ping);
        control->sync.arrive();
        for (std::uint64_t i = 0; i < total; ++i) {
            shm::ReadSlot request = in.acquire_read(wait);
            expect_status(request.status(), "responder read");
            shm::WriteSlot reply = out.acquire_write(wait);
            expect_status(reply.status(), "responder write");
            write_payload(reply.payload().data(), payload, i, TouchMode::ends);
            expect_status(reply.commit(payload), "responder commit");
        }
    });
    auto pinger = ChildProcess::spawn("dhub pingpong pinger", setup.pinger_core, [=] {
        Producer out = create_channel(ping, payload, 4, SyncPolicy::SingleReader);
        control->channels_created.fetch_add(1, std::memory_order_acq_rel);
        Consumer in = attach_when_created(control, 2, pong);
        control->sync.arrive();
        control->sync.wait_for_arrivals(2);
        std::vector<std::int64_t> samples;
        samples.reserve(total - warmup);
        std::uint64_t bad = 0;
        for (std::uint64_t i = 0; i < total; ++i) {
            const std::int64_t start = now_ns();
            shm::WriteSlot request = out.acquire_write(wait);
            expect_status(request.status(), "pinger write");
            write_payload(request.payload().data(), payload, i, TouchMode::ends);
            expect_status(request.commit(payload), "pinger commit");
            shm::ReadSlot reply = in.acquire_read(wait);
            expect_status(reply.status(), "pinger read");
            if (!read_payload(reply.payload().data(), payload, i, TouchMode::ends)) ++bad;
            reply.release();
            const std::int64_t end = now_ns();
            if (i >= warmup) samples.push_back(end - start);
        }
        if (bad != 0) throw std::runtime_error(std::to_string(bad) + " replies failed the payload check");
        return summarize_latencies(std::move(samples));
    });
    wait_all({&pinger, &responder}, timeout);
    row.set_latency(pinger.result<LatencySummary>());
    row.note = "single_reader ring of 4 each way, cores " + std::to_string(setup.pinger_core) + "/" +
               std::to_string(setup.responder_core) + ", ends touched, " + std::to_string(total - warmup) +
               " round trips";
}

std::vector<CaseResult> run_pingpong(const BenchOptions& options) {
    std::vector<CaseResult> results;
    for (const std::size_t payload : {std::size_t{64}, std::size_t{4096}, MIB}) {
        CaseResult row{.case_name = "pingpong", .transport = TRANSPORT, .payload_bytes = payload};
        row.wait = "spin";
        run_case(results, row, [&](CaseResult& r) {
            measure_pingpong(
                {payload, SPIN_WAIT, options.producer_core, options.consumer_core, options.spin_round_trips},
                options.child_timeout, r);
        });
        row.wait = "sleep";
        run_case(results, row, [&](CaseResult& r) {
            measure_pingpong(
                {payload, SLEEP_WAIT, options.producer_core, options.consumer_core, options.sleep_round_trips},
                options.child_timeout, r);
        });
    }
    CaseResult same_core{.case_name = "pingpong_same_core", .transport = TRANSPORT, .payload_bytes = 64};
    same_core.wait = "sleep";
    run_case(results, same_core, [&](CaseResult& r) {
        measure_pingpong({64, SLEEP_WAIT, options.producer_core, options.producer_core, options.sleep_round_trips},
                         options.child_timeout, r);
    });
    return results;
}

// ---------------------------------------------------------------- oneway and fanout

struct StreamSetup {
    std::size_t payload;
    std::uint32_t slots;
    std::uint64_t messages;
    SyncPolicy sync;
    WaitOptions wait;
    int consumers;
    int consumer_core;        ///< UNPINNED lets the scheduler spread several consumers
    std::uint32_t burst = 1;  ///< > 1: both ends move up to this many slots per WriteBurst / ReadBurst
    /// Latest-only readers (Delivery::Latest) beside the lossless consumers, holding each slot they read for
    /// viewer_hold: a live viewer that must never slow the producer.
    int latest_viewers = 0;
    std::chrono::milliseconds viewer_hold{100};
};

/// What a latest viewer saw: reads whose payload matched their sequence, and reads that did not.
struct ViewerTiming {
    std::uint64_t reads = 0;
    std::uint64_t bad_reads = 0;
    std::uint64_t skipped = 0;
};

struct ConsumerTiming {
    std::uint64_t messages = 0;  ///< timed messages (after warm-up)
    std::int64_t elapsed_ns = 0;
    std::uint64_t bad_messages = 0;
    std::uint64_t lost_messages = 0;  ///< sequence gaps: must stay 0 on lossless policies
};

/// Per consumer: messages/s of the slowest consumer (the fan-out figure that matters), and the sum.
struct StreamResult {
    double slowest_msgs_per_s = 0;
    double total_msgs_per_s = 0;
    std::uint64_t timed_messages = 0;
    std::uint64_t viewer_reads = 0;    ///< whole slots the latest viewers read
    std::uint64_t viewer_skipped = 0;  ///< slots they skipped
};

StreamResult measure_stream(const StreamSetup& setup, const BenchOptions& options) {
    SharedMapping mapping(sizeof(Control));
    Control* control = mapping.emplace<Control>();
    const ScopedChannel channel("stream");
    const std::string& name = channel.name();
    const std::uint64_t total = setup.messages;
    const std::uint64_t warmup = total / 10;
    const std::size_t payload = setup.payload;
    const TouchMode mode = touch_mode_for(payload);
    const WaitOptions wait = setup.wait;
    const auto parties = static_cast<std::uint32_t>(setup.consumers + setup.latest_viewers + 1);

    std::vector<ChildProcess> consumers;
    for (int i = 0; i < setup.consumers; ++i) {
        consumers.push_back(ChildProcess::spawn("dhub stream consumer", setup.consumer_core, [=] {
            Consumer in = attach_when_created(control, 1, name);
            control->sync.arrive();
            ConsumerTiming timing;
            std::int64_t start = 0;
            std::uint64_t expected = 0;
            auto check = [&](std::span<const std::byte> bytes, std::uint64_t seq) {
                if (!read_payload(bytes.data(), payload, seq, mode)) ++timing.bad_messages;
                timing.lost_messages += seq - expected;
                expected = seq + 1;
            };
            for (std::uint64_t received = 0; received < total;) {
                if (setup.burst > 1) {
                    shm::ReadBurst burst = in.acquire_burst(setup.burst, wait);
                    expect_status(burst.status(), "consumer read");
                    const std::size_t count = burst.size();
                    for (std::size_t slot = 0; slot < count; ++slot)
                        check(burst.payload(slot), burst.sequence(slot));
                    burst.release();
                    if (received < warmup && received + count >= warmup) start = now_ns();
                    received += count;
                } else {
                    shm::ReadSlot slot = in.acquire_read(wait);
                    expect_status(slot.status(), "consumer read");
                    check(slot.payload(), slot.sequence());
                    slot.release();
                    if (++received == warmup) start = now_ns();
                }
            }
            timing.elapsed_ns = now_ns() - start;
            timing.messages = total - warmup;
            return timing;
        }));
    }
    std::vector<ChildProcess> viewers;
    for (int i = 0; i < setup.latest_viewers; ++i) {
        viewers.push_back(ChildProcess::spawn("dhub latest viewer", UNPINNED, [=] {
            while (control->channels_created.load(std::memory_order_acquire) < 1)
                sched_yield();
            Consumer in = expect_ok(Consumer::attach(name, {.name = "viewer", .delivery = shm::Delivery::Latest}),
                                    "attach a latest viewer");
            control->sync.arrive();
            ViewerTiming timing;
            for (;;) {
                shm::ReadSlot slot = in.acquire_read(SLEEP_WAIT);
                if (slot.status() == Status::Closed) break;
                expect_status(slot.status(), "viewer read");
                std::this_thread::sleep_for(setup.viewer_hold);
                if (!read_payload(slot.payload().data(), payload, slot.sequence(), mode)) ++timing.bad_reads;
                expect_status(slot.release(), "viewer release");
                ++timing.reads;
            }
            timing.skipped = in.skipped();
            return timing;
        }));
    }
    auto producer = ChildProcess::spawn("dhub stream producer", options.producer_core, [=] {
        Producer out = create_channel(name, payload, setup.slots, setup.sync);
        control->channels_created.fetch_add(1, std::memory_order_acq_rel);
        control->sync.arrive();
        control->sync.wait_for_arrivals(parties);
        for (std::uint64_t seq = 0; seq < total;) {
            if (setup.burst > 1) {
                shm::WriteBurst burst = out.acquire_burst(std::min<std::uint64_t>(setup.burst, total - seq), wait);
                expect_status(burst.status(), "producer write");
                for (std::size_t slot = 0; slot < burst.size(); ++slot) {
                    write_payload(burst.payload(slot).data(), payload, seq + slot, mode);
                    expect_status(burst.stamp(slot, payload), "producer stamp");
                }
                seq += burst.size();
                expect_status(burst.commit(burst.size()), "producer commit");
            } else {
                shm::WriteSlot slot = out.acquire_write(wait);
                expect_status(slot.status(), "producer write");
                write_payload(slot.payload().data(), payload, seq++, mode);
                expect_status(slot.commit(payload), "producer commit");
            }
        }
        // Stay until every consumer has read everything: closing would unlink the name, which is
        // harmless, but leaving early would end the lease the consumers' liveness checks look at.
        control->sync.wait_for_done(static_cast<std::uint32_t>(setup.consumers));
    });
    // Consumers mark done from the parent's side: wait for them first, then release the producer.
    StreamResult result;
    result.slowest_msgs_per_s = 0;
    for (ChildProcess& consumer : consumers) {
        consumer.wait(options.child_timeout);
        control->sync.mark_done();
        const auto timing = consumer.result<ConsumerTiming>();
        if (timing.bad_messages != 0 || timing.lost_messages != 0) {
            throw std::runtime_error(std::to_string(timing.bad_messages) + " bad and " +
                                     std::to_string(timing.lost_messages) + " lost messages");
        }
        const double rate = static_cast<double>(timing.messages) * 1e9 / static_cast<double>(timing.elapsed_ns);
        result.slowest_msgs_per_s = result.slowest_msgs_per_s == 0 ? rate : std::min(result.slowest_msgs_per_s, rate);
        result.total_msgs_per_s += rate;
        result.timed_messages = timing.messages;
    }
    producer.wait(options.child_timeout);
    for (ChildProcess& viewer : viewers) {
        viewer.wait(options.child_timeout);
        const auto timing = viewer.result<ViewerTiming>();
        if (timing.bad_reads != 0) throw std::runtime_error(std::to_string(timing.bad_reads) + " torn viewer reads");
        result.viewer_reads += timing.reads;
        result.viewer_skipped += timing.skipped;
    }
    return result;
}

void fill_stream_row(CaseResult& row, const StreamSetup& setup, const StreamResult& result) {
    row.msgs_per_s = result.slowest_msgs_per_s;
    row.gb_per_s = result.slowest_msgs_per_s * static_cast<double>(setup.payload) / 1e9;
    row.note = std::string(shm::to_string(setup.sync)) + ", ring " + std::to_string(setup.slots) + " slots, " +
               std::string(touch_mode_name(touch_mode_for(setup.payload))) + ", " +
               std::to_string(result.timed_messages) + " msgs" +
               (setup.consumers > 1 ? ", per consumer (slowest), no loss" : "") +
               (setup.burst > 1 ? ", bursts of up to " + std::to_string(setup.burst) + " slots" : "");
}

std::vector<CaseResult> run_oneway(const BenchOptions& options) {
    struct Config {
        std::size_t payload;
        std::uint32_t slots;
        std::size_t full_messages;
    };
    static constexpr Config CONFIGS[] = {
        {64, 256, 20'000'000},
        {4096, 256, 10'000'000},
        {64 * 1024, 32, 4'000'000},
        {MIB, 8, 8'000},
    };
    std::vector<CaseResult> results;
    for (const Config& config : CONFIGS) {
        CaseResult row{.case_name = "oneway", .transport = TRANSPORT, .payload_bytes = config.payload};
        row.wait = "spin";
        const StreamSetup setup{config.payload,           config.slots, options.scaled(config.full_messages),
                                SyncPolicy::SingleReader, SPIN_WAIT,    1,
                                options.consumer_core};
        run_case(results, row, [&](CaseResult& r) { fill_stream_row(r, setup, measure_stream(setup, options)); });
    }
    // The same 4 KiB stream moved in bursts (WriteBurst / ReadBurst): one publication per burst.
    CaseResult row{.case_name = "oneway_burst32", .transport = TRANSPORT, .payload_bytes = 4096};
    row.wait = "spin";
    StreamSetup setup{4096,      256, options.scaled(20'000'000), SyncPolicy::SingleReader,
                      SPIN_WAIT, 1,   options.consumer_core};
    setup.burst = 32;
    run_case(results, row, [&](CaseResult& r) { fill_stream_row(r, setup, measure_stream(setup, options)); });
    return results;
}

std::vector<CaseResult> run_fanout(const BenchOptions& options) {
    std::vector<CaseResult> results;
    for (const int consumers : {1, 4}) {
        CaseResult row{.case_name = "fanout", .transport = TRANSPORT, .payload_bytes = 4096};
        row.wait = "sleep";
        row.consumers = consumers;
        const StreamSetup setup{4096,
                                64,
                                options.scaled(2'000'000),
                                SyncPolicy::EveryReader,
                                SLEEP_WAIT,
                                consumers,
                                consumers == 1 ? options.consumer_core : UNPINNED};
        run_case(results, row, [&](CaseResult& r) { fill_stream_row(r, setup, measure_stream(setup, options)); });
    }
    return results;
}

double median_of(std::vector<double> values) {
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(values.begin(), values.end());
    const std::size_t middle = values.size() / 2;
    return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

std::string fixed(double value, int decimals) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

/// A lossless recorder at full speed, alone and with a latest-only viewer beside it that holds each slot it
/// reads for 100 ms (issue 11, "delivery chosen per consumer": the producer's rate is unchanged). Alternated
/// runs, slot by slot and in bursts of 32; the recorder's rate is the producer's, since nothing is lost.
std::vector<CaseResult> run_viewer(const BenchOptions& options) {
    const int rounds = options.quick ? 2 : 5;
    std::vector<CaseResult> results;
    for (const std::uint32_t burst : {std::uint32_t{1}, std::uint32_t{32}}) {
        StreamSetup setup{4096,
                          256,
                          options.scaled(burst > 1 ? 10'000'000 : 4'000'000),
                          SyncPolicy::EveryReader,
                          SPIN_WAIT,
                          1,
                          options.consumer_core};
        setup.burst = burst;
        std::vector<double> alone;
        std::vector<double> viewed;
        std::vector<double> ratios;
        std::uint64_t viewer_reads = 0;
        std::uint64_t viewer_skipped = 0;
        std::string error;
        try {
            for (int round = 0; round < rounds; ++round) {
                setup.latest_viewers = 0;
                alone.push_back(measure_stream(setup, options).slowest_msgs_per_s);
                setup.latest_viewers = 1;
                const StreamResult with_viewer = measure_stream(setup, options);
                viewed.push_back(with_viewer.slowest_msgs_per_s);
                viewer_reads += with_viewer.viewer_reads;
                viewer_skipped += with_viewer.viewer_skipped;
                ratios.push_back(viewed.back() / alone.back());
            }
        } catch (const std::exception& e) {
            error = e.what();
        }
        const std::string hand_over = burst > 1 ? "bursts of 32" : "one slot per call";
        const std::string ratio = ratios.empty() ? "" : fixed(median_of(ratios) * 100, 1) + " %";
        for (const bool with_viewer : {false, true}) {
            CaseResult row{.case_name = std::string(with_viewer ? "recorder_and_latest_viewer" : "recorder_alone") +
                                        (burst > 1 ? "_burst32" : ""),
                           .transport = TRANSPORT,
                           .payload_bytes = 4096};
            row.wait = "spin";
            row.consumers = with_viewer ? 2 : 1;
            if (!error.empty()) {
                row.error = error;
            } else {
                row.msgs_per_s = median_of(with_viewer ? viewed : alone);
                row.gb_per_s = row.msgs_per_s * 4096 / 1e9;
                row.note = "every_reader ring 256, lossless recorder, " + hand_over +
                           (with_viewer ? "; a latest-only viewer holding each slot 100 ms (" +
                                              std::to_string(viewer_reads) + " whole reads, " +
                                              std::to_string(viewer_skipped) + " skipped); " + ratio + " of alone"
                                        : "") +
                           " (median of " + std::to_string(rounds) + " alternating runs)";
            }
            std::cerr << "  " << one_line_summary(row) << std::endl;
            results.push_back(std::move(row));
        }
    }
    return results;
}

// ---------------------------------------------------------------- latest-only

/// A latest-only channel as fast as both ends go: the producer writes `messages` slots without ever waiting,
/// the reader takes the newest slot over and over until the producer is done. Rates of both ends: what a
/// latest-only reader costs the producer, and how often the reader gets a whole slot.
struct LatestControl {
    ProcessSync sync;
    alignas(64) std::atomic<std::uint32_t> channels_created{0};
    alignas(64) std::atomic<std::uint32_t> producer_done{0};
};

struct LatestTiming {
    std::uint64_t messages = 0;
    std::int64_t elapsed_ns = 0;
    std::uint64_t bad_messages = 0;  ///< reads handed out whole whose payload does not match their sequence
    std::uint64_t overwritten = 0;   ///< reads the release reported overwritten (discarded)
};

struct LatestResult {
    LatestTiming producer;
    LatestTiming reader;
};

LatestResult measure_latest(
    std::size_t payload, std::uint32_t slots, bool hold, std::uint64_t total, const BenchOptions& options) {
    SharedMapping mapping(sizeof(LatestControl));
    auto* control = mapping.emplace<LatestControl>();
    const ScopedChannel channel("latest");
    const std::string& name = channel.name();
    const TouchMode mode = touch_mode_for(payload);
    constexpr WaitOptions READER_WAIT{100ms, 100ms};

    auto reader = ChildProcess::spawn("dhub latest reader", options.consumer_core, [=] {
        while (control->channels_created.load(std::memory_order_acquire) < 1)
            sched_yield();
        Consumer in = expect_ok(Consumer::attach(name, {.name = "bench", .hold = hold}), "attach");
        control->sync.arrive();
        LatestTiming timing;
        std::int64_t start = 0;
        while (control->producer_done.load(std::memory_order_acquire) == 0) {
            shm::ReadSlot slot = in.acquire_read(READER_WAIT);
            if (slot.status() == Status::Timeout || slot.status() == Status::Closed) continue;
            expect_status(slot.status(), "reader read");
            if (start == 0) start = now_ns();
            const bool whole = read_payload(slot.payload().data(), payload, slot.sequence(), mode);
            if (slot.release() == Status::Overwritten) {
                ++timing.overwritten;
            } else {
                ++timing.messages;
                if (!whole) ++timing.bad_messages;
            }
        }
        timing.elapsed_ns = now_ns() - start;
        return timing;
    });
    auto producer = ChildProcess::spawn("dhub latest producer", options.producer_core, [=] {
        Producer out = create_channel(name, payload, slots, SyncPolicy::LatestOnly);
        control->channels_created.fetch_add(1, std::memory_order_acq_rel);
        control->sync.arrive();
        control->sync.wait_for_arrivals(2);
        LatestTiming timing;
        const std::int64_t start = now_ns();
        for (std::uint64_t seq = 0; seq < total; ++seq) {
            shm::WriteSlot slot = out.acquire_write(SPIN_WAIT);
            expect_status(slot.status(), "producer write");
            write_payload(slot.payload().data(), payload, slot.sequence(), mode);
            expect_status(slot.commit(payload), "producer commit");
        }
        timing.elapsed_ns = now_ns() - start;
        timing.messages = total;
        control->producer_done.store(1, std::memory_order_release);
        return timing;
    });
    wait_all({&producer, &reader}, options.child_timeout);
    LatestResult result{producer.result<LatestTiming>(), reader.result<LatestTiming>()};
    if (result.reader.bad_messages != 0) {
        throw std::runtime_error(std::to_string(result.reader.bad_messages) + " torn reads handed out as whole");
    }
    return result;
}

std::vector<CaseResult> run_latest(const BenchOptions& options) {
    std::vector<CaseResult> results;
    // A plain reader learns at release whether its slot was reused; a holding reader (as every dhub-kernel
    // node) keeps the producer off the slot it reads.
    for (const bool hold : {false, true}) {
        const std::string suffix = hold ? "_held" : "";
        const std::string reader_kind = hold ? "one holding reader" : "one plain reader";
        for (const std::uint32_t slots : {2U, 4U}) {
            for (const std::size_t payload : {std::size_t{64}, std::size_t{4096}}) {
                LatestResult measured;
                CaseResult writer{
                    .case_name = "latest_writer" + suffix, .transport = TRANSPORT, .payload_bytes = payload};
                writer.wait = "spin";
                run_case(results, writer, [&](CaseResult& row) {
                    measured = measure_latest(payload, slots, hold, options.scaled(10'000'000), options);
                    row.set_throughput(measured.producer.messages, measured.producer.elapsed_ns);
                    row.note =
                        "latest_only ring " + std::to_string(slots) + ", " + reader_kind + " reading as fast as it can";
                });
                CaseResult reader{
                    .case_name = "latest_reader" + suffix, .transport = TRANSPORT, .payload_bytes = payload};
                reader.wait = "spin";
                run_case(results, reader, [&](CaseResult& row) {
                    if (measured.reader.elapsed_ns <= 0) throw std::runtime_error("the writer case failed");
                    row.set_throughput(measured.reader.messages, measured.reader.elapsed_ns);
                    row.note = "latest_only ring " + std::to_string(slots) + ", whole reads/s (same run as " +
                               writer.case_name + "); " + std::to_string(measured.reader.overwritten) +
                               " discarded as overwritten";
                });
            }
        }
    }
    return results;
}

// ---------------------------------------------------------------- idle channel CPU

/// CPU time (user + system) of the calling process, ns.
std::int64_t process_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct IdleCpu {
    std::int64_t cpu_ns = 0;
    std::int64_t wall_ns = 0;
    std::uint64_t timeouts = 0;
};

std::vector<CaseResult> run_idle_cpu(const BenchOptions& options) {
    std::vector<CaseResult> results;
    CaseResult row{.case_name = "idle_cpu", .transport = TRANSPORT, .payload_bytes = 4096};
    row.wait = "sleep";
    run_case(results, row, [&](CaseResult& r) {
        SharedMapping mapping(sizeof(Control));
        Control* control = mapping.emplace<Control>();
        const ScopedChannel channel("idle");
        const std::string& name = channel.name();
        const auto idle_for = options.quick ? std::chrono::milliseconds(500) : std::chrono::milliseconds(3000);
        auto consumer = ChildProcess::spawn("dhub idle consumer", options.consumer_core, [=] {
            Consumer in = attach_when_created(control, 1, name);
            control->sync.arrive();
            // The library's default wait: spin up to 20 us, then sleep on the futex (waking every 50 ms
            // for housekeeping). Nothing is ever committed.
            const WaitOptions wait{std::chrono::milliseconds(250), std::chrono::microseconds(20)};
            IdleCpu idle;
            const std::int64_t cpu_start = process_cpu_ns();
            const std::int64_t wall_start = now_ns();
            while (now_ns() - wall_start < std::chrono::nanoseconds(idle_for).count()) {
                if (in.acquire_read(wait).status() == Status::Timeout) ++idle.timeouts;
            }
            idle.cpu_ns = process_cpu_ns() - cpu_start;
            idle.wall_ns = now_ns() - wall_start;
            control->sync.mark_done();
            return idle;
        });
        auto producer = ChildProcess::spawn("dhub idle producer", options.producer_core, [=] {
            Producer out = create_channel(name, 4096, 8, SyncPolicy::EveryReader);
            control->channels_created.fetch_add(1, std::memory_order_acq_rel);
            control->sync.wait_for_done(1);
        });
        wait_all({&consumer, &producer}, options.child_timeout);
        const auto idle = consumer.result<IdleCpu>();
        const double percent = 100.0 * static_cast<double>(idle.cpu_ns) / static_cast<double>(idle.wall_ns);
        r.note = "consumer blocked on an idle channel: " + std::to_string(percent).substr(0, 6) + " % CPU over " +
                 std::to_string(idle.wall_ns / 1'000'000) + " ms (" + std::to_string(idle.timeouts) +
                 " timeouts of 250 ms, spin 20 us then futex)";
    });
    return results;
}

// ---------------------------------------------------------------- through the kernel

#ifdef DHUB_BENCH_KERNEL
/// A stage between source and sink (dhub.stage_path): its "burst" (1: one slot per call, as before SDK 1.2).
struct StageInPath {
    std::uint32_t burst = 1;
    bool isolated = false;          ///< "isolation": "process" (dhub.isolation_path)
    std::uint64_t crash_after = 0;  ///< bench_scale segfaults after this many frames per process (0: never)
    std::string events_file{};      ///< --events for the run ("": none)
    std::string spin_us{};          ///< --spin-us for the run ("": the kernel decides)
    /// "fuse": false, the stage on a thread of its own whatever the CPUs (true: the kernel may run it on the
    /// source's thread, docs/kernel.md "Fused stages").
    bool own_thread = false;
};

/// A guarded channel (dhub.validator_path): the stream carries the trivial validator bench_accept.
enum class Gate { None, AcceptAll };

/// The kernel's counters page (docs/counters.md): published (the default), or private to the kernel
/// (--no-counters), to measure what publishing costs.
enum class Counters { Published, Private };

/// What the bench plugins write and check of each slot: "auto" as the bare bench does for the size, or
/// "every_byte" (a sim-like source that writes the whole frame, a sink that reads it all).
enum class Touch { Auto, EveryByte };

/// What bench_source does per frame: writes it into the slot, or also does the stage's work in its own thread
/// (through_scale: scale's map from a buffer of its own into the slot), dhub.stage_path's bound.
enum class SourceWork { Write, ThroughScale };

/// Runs dhub-kernel on a bench_source -> bench_sink graph (with a stage: bench_source -> bench_scale ->
/// bench_sink) and returns the sink's messages/s. burst is the source's and sink's "burst" (1: one slot per
/// handler call).
double measure_kernel_path(const BenchOptions& options,
                           std::size_t payload,
                           std::uint64_t messages,
                           std::uint32_t slots,
                           std::uint32_t burst,
                           std::optional<StageInPath> stage = std::nullopt,
                           Touch touch = Touch::Auto,
                           Gate gate = Gate::None,
                           Counters counters = Counters::Published,
                           SourceWork source_work = SourceWork::Write) {
    const testing::TempDir scratch("dhub-bench-kernel");  // the graph and result files, removed however it ends
    const std::string directory = scratch.path().string();
    // A kernel killed on timeout cannot clean up: its channel's segment ("<graph name>-<its pid>.<channel>")
    // is removed here.
    pid_t kernel_pid = 0;
    struct Cleanup {
        const pid_t& kernel_pid;
        ~Cleanup() {
            if (kernel_pid <= 0) return;
            (void)shm::Segment::unlink("bench-" + std::to_string(kernel_pid) + ".stream");
            (void)shm::Segment::unlink("bench-" + std::to_string(kernel_pid) + ".raw");
            ::shm_unlink(("/dhubctr1.bench-" + std::to_string(kernel_pid)).c_str());  // its counters page
        }
    } cleanup{kernel_pid};
    const std::string graph_file = directory + "/graph.json";
    const std::string result_file = directory + "/result.json";
    nlohmann::json graph = {
        {"schema_version", 1},
        {"name", "bench"},
        {"channels", {{{"name", "stream"}, {"slot_bytes", payload}, {"slot_count", slots}, {"sync", "single_reader"}}}},
        {"nodes",
         {{{"id", "source"},
           {"plugin", "bench_source"},
           {"params", {{"count", messages}}},
           {"outputs", {"stream"}},
           {"cpu", options.producer_core},
           {"burst", burst}},
          {{"id", "sink"},
           {"cpu", options.consumer_core},
           {"burst", burst},
           {"plugin", "bench_sink"},
           {"params", {{"result_path", result_file}, {"warmup", messages / 10}, {"count", messages}}},
           {"inputs", {"stream"}}}}}};
    if (gate == Gate::AcceptAll) {
        graph["channels"][0]["validators"] = {{{"plugin", "bench_accept"}}};
    }
    const char* touch_name = touch == Touch::EveryByte ? "every_byte" : "auto";
    graph["nodes"][0]["params"]["touch"] = touch_name;
    if (source_work == SourceWork::ThroughScale) graph["nodes"][0]["params"]["through_scale"] = true;
    graph["nodes"][1]["params"]["touch"] = touch_name;
    if (stage) {
        // source -> raw -> stage -> stream -> sink; the stage thread is not pinned (a third thread on the
        // bench's two cores goes where the scheduler finds room).
        graph["channels"].push_back(
            {{"name", "raw"}, {"slot_bytes", payload}, {"slot_count", slots}, {"sync", "single_reader"}});
        graph["nodes"][0]["outputs"] = {"raw"};
        graph["nodes"].push_back({{"id", "stage"},
                                  {"plugin", "bench_scale"},
                                  {"params", {{"gain", 1.0}, {"offset", 0.0}}},
                                  {"burst", stage->burst},
                                  {"inputs", {"raw"}},
                                  {"outputs", {"stream"}}});
        auto& stage_node = graph["nodes"].back();
        if (stage->isolated)
            stage_node.update({{"isolation", "process"}, {"max_restarts", 1000}, {"restart_period_s", 3600}});
        if (stage->crash_after != 0) stage_node["params"]["crash_after"] = stage->crash_after;
        if (stage->own_thread) stage_node["fuse"] = false;
    }
    std::ofstream(graph_file) << graph.dump(2);

    testing::ChildOptions child_options;
    child_options.death_signal = SIGKILL;  // kept across exec: no kernel outlives an interrupted bench
    std::vector<std::string> arguments = {graph_file, "--plugin-path", DHUB_BENCH_PLUGIN_DIR, "--log-level", "warn"};
    if (stage && !stage->events_file.empty()) arguments.insert(arguments.end(), {"--events", stage->events_file});
    if (stage && !stage->spin_us.empty()) arguments.insert(arguments.end(), {"--spin-us", stage->spin_us});
    if (counters == Counters::Private) arguments.push_back("--no-counters");
    testing::ChildProcess kernel = testing::ChildProcess::spawn(DHUB_BENCH_KERNEL, arguments, child_options);
    kernel_pid = kernel.pid();
    const testing::ExitStatus status =
        kernel.wait(std::chrono::duration_cast<std::chrono::milliseconds>(options.child_timeout));
    if (status.timed_out) throw std::runtime_error("dhub-kernel did not finish in time");
    if (!status.exited || status.code != 0) {
        throw std::runtime_error(
            "dhub-kernel failed (" +
            (status.exited ? "exit code " + std::to_string(status.code) : "signal " + std::to_string(status.signal)) +
            ")");
    }
    std::ifstream in(result_file);
    const nlohmann::json result = nlohmann::json::parse(in, nullptr, false);
    if (result.is_discarded() || result["bad"] != 0 || result["lost"] != 0) {
        throw std::runtime_error("bench_sink result missing or reports bad/lost slots");
    }
    return result["messages"].get<double>() * 1e9 / result["elapsed_ns"].get<double>();
}

/// Bare and kernel runs of one payload size, alternated; index i of each vector is the i-th pair.
struct PairedRates {
    std::vector<double> bare;
    std::vector<double> kernel;
    std::vector<double> ratios;  ///< kernel / bare per pair
    std::string pairs;           ///< "kernel/bare M (c2c ...)" per pair, for the note
};

/// The kernel path is judged as "kernel rate / bare DataBlock rate measured in the same run". On a VM
/// the cross-core cost can change several-fold between two runs a second apart (the c2c probe shows
/// it), so a single bare run and a single kernel run can disagree by more than the kernel costs. Bare
/// and kernel runs are therefore alternated and paired, and the median of the per-pair ratios is
/// reported; each pair's c2c round trip goes into the note so a mode flip is visible.
PairedRates measure_pairs(
    const BenchOptions& options, std::size_t payload, std::uint64_t messages, int rounds, std::uint32_t burst) {
    constexpr std::uint32_t SLOTS = 256;
    StreamSetup bare{payload, SLOTS, messages, SyncPolicy::SingleReader, SPIN_WAIT, 1, options.consumer_core};
    bare.burst = burst;
    PairedRates rates;
    for (int round = 0; round < rounds; ++round) {
        const double c2c_ns = probe_core_to_core_ns(options);
        const double bare_rate = measure_stream(bare, options).slowest_msgs_per_s;
        const double kernel_rate = measure_kernel_path(options, payload, messages, SLOTS, burst);
        rates.bare.push_back(bare_rate);
        rates.kernel.push_back(kernel_rate);
        rates.ratios.push_back(kernel_rate / bare_rate);
        rates.pairs += (rates.pairs.empty() ? "" : ", ") + fixed(kernel_rate / 1e6, 2) + "/" +
                       fixed(bare_rate / 1e6, 2) + " M (c2c " + fixed(c2c_ns / 1e3, 2) + " us)";
    }
    return rates;
}

/// Per payload and hand-over (one slot per call, bursts of 32 on both ends): a bare row and a kernel row
/// (median rates); the kernel row's note holds the median kernel/bare ratio and every pair.
std::vector<CaseResult> run_kernel_path(const BenchOptions& options) {
    constexpr std::uint32_t BURST = 32;
    const int rounds = options.quick ? 2 : 5;
    std::vector<CaseResult> results;
    for (const std::size_t payload : {std::size_t{64}, std::size_t{4096}}) {
        for (const std::uint32_t burst : {std::uint32_t{1}, BURST}) {
            // Bursts are faster: twice the messages keep the run about as long.
            const std::uint64_t messages =
                options.scaled((payload == 64 ? 20'000'000 : 10'000'000) * (burst > 1 ? 2 : 1));
            PairedRates rates;
            std::string error;
            try {
                rates = measure_pairs(options, payload, messages, rounds, burst);
            } catch (const std::exception& e) {
                error = e.what();
            } catch (...) {
                error = "unknown exception";
            }
            const std::string suffix_name = burst > 1 ? "_burst" + std::to_string(burst) : "";
            const std::string hand_over =
                burst > 1 ? "bursts of up to " + std::to_string(burst) + " slots per call" : "one slot per call";
            for (const bool through_kernel : {false, true}) {
                CaseResult row{.case_name = (through_kernel ? "oneway_kernel" : "oneway_bare") + suffix_name,
                               .transport = TRANSPORT,
                               .payload_bytes = payload};
                row.wait = "spin";
                std::string suffix;
                if (!error.empty()) {
                    row.error = error;
                } else {
                    row.msgs_per_s = median_of(through_kernel ? rates.kernel : rates.bare);
                    row.gb_per_s = row.msgs_per_s * static_cast<double>(payload) / 1e9;
                    const std::string ratio = fixed(median_of(rates.ratios) * 100, 1) + " %";
                    row.note = through_kernel ? "dhub-kernel: bench_source -> bench_sink plugins, " + hand_over +
                                                    ", node threads pinned like the bare processes; kernel/bare " +
                                                    ratio + " (median of " + std::to_string(rounds) +
                                                    " alternating pairs: " + rates.pairs + ")"
                                              : "bare DataBlock processes, single_reader ring 256, ends touched, " +
                                                    hand_over + ", " + std::to_string(messages) + " msgs; median of " +
                                                    std::to_string(rounds) + " runs alternating with the kernel's";
                    if (through_kernel) suffix = ", " + ratio + " of bare";
                }
                std::cerr << "  " << one_line_summary(row) << suffix << std::endl;
                results.push_back(std::move(row));
            }
        }
    }
    return results;
}
/// One row of a comparison run as alternating kernel runs: the median of rates, or the error that ended the run
/// (every row of it shares that); printed as it is made.
CaseResult alternated_row(const std::string& name,
                          std::size_t payload,
                          const std::vector<double>& rates,
                          const std::string& note,
                          int rounds,
                          const std::string& error) {
    CaseResult result{.case_name = name, .transport = TRANSPORT, .payload_bytes = payload};
    result.wait = "spin";
    if (!error.empty()) {
        result.error = error;
    } else {
        result.msgs_per_s = median_of(rates);
        result.gb_per_s = result.msgs_per_s * static_cast<double>(payload) / 1e9;
        result.note = note + " (median of " + std::to_string(rounds) + " alternating runs)";
    }
    std::cerr << "  " << one_line_summary(result) << std::endl;
    return result;
}

/// A baseline and a variant measured in turn, round after round, so that the machine's drift hits both alike.
struct AlternatedPair {
    std::vector<double> baseline;
    std::vector<double> variant;
    std::vector<double> ratios;  ///< variant / baseline, per round
    std::string error;           ///< what ended the rounds early ("" if nothing did)
    /// The median ratio as "97.5 %" ("" when no round completed).
    std::string ratio() const { return ratios.empty() ? "" : fixed(median_of(ratios) * 100, 1) + " %"; }
};

template <typename Baseline, typename Variant>
AlternatedPair alternate(int rounds, Baseline measure_baseline, Variant measure_variant) {
    AlternatedPair pair;
    try {
        for (int round = 0; round < rounds; ++round) {
            pair.baseline.push_back(measure_baseline());
            pair.variant.push_back(measure_variant());
            pair.ratios.push_back(pair.variant.back() / pair.baseline.back());
        }
    } catch (const std::exception& e) {
        pair.error = e.what();
    }
    return pair;
}

/// "88.1 % (quartiles 79.0-97.2 %, 15 pairs)": the spread of per-pair ratios, so that a reader sees how far one
/// pair can stray on the machine that ran them.
std::string ratio_spread(std::vector<double> ratios) {
    if (ratios.empty()) return "";
    std::sort(ratios.begin(), ratios.end());
    // Between the two nearest ranks, as the median is: a nearest rank alone puts unequal counts outside each quartile.
    const auto quartile = [&](double fraction) {
        const double position = fraction * static_cast<double>(ratios.size() - 1);
        const auto below = static_cast<std::size_t>(position);
        const std::size_t above = std::min(below + 1, ratios.size() - 1);
        return ratios[below] + (position - static_cast<double>(below)) * (ratios[above] - ratios[below]);
    };
    return fixed(median_of(ratios) * 100, 1) + " % (quartiles " + fixed(quartile(0.25) * 100, 1) + "-" +
           fixed(quartile(0.75) * 100, 1) + " %, " + std::to_string(ratios.size()) + " pairs)";
}

/// Source -> stage -> sink against source -> sink, both in bursts of 32, alternated in one run (issue 11:
/// a stage in bursts keeps >= 80 % of the direct path; on two CPUs the kernel fuses the stage into the source);
/// the stage on a thread of its own ("fuse": false); the stage one slot per call, as before SDK 1.2; the stage on
/// its own thread with every node spinning busily 20 us before it sleeps (--spin-us 20); and the bound of all
/// these, the stage's work done by the source itself (through_scale), with no stage and no hop.
///
/// The direct and fused runs, whose ratio is the criterion, go in adjacent pairs, several per round: a shared VM
/// switches between speed levels every few seconds (the direct path at about 0.9, 2.4 or 4 M slots/s on the
/// machine this was written on, within one run as between runs), and a pair that straddles a switch says nothing
/// about the stage. Short pairs straddle fewer switches, and many of them give a median that a few such pairs do
/// not move; the quartiles show the spread.
std::vector<CaseResult> run_stage_path(const BenchOptions& options) {
    constexpr std::uint32_t BURST = 32;
    constexpr std::uint32_t SLOTS = 256;
    constexpr std::size_t PAYLOAD = 4096;
    const int rounds = options.quick ? 2 : 5;
    const int pairs_per_round = options.quick ? 1 : 3;
    const std::uint64_t messages = options.scaled(1'000'000);
    std::vector<double> direct;
    std::vector<double> staged;
    std::vector<double> staged_per_slot;
    std::vector<double> staged_own_thread;
    std::vector<double> own_thread_ratios;
    std::vector<double> staged_spinning;
    std::vector<double> source_scaling;
    std::vector<double> ratios;
    std::vector<double> spinning_ratios;
    std::vector<double> scaling_ratios;
    std::string error;
    try {
        for (int round = 0; round < rounds; ++round) {
            for (int pair = 0; pair < pairs_per_round; ++pair) {
                direct.push_back(measure_kernel_path(options, PAYLOAD, messages, SLOTS, BURST, {}, Touch::EveryByte));
                staged.push_back(measure_kernel_path(options, PAYLOAD, messages, SLOTS, BURST, StageInPath{BURST},
                                                     Touch::EveryByte));
                ratios.push_back(staged.back() / direct.back());
            }
            // The other rows once per round, each against the round's last direct run.
            // On a machine of two CPUs, the bench's, the kernel runs the stage on the source's thread (a fused
            // stage, docs/kernel.md); "fuse": false keeps it on a thread of its own, as before. With three CPUs or
            // more both rows run alike.
            staged_own_thread.push_back(measure_kernel_path(options, PAYLOAD, messages, SLOTS, BURST,
                                                            StageInPath{.burst = BURST, .own_thread = true},
                                                            Touch::EveryByte));
            own_thread_ratios.push_back(staged_own_thread.back() / direct.back());
            // The stage on its own thread and every node spinning busily 20 us, as every node did before the
            // kernel decided (docs/kernel.md, "Waiting").
            staged_spinning.push_back(measure_kernel_path(
                options, PAYLOAD, messages, SLOTS, BURST,
                StageInPath{.burst = BURST, .spin_us = "20", .own_thread = true}, Touch::EveryByte));
            spinning_ratios.push_back(staged_spinning.back() / direct.back());
            staged_per_slot.push_back(
                measure_kernel_path(options, PAYLOAD, messages, SLOTS, BURST, StageInPath{1}, Touch::EveryByte));
            source_scaling.push_back(measure_kernel_path(options, PAYLOAD, messages, SLOTS, BURST, {}, Touch::EveryByte,
                                                         Gate::None, Counters::Published, SourceWork::ThroughScale));
            scaling_ratios.push_back(source_scaling.back() / direct.back());
        }
    } catch (const std::exception& e) {
        error = e.what();
    }
    std::vector<CaseResult> results;
    const auto row = [&](const char* name, const std::vector<double>& rates, const std::string& note) {
        results.push_back(alternated_row(name, PAYLOAD, rates, note, static_cast<int>(rates.size()), error));
    };
    row("source_sink_burst32", direct,
        "dhub-kernel: bench_source -> bench_sink, bursts of 32, every byte written and read (a sim-like source)");
    row("source_stage_sink_burst32", staged,
        "dhub-kernel: bench_source -> bench_scale -> bench_sink, every node in bursts of 32, the stage fused into the "
        "source when the nodes outnumber the CPUs (docs/kernel.md); " +
            ratio_spread(ratios) + " of source -> sink, each pair a run of each, adjacent");
    row("source_stage_sink_burst32_own_thread", staged_own_thread,
        "the same with the stage on a thread of its own (\"fuse\": false), yielding its CPU while it spins; " +
            (own_thread_ratios.empty() ? std::string() : fixed(median_of(own_thread_ratios) * 100, 1) + " %") +
            " of source -> sink");
    row("source_stage_sink_stage_per_slot", staged_per_slot,
        "the same with the stage one slot per call (\"burst\": 1, as every stage before SDK 1.2)");
    row("source_stage_sink_burst32_spin20", staged_spinning,
        "source -> stage -> sink in bursts, the stage on its own thread, every node spinning busily 20 us before it "
        "sleeps (--spin-us 20); " +
            (spinning_ratios.empty() ? std::string() : fixed(median_of(spinning_ratios) * 100, 1) + " %") +
            " of source -> sink");
    row("source_through_scale_sink_burst32", source_scaling,
        "the bound: bench_source maps each frame into its slot with scale's arithmetic itself, no stage and no hop; " +
            (scaling_ratios.empty() ? std::string() : fixed(median_of(scaling_ratios) * 100, 1) + " %") +
            " of source -> sink");
    return results;
}

/// Each restart's time (ns) in an events file: from a host's end (node_process_ended) to its successor's
/// node_ready.
std::vector<std::int64_t> restart_times(const std::string& events_file) {
    std::vector<std::int64_t> times;
    std::ifstream in(events_file);
    std::int64_t ended_at = -1;
    for (std::string line; std::getline(in, line);) {
        const auto event = nlohmann::json::parse(line, nullptr, false);
        if (event.is_discarded()) continue;
        if (event["event"] == "node_process_ended") ended_at = event["t_ns"].get<std::int64_t>();
        if (event["event"] == "node_ready" && ended_at >= 0) {
            times.push_back(event["t_ns"].get<std::int64_t>() - ended_at);
            ended_at = -1;
        }
    }
    return times;
}

/// The stage of source -> stage -> sink in a dhub-node-host against the same stage in a kernel thread, in bursts
/// of 32 and one slot per call, alternated (issue 15: isolated >= 90 % of in-process at 4 KiB); and the time an
/// isolated stage that segfaults every 20,000 frames takes to run again, over 100 restarts.
std::vector<CaseResult> run_isolation_path(const BenchOptions& options) {
    constexpr std::uint32_t BURST_OF_SOURCE = 32;
    constexpr std::uint32_t SLOTS = 256;
    constexpr std::size_t PAYLOAD = 4096;
    const int rounds = options.quick ? 2 : 5;
    std::vector<CaseResult> results;
    for (const std::uint32_t burst : {std::uint32_t{32}, std::uint32_t{1}}) {
        const std::uint64_t messages = options.scaled(burst > 1 ? 2'000'000 : 1'000'000);
        const AlternatedPair rates = alternate(
            rounds,
            [&] {
                // Its own thread, as the isolated stage has: what isolation costs, not what fusing would save.
                return measure_kernel_path(options, PAYLOAD, messages, SLOTS, BURST_OF_SOURCE,
                                           StageInPath{.burst = burst, .own_thread = true}, Touch::EveryByte);
            },
            [&] {
                return measure_kernel_path(options, PAYLOAD, messages, SLOTS, BURST_OF_SOURCE, StageInPath{burst, true},
                                           Touch::EveryByte);
            });
        const std::string hand_over = burst > 1 ? "the stage in bursts of 32" : "the stage one slot per call";
        const std::string suffix = burst > 1 ? "_burst32" : "_per_slot";
        results.push_back(alternated_row("stage_in_process" + suffix, PAYLOAD, rates.baseline,
                                         "dhub-kernel: bench_source -> bench_scale -> bench_sink, " + hand_over +
                                             ", every node a kernel thread of its own (\"fuse\": false)",
                                         rounds, rates.error));
        results.push_back(alternated_row("stage_isolated" + suffix, PAYLOAD, rates.variant,
                                         "the same with the stage in a dhub-node-host process (\"isolation\": "
                                         "\"process\"); " +
                                             rates.ratio() + " of in-process",
                                         rounds, rates.error));
    }
    // Restart time: 101 processes of 20,000 frames, the first 100 segfault.
    CaseResult restart{.case_name = "isolated_restart", .transport = TRANSPORT, .payload_bytes = PAYLOAD};
    try {
        const testing::TempDir scratch("dhub-bench-restart");
        constexpr std::uint64_t PER_PROCESS = 20'000;
        StageInPath crashing{32, true, PER_PROCESS, scratch.file("events.jsonl")};
        (void)measure_kernel_path(options, PAYLOAD, 101 * PER_PROCESS, SLOTS, BURST_OF_SOURCE, crashing,
                                  Touch::EveryByte);
        std::vector<std::int64_t> times = restart_times(crashing.events_file);
        if (times.size() != 100) throw std::runtime_error(std::to_string(times.size()) + " restarts, not 100");
        std::sort(times.begin(), times.end());
        restart.p50_ns = percentile_of_sorted(times, 0.50);
        restart.p99_ns = percentile_of_sorted(times, 0.99);
        restart.note =
            "a bench_scale stage segfaulting every 20,000 frames, isolated: from its process's end to its "
            "successor's ready, p50/p99 of 100 restarts; bench_sink saw every frame once";
    } catch (const std::exception& e) {
        restart.error = e.what();
    }
    std::cerr << "  " << one_line_summary(restart) << std::endl;
    results.push_back(std::move(restart));
    return results;
}

/// The plain channel against the same channel guarded by one trivial accepting validator (issue 11: >= 90 % of
/// the plain 4 KiB rate), slot by slot and in bursts of 32, alternated in one run.
std::vector<CaseResult> run_validator_path(const BenchOptions& options) {
    constexpr std::uint32_t SLOTS = 256;
    constexpr std::size_t PAYLOAD = 4096;
    const int rounds = options.quick ? 2 : 5;
    std::vector<CaseResult> results;
    for (const std::uint32_t burst : {std::uint32_t{1}, std::uint32_t{32}}) {
        const std::uint64_t messages = options.scaled(burst > 1 ? 20'000'000 : 10'000'000);
        const AlternatedPair rates = alternate(
            rounds, [&] { return measure_kernel_path(options, PAYLOAD, messages, SLOTS, burst); },
            [&] {
                return measure_kernel_path(options, PAYLOAD, messages, SLOTS, burst, {}, Touch::Auto, Gate::AcceptAll);
            });
        const std::string hand_over = burst > 1 ? "bursts of 32" : "one slot per call";
        const std::string suffix = burst > 1 ? "_burst32" : "";
        results.push_back(alternated_row("plain_channel" + suffix, PAYLOAD, rates.baseline,
                                         "dhub-kernel: bench_source -> bench_sink, " + hand_over, rounds, rates.error));
        results.push_back(alternated_row(
            "guarded_channel" + suffix, PAYLOAD, rates.variant,
            "the same channel with one validator (bench_accept) judging every slot before publication; " +
                rates.ratio() + " of the plain channel",
            rounds, rates.error));
    }
    return results;
}

/// Issue 14: 4 KiB one-way through the kernel with its counters page published against the same run with the
/// nodes counting in private memory (>= 98 %), slot by slot and in bursts of 32, alternated in one run.
std::vector<CaseResult> run_counters_cost(const BenchOptions& options) {
    constexpr std::uint32_t SLOTS = 256;
    constexpr std::size_t PAYLOAD = 4096;
    const int rounds = options.quick ? 3 : 7;
    std::vector<CaseResult> results;
    for (const std::uint32_t burst : {std::uint32_t{1}, std::uint32_t{32}}) {
        const std::uint64_t messages = options.scaled(burst > 1 ? 20'000'000 : 10'000'000);
        const AlternatedPair rates = alternate(
            rounds,
            [&] {
                return measure_kernel_path(options, PAYLOAD, messages, SLOTS, burst, {}, Touch::Auto, Gate::None,
                                           Counters::Private);
            },
            [&] { return measure_kernel_path(options, PAYLOAD, messages, SLOTS, burst); });
        const std::string hand_over = burst > 1 ? "bursts of 32" : "one slot per call";
        const std::string suffix = burst > 1 ? "_burst32" : "";
        results.push_back(alternated_row("counters_private" + suffix, PAYLOAD, rates.baseline,
                                         "dhub-kernel --no-counters: bench_source -> bench_sink, " + hand_over, rounds,
                                         rates.error));
        results.push_back(
            alternated_row("counters_published" + suffix, PAYLOAD, rates.variant,
                           "the same with the counters page in /dev/shm; " + rates.ratio() + " of the private run",
                           rounds, rates.error));
    }
    return results;
}
#endif

}  // namespace

void register_dhub_cases(Registry& registry) {
    registry.add({"dhub.idle_cpu", run_idle_cpu, "CPU used by a consumer blocked on an idle channel"});
#ifdef DHUB_BENCH_KERNEL
    registry.add({"dhub.kernel_path", run_kernel_path,
                  "one-way through dhub-kernel and real plugins, paired with bare runs (per slot and in bursts): "
                  "kernel/bare ratio"});
    registry.add(
        {"dhub.stage_path", run_stage_path,
         "4 KiB through dhub-kernel: source -> scale-like stage -> sink in bursts vs source -> sink, one run"});
    registry.add({"dhub.isolation_path", run_isolation_path,
                  "a stage in a dhub-node-host process against the same in a kernel thread (bursts of 32 and per "
                  "slot), and the restart time of an isolated stage that crashes"});
    registry.add({"dhub.counters_cost", run_counters_cost,
                  "4 KiB through dhub-kernel with its counters page published vs kept private (--no-counters), "
                  "slot by slot and in bursts, one run"});
    registry.add({"dhub.validator_path", run_validator_path,
                  "4 KiB through dhub-kernel: a channel with one trivial accepting validator vs the plain channel "
                  "(slot by slot and in bursts), one run"});
#endif
    registry.add({"dhub.pingpong", run_pingpong,
                  "round trip over two DataBlock channels, busy spin and futex sleep, 64 B .. 1 MiB"});
    registry.add({"dhub.oneway", run_oneway, "lossless one-way (single_reader) throughput, 64 B .. 1 MiB"});
    registry.add(
        {"dhub.latest", run_latest,
         "latest_only ring of 2 and 4: producer rate and whole reads/s of one plain or holding reader going flat out"});
    registry.add({"dhub.fanout", run_fanout, "every_reader 1 -> 1 and 1 -> 4 consumers, sleep-mode waits"});
    registry.add({"dhub.viewer", run_viewer,
                  "4 KiB lossless recorder alone vs with a latest-only viewer holding each slot 100 ms, alternated"});
}

}  // namespace dhub::bench
