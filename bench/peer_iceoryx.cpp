// SPDX-License-Identifier: Apache-2.0
// Peer: iceoryx 2.0 classic API (UntypedPublisher/UntypedSubscriber: loan, publish, take, release;
// WaitSet for blocking waits), transport "iceoryx".
// The group starts its own iox-roudi (with mempools big enough for 1 MiB chunks) unless one is
// already running, and stops it at the end. The iceoryx runtime is only ever initialised inside
// forked children: a runtime in the parent would be inherited, half-alive, by every child.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_cases.hpp"
#include "harness/child_process.hpp"
#include "harness/latency_stats.hpp"
#include "harness/payload_touch.hpp"
#include "harness/process_sync.hpp"
#include "harness/shared_mapping.hpp"
#include "harness/timing.hpp"
#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "iceoryx_posh/popo/wait_set.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace dhub::bench {
namespace {

constexpr const char* TRANSPORT = "iceoryx";
constexpr std::size_t MIB = std::size_t{1} << 20;
constexpr std::chrono::seconds CONNECT_TIMEOUT{10};
constexpr std::chrono::seconds ROUDI_START_TIMEOUT{15};
constexpr std::chrono::seconds ROUDI_STOP_TIMEOUT{10};

// Chunk sizes include iceoryx's chunk header; 1 KiB of headroom covers it for every payload.
// Counts cover the deepest queue used below (fan-out: 4 subscribers x 256 chunks at 4 KiB).
constexpr const char* ROUDI_CONFIG = R"(# written by dhub-bench
[general]
version = 1

[[segment]]

[[segment.mempool]]
size = 1088
count = 10000

[[segment.mempool]]
size = 5120
count = 4000

[[segment.mempool]]
size = 66560
count = 200

[[segment.mempool]]
size = 1049600
count = 40
)";

// ---------------------------------------------------------------- RouDi

bool roudi_is_running() {
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ignored)) {
        const std::string pid = entry.path().filename().string();
        if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit)) continue;
        std::ifstream comm(entry.path() / "comm");
        std::string name;
        if (std::getline(comm, name) && name == "iox-roudi") return true;
    }
    return false;
}

std::optional<std::filesystem::path> find_roudi() {
    if (const char* path = std::getenv("PATH")) {
        std::stringstream dirs(path);
        std::string dir;
        while (std::getline(dirs, dir, ':')) {
            if (dir.empty()) continue;
            const std::filesystem::path candidate = std::filesystem::path(dir) / "iox-roudi";
            if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        }
    }
    if (::access("/usr/bin/iox-roudi", X_OK) == 0) return std::filesystem::path("/usr/bin/iox-roudi");
    return std::nullopt;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Owns an iox-roudi we started (or nothing if one was already running): stops it with SIGTERM so it
// cleans its shared memory up, and with SIGKILL if it does not go in time.
class RoudiGuard {
public:
    RoudiGuard() : dir_("dhub-bench-roudi") {
        if (roudi_is_running()) {
            std::cerr << "  using the iox-roudi that is already running (its mempools may lack 1 MiB chunks)"
                      << std::endl;
            return;
        }
        const auto executable = find_roudi();
        if (!executable) throw SkipGroup("iox-roudi not found on PATH or in /usr/bin; iceoryx cases skipped");
        const std::filesystem::path config = dir_.path() / "roudi.toml";
        log_ = dir_.path() / "roudi.log";
        std::ofstream(config) << ROUDI_CONFIG;

        testing::ChildOptions options;
        options.death_signal = SIGTERM;  // never outlive an interrupted benchmark
        options.output_file = log_.string();
        roudi_ = testing::ChildProcess::spawn(executable->string(), {"-c", config.string()}, options);
        wait_until_ready();
    }
    RoudiGuard(const RoudiGuard&) = delete;
    RoudiGuard& operator=(const RoudiGuard&) = delete;

    ~RoudiGuard() {
        if (roudi_.pid() <= 0 || roudi_.reaped()) return;
        if (roudi_.stop(ROUDI_STOP_TIMEOUT).timed_out)
            std::cerr << "  iox-roudi did not stop on SIGTERM; killed it" << std::endl;
    }

private:
    void wait_until_ready() {
        const auto deadline = std::chrono::steady_clock::now() + ROUDI_START_TIMEOUT;
        for (;;) {
            if (read_file(log_).find("RouDi is ready for clients") != std::string::npos) return;
            if (roudi_.try_wait()) {
                throw std::runtime_error("iox-roudi exited during start-up: " + read_file(log_));
            }
            if (std::chrono::steady_clock::now() > deadline) {
                throw std::runtime_error("iox-roudi not ready after " + std::to_string(ROUDI_START_TIMEOUT.count()) +
                                         " s: " + read_file(log_));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    testing::TempDir dir_;
    std::filesystem::path log_;
    testing::ChildProcess roudi_;  // empty when an iox-roudi was already running
};

// ---------------------------------------------------------------- iceoryx helpers (children only)

// Built from std::string with its length: the const char* constructor makes GCC 12 warn
// (-Warray-bounds, inside iceoryx's header) when it is inlined with a short literal.
template <typename IoxString>
IoxString iox_string(const std::string& text) {
    return IoxString(iox::cxx::TruncateToCapacity, text.c_str(), text.size());
}

void init_runtime(const std::string& role) {
    // The library defaults to verbose logging; warnings and errors are all we want to see.
    iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn,
                                                             iox::log::LogLevelOutput::kHideLogLevel);
    const std::string name = "dhub-bench-" + role + "-" + std::to_string(::getpid());
    iox::runtime::PoshRuntime::initRuntime(iox_string<iox::RuntimeName_t>(name));
}

iox::capro::ServiceDescription service(const std::string& instance, const std::string& event) {
    return {iox_string<iox::capro::IdString_t>("dhub-bench"), iox_string<iox::capro::IdString_t>(instance),
            iox_string<iox::capro::IdString_t>(event)};
}

// Unique per case, so a slow-to-clean-up port of an earlier case can never connect to this one.
std::string next_instance(const char* what, std::size_t payload) {
    static int counter = 0;
    return std::string(what) + "-" + std::to_string(payload) + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(++counter);
}

iox::popo::PublisherOptions lossless_publisher() {
    iox::popo::PublisherOptions options;
    options.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
    return options;
}

iox::popo::SubscriberOptions lossless_subscriber(std::uint64_t queue_capacity) {
    iox::popo::SubscriberOptions options;
    options.queueCapacity = queue_capacity;
    options.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
    return options;
}

void wait_subscribed(const iox::popo::UntypedSubscriber& subscriber) {
    const auto deadline = std::chrono::steady_clock::now() + CONNECT_TIMEOUT;
    while (subscriber.getSubscriptionState() != iox::SubscribeState::SUBSCRIBED) {
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("iceoryx subscription timed out");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

// Loans a chunk, retrying while the mempool is momentarily empty (that is back-pressure, not loss).
void* loan(iox::popo::UntypedPublisher& publisher, std::size_t payload, std::uint64_t& loan_retries) {
    for (;;) {
        auto chunk = publisher.loan(static_cast<std::uint32_t>(payload));
        if (!chunk.has_error()) return chunk.value();
        if (chunk.get_error() != iox::popo::AllocationError::RUNNING_OUT_OF_CHUNKS) {
            throw std::runtime_error("iceoryx loan failed: " + std::to_string(static_cast<int>(chunk.get_error())) +
                                     " (does the RouDi mempool have chunks of this size?)");
        }
        ++loan_retries;
        cpu_relax();
    }
}

enum class WaitKind { spin, sleep };

// take() that either busy-polls or blocks in a WaitSet.
class Receiver {
public:
    Receiver(iox::popo::UntypedSubscriber& subscriber, WaitKind wait) : subscriber_(subscriber), wait_(wait) {
        if (wait_ == WaitKind::sleep) {
            waitset_.emplace();
            if (waitset_->attachState(subscriber_, iox::popo::SubscriberState::HAS_DATA).has_error()) {
                throw std::runtime_error("cannot attach subscriber to WaitSet");
            }
        }
    }

    // Next chunk; nullptr once `sync` says the producer finished and nothing is left.
    const void* take(const ProcessSync* sync = nullptr) {
        for (;;) {
            auto chunk = subscriber_.take();
            if (!chunk.has_error()) return chunk.value();
            if (chunk.get_error() != iox::popo::ChunkReceiveResult::NO_CHUNK_AVAILABLE) {
                throw std::runtime_error("iceoryx take failed: too many chunks held");
            }
            // Publishing happens before the flag is set, so an empty queue after seeing it is final.
            if (sync != nullptr && sync->is_producer_finished()) {
                auto last = subscriber_.take();
                return last.has_error() ? nullptr : last.value();
            }
            if (wait_ == WaitKind::spin) {
                cpu_relax();
            } else if (sync != nullptr) {
                static_cast<void>(waitset_->timedWait(iox::units::Duration::fromMilliseconds(10)));
            } else {
                static_cast<void>(waitset_->wait());
            }
        }
    }

private:
    iox::popo::UntypedSubscriber& subscriber_;
    WaitKind wait_;
    std::optional<iox::popo::WaitSet<>> waitset_;
};

const char* wait_name(WaitKind wait) {
    return wait == WaitKind::spin ? "spin" : "sleep";
}

// ---------------------------------------------------------------- ping-pong

void measure_pingpong(const BenchOptions& options, std::size_t payload, WaitKind wait, CaseResult& row) {
    SharedMapping mapping(sizeof(ProcessSync));
    ProcessSync* sync = mapping.emplace<ProcessSync>();
    const std::string instance = next_instance("pingpong", payload);
    std::uint64_t total = wait == WaitKind::spin ? options.spin_round_trips : options.sleep_round_trips;
    if (payload >= MIB) total = std::max<std::uint64_t>(total / 4, 100);
    const std::uint64_t warmup = BenchOptions::warmup_of(total);

    // Zero-copy hand-over: only the ends are touched, at every size.
    auto responder = ChildProcess::spawn("iceoryx pong", options.consumer_core, [=] {
        init_runtime("pong");
        iox::popo::UntypedSubscriber subscriber(service(instance, "ping"));
        iox::popo::UntypedPublisher publisher(service(instance, "pong"));
        Receiver receiver(subscriber, wait);
        wait_subscribed(subscriber);
        sync->arrive();
        sync->wait_for_arrivals(2);
        std::uint64_t retries = 0;
        for (std::uint64_t i = 0; i < total; ++i) {
            const void* ping = receiver.take();
            const bool good = read_payload(ping, payload, i, TouchMode::ends);
            subscriber.release(ping);
            if (!good) throw std::runtime_error("ping " + std::to_string(i) + " has wrong contents");
            void* pong = loan(publisher, payload, retries);
            write_payload(pong, payload, i, TouchMode::ends);
            publisher.publish(pong);
        }
        sync->mark_done();
        sync->wait_for_done(2);
    });
    auto pinger = ChildProcess::spawn("iceoryx ping", options.producer_core, [=] {
        init_runtime("ping");
        iox::popo::UntypedPublisher publisher(service(instance, "ping"));
        iox::popo::UntypedSubscriber subscriber(service(instance, "pong"));
        Receiver receiver(subscriber, wait);
        wait_subscribed(subscriber);
        sync->arrive();
        sync->wait_for_arrivals(2);
        std::vector<std::int64_t> samples;
        samples.reserve(total - warmup);
        std::uint64_t retries = 0;
        for (std::uint64_t i = 0; i < total; ++i) {
            const std::int64_t start = now_ns();
            void* ping = loan(publisher, payload, retries);
            write_payload(ping, payload, i, TouchMode::ends);
            publisher.publish(ping);
            const void* pong = receiver.take();
            const bool good = read_payload(pong, payload, i, TouchMode::ends);
            subscriber.release(pong);
            const std::int64_t end = now_ns();
            if (!good) throw std::runtime_error("pong " + std::to_string(i) + " has wrong contents");
            if (i >= warmup) samples.push_back(end - start);
        }
        sync->mark_done();
        sync->wait_for_done(2);
        return summarize_latencies(std::move(samples));
    });
    wait_all({&pinger, &responder}, options.child_timeout);
    row.set_latency(pinger.result<LatencySummary>());
    row.note = std::string(wait == WaitKind::spin ? "tryTake loop" : "WaitSet") + ", ends touched, " +
               std::to_string(total - warmup) + " round trips";
}

// ---------------------------------------------------------------- one-way and fan-out

struct ConsumerTally {
    std::uint64_t received = 0;
    std::uint64_t timed_messages = 0;
    std::int64_t elapsed_ns = 0;
    std::uint64_t bad_messages = 0;
};

struct ProducerTally {
    std::uint64_t loan_retries = 0;
};

ConsumerTally consume(iox::popo::UntypedSubscriber& subscriber,
                      WaitKind wait,
                      ProcessSync* sync,
                      std::size_t payload,
                      std::uint64_t total) {
    const TouchMode mode = touch_mode_for(payload);
    const std::uint64_t warmup = total / 10;
    Receiver receiver(subscriber, wait);
    ConsumerTally tally;
    std::int64_t start = now_ns();
    while (tally.received < total) {
        const void* chunk = receiver.take(sync);
        if (chunk == nullptr) break;  // producer finished: the rest was lost
        // Checked against the count received so far: a lost message shows up as a bad one too.
        if (!read_payload(chunk, payload, tally.received, mode)) ++tally.bad_messages;
        subscriber.release(chunk);
        if (++tally.received == warmup) start = now_ns();
    }
    tally.elapsed_ns = now_ns() - start;
    tally.timed_messages = tally.received > warmup ? tally.received - warmup : 0;
    return tally;
}

ProducerTally produce(iox::popo::UntypedPublisher& publisher, std::size_t payload, std::uint64_t total) {
    const TouchMode mode = touch_mode_for(payload);
    ProducerTally tally;
    for (std::uint64_t seq = 0; seq < total; ++seq) {
        void* chunk = loan(publisher, payload, tally.loan_retries);
        write_payload(chunk, payload, seq, mode);
        publisher.publish(chunk);  // blocks while a subscriber queue is full (WAIT_FOR_CONSUMER)
    }
    return tally;
}

std::string loss_note(std::uint64_t total, const ConsumerTally& tally) {
    if (tally.received == total && tally.bad_messages == 0) return "lossless";
    return "LOST " + std::to_string(total - tally.received) + ", bad " + std::to_string(tally.bad_messages);
}

struct OnewayConfig {
    std::size_t payload_bytes;
    std::uint64_t queue_capacity;
    std::size_t full_messages;
};

void measure_oneway(const BenchOptions& options, const OnewayConfig& config, CaseResult& row) {
    SharedMapping mapping(sizeof(ProcessSync));
    ProcessSync* sync = mapping.emplace<ProcessSync>();
    const std::string instance = next_instance("oneway", config.payload_bytes);
    const std::uint64_t total = options.scaled(config.full_messages);
    const std::size_t payload = config.payload_bytes;
    const std::uint64_t queue = config.queue_capacity;

    auto consumer = ChildProcess::spawn("iceoryx oneway consumer", options.consumer_core, [=] {
        init_runtime("oneway-sub");
        iox::popo::UntypedSubscriber subscriber(service(instance, "data"), lossless_subscriber(queue));
        wait_subscribed(subscriber);
        sync->arrive();
        sync->wait_for_arrivals(2);
        const ConsumerTally tally = consume(subscriber, WaitKind::spin, sync, payload, total);
        sync->mark_done();
        return tally;
    });
    auto producer = ChildProcess::spawn("iceoryx oneway producer", options.producer_core, [=] {
        init_runtime("oneway-pub");
        iox::popo::UntypedPublisher publisher(service(instance, "data"), lossless_publisher());
        sync->arrive();
        sync->wait_for_arrivals(2);
        const ProducerTally tally = produce(publisher, payload, total);
        sync->mark_producer_finished();
        sync->wait_for_done(1);  // keep the publisher alive until everything is consumed
        return tally;
    });
    wait_all({&producer, &consumer}, options.child_timeout);
    const auto tally = consumer.result<ConsumerTally>();
    const auto producer_tally = producer.result<ProducerTally>();
    row.set_throughput(tally.timed_messages, tally.elapsed_ns);
    row.note = "queue " + std::to_string(queue) + ", block producer, " +
               std::string(touch_mode_name(touch_mode_for(payload))) + ", " + loss_note(total, tally);
    if (producer_tally.loan_retries != 0) row.note += ", loan retries " + std::to_string(producer_tally.loan_retries);
}

constexpr int FANOUT_CONSUMERS = 4;

void measure_fanout(const BenchOptions& options, CaseResult& row) {
    SharedMapping mapping(sizeof(ProcessSync));
    ProcessSync* sync = mapping.emplace<ProcessSync>();
    const std::size_t payload = 4096;
    const std::uint64_t queue = 256;
    const std::string instance = next_instance("fanout", payload);
    const std::uint64_t total = options.scaled(500'000);

    std::vector<ChildProcess> consumers;
    for (int i = 0; i < FANOUT_CONSUMERS; ++i) {
        consumers.push_back(
            ChildProcess::spawn("iceoryx fanout consumer " + std::to_string(i), options.consumer_core, [=] {
                init_runtime("fanout-sub" + std::to_string(i));
                iox::popo::UntypedSubscriber subscriber(service(instance, "data"), lossless_subscriber(queue));
                wait_subscribed(subscriber);
                sync->arrive();
                sync->wait_for_arrivals(FANOUT_CONSUMERS + 1);
                const ConsumerTally tally = consume(subscriber, WaitKind::sleep, sync, payload, total);
                sync->mark_done();
                return tally;
            }));
    }
    auto producer = ChildProcess::spawn("iceoryx fanout producer", options.producer_core, [=] {
        init_runtime("fanout-pub");
        iox::popo::UntypedPublisher publisher(service(instance, "data"), lossless_publisher());
        sync->arrive();
        sync->wait_for_arrivals(FANOUT_CONSUMERS + 1);
        const ProducerTally tally = produce(publisher, payload, total);
        sync->mark_producer_finished();
        sync->wait_for_done(FANOUT_CONSUMERS);
        return tally;
    });
    static_assert(FANOUT_CONSUMERS == 4, "wait_all below lists the consumers one by one");
    wait_all({&producer, &consumers[0], &consumers[1], &consumers[2], &consumers[3]}, options.child_timeout);

    // Lossless fan-out runs at the pace of the slowest consumer; report that one.
    std::optional<CaseResult> slowest;
    std::uint64_t lost = 0;
    std::uint64_t bad = 0;
    for (const ChildProcess& consumer : consumers) {
        const auto tally = consumer.result<ConsumerTally>();
        lost += total - tally.received;
        bad += tally.bad_messages;
        CaseResult rate = row;
        rate.set_throughput(tally.timed_messages, tally.elapsed_ns);
        if (!slowest || rate.msgs_per_s < slowest->msgs_per_s) slowest = rate;
    }
    row.msgs_per_s = slowest->msgs_per_s;
    row.gb_per_s = slowest->gb_per_s;
    row.note = "per consumer (slowest of 4, all on core " + std::to_string(options.consumer_core) +
               "), WaitSet, queue 256, ends touched, " +
               (lost == 0 && bad == 0 ? std::string("lossless")
                                      : "LOST " + std::to_string(lost) + ", bad " + std::to_string(bad));
}

// ---------------------------------------------------------------- groups

std::vector<CaseResult> run_pingpong(const BenchOptions& options) {
    RoudiGuard roudi;
    std::vector<CaseResult> results;
    for (WaitKind wait : {WaitKind::spin, WaitKind::sleep}) {
        for (std::size_t payload : {std::size_t{64}, std::size_t{4096}, MIB}) {
            CaseResult row{.case_name = "pingpong", .transport = TRANSPORT, .payload_bytes = payload};
            row.wait = wait_name(wait);
            run_case(results, row, [&](CaseResult& r) { measure_pingpong(options, payload, wait, r); });
        }
    }
    return results;
}

std::vector<CaseResult> run_oneway(const BenchOptions& options) {
    // Same queue depths as the raw SPSC ring.
    static constexpr OnewayConfig CONFIGS[] = {
        {64, 256, 1'000'000},
        {4096, 256, 1'000'000},
        {64 * 1024, 32, 500'000},
        {MIB, 8, 10'000},
    };
    RoudiGuard roudi;
    std::vector<CaseResult> results;
    for (const OnewayConfig& config : CONFIGS) {
        CaseResult row{.case_name = "oneway", .transport = TRANSPORT, .payload_bytes = config.payload_bytes};
        row.wait = "spin";
        run_case(results, row, [&](CaseResult& r) { measure_oneway(options, config, r); });
    }
    return results;
}

std::vector<CaseResult> run_fanout(const BenchOptions& options) {
    RoudiGuard roudi;
    std::vector<CaseResult> results;
    CaseResult row{.case_name = "fanout", .transport = TRANSPORT, .payload_bytes = 4096};
    row.wait = "sleep";
    row.consumers = FANOUT_CONSUMERS;
    run_case(results, row, [&](CaseResult& r) { measure_fanout(options, r); });
    return results;
}

}  // namespace

void register_iceoryx_cases(Registry& registry) {
    registry.add(
        {"iceoryx.pingpong", run_pingpong, "iceoryx round trip 64 B / 4 KiB / 1 MiB, tryTake spin and WaitSet"});
    registry.add({"iceoryx.oneway", run_oneway, "iceoryx lossless one-way throughput 64 B .. 1 MiB"});
    registry.add({"iceoryx.fanout", run_fanout, "iceoryx 1 -> 4 subscribers at 4 KiB, lossless, per-consumer rate"});
}

}  // namespace dhub::bench
