// SPDX-License-Identifier: Apache-2.0
// The control plane under measurement (transport "dhub"): a standalone dhub-broker process spoken to
// over real ZeroMQ on tcp loopback by BrokerClients in other processes.
//   dhub.broker_discovery: from "start DISCOVER" to "first slot in hand" (discover, attach the segment
//       the broker named, REGISTER_CONSUMER, acquire_read), producer first and consumer first.
//   dhub.broker_load: 100 clients in 10 processes, 1,000 channels, discovering and registering
//       consumers while beating; the broker's RSS is sampled once per second to show whether it grows.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_cases.hpp"
#include "dhub/base/process_identity.hpp"
#include "dhub/broker/broker_client.hpp"
#include "dhub/broker/keys.hpp"
#include "dhub/shm/consumer.hpp"
#include "dhub/shm/producer.hpp"
#include "dhub/shm/segment.hpp"
#include "harness/child_process.hpp"
#include "harness/latency_stats.hpp"
#include "harness/payload_touch.hpp"
#include "harness/shared_mapping.hpp"
#include "harness/timing.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace dhub::bench {
namespace {

using namespace std::chrono_literals;
using broker::BrokerClient;
using broker::ChannelInfo;
using broker::ChannelRegistration;
using broker::ClientConfig;
using broker::ProcessTag;

constexpr const char* TRANSPORT = "dhub";
constexpr int UNPINNED = -1;

template <typename T>
T expect_ok(Result<T> result, const std::string& what) {
    if (!result) throw std::runtime_error(what + ": " + result.error().message);
    return std::move(result.value());
}

std::string format_fixed(double value, int decimals) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

std::string format_us(double ns) {
    return format_fixed(ns * 1e-3, 0) + " us";
}

std::string format_kib(std::int64_t kib) {
    if (kib >= 10 * 1024 || kib <= -10 * 1024) return format_fixed(static_cast<double>(kib) / 1024.0, 1) + " MiB";
    return std::to_string(kib) + " KiB";
}

// ---------------------------------------------------------------- the broker process

#ifdef DHUB_BENCH_BROKER
/// dhub-broker run as a child process on an ephemeral loopback port. The destructor stops it (SIGTERM,
/// then SIGKILL), so no broker outlives the case, whatever is thrown; it also dies with this process.
class BrokerProcess {
public:
    explicit BrokerProcess(const std::filesystem::path& directory) {
        const std::string endpoint_file = (directory / "broker.endpoint").string();
        testing::ChildOptions options;
        options.death_signal = SIGKILL;  // kept across exec: the broker never outlives the bench
        // Errors only: every fresh client of the discovery case leaves a session that expires with a warning.
        process_ = testing::ChildProcess::spawn(
            DHUB_BENCH_BROKER,
            {"--endpoint", "tcp://127.0.0.1:0", "--endpoint-file", endpoint_file, "--log-level", "error"}, options);
        const bool written = testing::wait_until([&] {
            if (exited()) return true;
            std::ifstream in(endpoint_file);
            return static_cast<bool>(std::getline(in, endpoint_)) && !endpoint_.empty();
        });
        if (exited())
            throw std::runtime_error("dhub-broker exited at start (exit code " + std::to_string(status_.code) + ")");
        if (!written) throw std::runtime_error("dhub-broker did not write its endpoint within 10 s");
    }
    BrokerProcess(const BrokerProcess&) = delete;
    BrokerProcess& operator=(const BrokerProcess&) = delete;
    ~BrokerProcess() { (void)stop(); }

    pid_t pid() const noexcept { return process_.pid(); }
    const std::string& endpoint() const noexcept { return endpoint_; }

    /// True while the process has not exited.
    bool running() { return !exited(); }

    /// SIGTERM, then SIGKILL after 2 s. True if the broker stopped cleanly (exit code 0 on SIGTERM).
    bool stop() noexcept {
        if (!process_.reaped()) status_ = process_.stop(2s);
        return clean_exit();
    }

    /// VmRSS of the broker, KiB; -1 if it cannot be read.
    std::int64_t rss_kib() const {
        std::ifstream in("/proc/" + std::to_string(pid()) + "/status");
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
        }
        return -1;
    }

    /// User + system CPU time of the broker, ns (all its threads).
    std::int64_t cpu_ns() const {
        std::ifstream in("/proc/" + std::to_string(pid()) + "/stat");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto close = text.rfind(')');  // the command name may contain spaces
        if (close == std::string::npos) return -1;
        std::istringstream fields(text.substr(close + 2));
        std::string field;
        std::int64_t utime = 0;
        std::int64_t stime = 0;
        // After ")": state is field 3; utime and stime are fields 14 and 15.
        for (int index = 3; index <= 15 && fields >> field; ++index) {
            if (index == 14) utime = std::stoll(field);
            if (index == 15) stime = std::stoll(field);
        }
        return (utime + stime) * (1'000'000'000 / ::sysconf(_SC_CLK_TCK));
    }

private:
    bool exited() {
        if (const auto status = process_.try_wait()) status_ = *status;
        return process_.reaped();
    }
    bool clean_exit() const noexcept { return status_.exited && status_.code == 0; }

    testing::ChildProcess process_;
    testing::ExitStatus status_;
    std::string endpoint_;
};
#endif

// ---------------------------------------------------------------- shared by both groups

ClientConfig client_config(const std::string& endpoint, const std::string& name) {
    ClientConfig config;  // the library's defaults otherwise: beat every 500 ms, dead after 2 s
    config.endpoint = endpoint;
    config.name = name;
    return config;
}

ProcessTag process_tag(const std::string& name) {
    const ProcessIdentity self = ProcessIdentity::self();
    return ProcessTag{self.pid, self.start_ticks, name};
}

shm::SchemaHash bench_schema() {
    shm::SchemaHash hash{};
    for (std::size_t i = 0; i < hash.size(); ++i)
        hash[i] = static_cast<std::uint8_t>(0xb0 + i);
    return hash;
}

std::string to_hex(const shm::SchemaHash& hash) {
    static constexpr char DIGITS[] = "0123456789abcdef";
    std::string text;
    for (const std::uint8_t byte : hash) {
        text += DIGITS[byte >> 4];
        text += DIGITS[byte & 0xf];
    }
    return text;
}

shm::SchemaHash schema_from_hex(const std::string& text) {
    shm::SchemaHash hash{};
    if (text.size() != 2 * hash.size()) throw std::runtime_error("discovered schema hash has the wrong length");
    for (std::size_t i = 0; i < hash.size(); ++i)
        hash[i] = static_cast<std::uint8_t>(std::stoul(text.substr(2 * i, 2), nullptr, 16));
    return hash;
}

// ---------------------------------------------------------------- dhub.broker_discovery

constexpr std::size_t SLOT_BYTES = 4096;
constexpr std::uint32_t SLOT_COUNT = 8;
constexpr auto COMMIT_PERIOD = 100us;
/// Consumer first: how long the producer waits after the consumer sent DISCOVER, so that it is parked.
constexpr auto PARK_DELAY = 5ms;
constexpr std::size_t WARMUP_ITERATIONS = 1;
/// Runs slower than this are counted in the note: the distribution of a fresh client is bimodal.
constexpr std::int64_t SLOW_NS = 100'000'000;

enum class DiscoveryMode : std::uint8_t {
    FreshClient,    ///< producer first; a new BrokerClient (connect + HELLO) per discovery
    WarmClient,     ///< producer first; one connected BrokerClient for every discovery
    ConsumerFirst,  ///< the consumer's DISCOVER waits (parked) until the producer registers; one connected client
};

struct DiscoveryControl {
    alignas(64) std::atomic<std::int64_t> register_start_ns{0};
    alignas(64) std::atomic<std::uint32_t> producer_registered{0};
    std::atomic<std::uint32_t> consumer_waiting{0};  ///< consumer first: iterations whose DISCOVER was sent
    std::atomic<std::uint32_t> consumer_done{0};     ///< iterations finished by the consumer
    std::atomic<std::uint32_t> deregistered{0};      ///< consumer first: iterations the producer has ended
    std::atomic<std::uint32_t> finished{0};          ///< the consumer is done: the producer may stop
};

/// Per phase, of the measured iterations.
struct DiscoveryTimings {
    LatencySummary total;
    LatencySummary discover;  ///< until DISCOVER_ACK (fresh: + connect and HELLO; consumer first: from REGISTER)
    LatencySummary attach;
    LatencySummary register_consumer;
    LatencySummary first_read;
    std::uint64_t overwritten = 0;  ///< latest-only reads the producer overtook (not checked, not errors)
    std::uint64_t slow = 0;         ///< measured runs over SLOW_NS in total
};

struct CommitStats {
    std::uint64_t commits = 0;
    std::int64_t elapsed_ns = 0;
};

struct DiscoverySetup {
    DiscoveryMode mode;
    std::string endpoint;
    std::string channel;
    std::string attach_secret;
    std::size_t iterations;  ///< measured, after WARMUP_ITERATIONS
};

ChannelRegistration discovery_registration(const DiscoverySetup& setup) {
    ChannelRegistration registration;
    registration.name = setup.channel;
    registration.segment = shm::segment_name(setup.channel);
    registration.layout_version = 1;
    registration.schema_hash = to_hex(bench_schema());
    registration.policies = {{"delivery", "latest"}};
    registration.producer = process_tag("bench-producer");
    registration.slot_bytes = SLOT_BYTES;
    registration.slot_count = SLOT_COUNT;
    registration.attach_secret = setup.attach_secret;
    return registration;
}

/// Throws unless the broker returned exactly what the producer registered.
void check_discovered(const ChannelInfo& info, const DiscoverySetup& setup, std::uint32_t producer_pid) {
    const ChannelRegistration& got = info.registration;
    if (got.name != setup.channel || got.segment != shm::segment_name(setup.channel) ||
        got.schema_hash != to_hex(bench_schema()) || got.slot_bytes != SLOT_BYTES || got.slot_count != SLOT_COUNT ||
        got.attach_secret != setup.attach_secret || got.producer.pid != producer_pid) {
        throw std::runtime_error("DISCOVER of '" + setup.channel + "' returned wrong data (segment '" + got.segment +
                                 "', producer pid " + std::to_string(got.producer.pid) + ")");
    }
}

/// The DataBlock channel name behind a segment name the broker returned ("/dhub1.<channel>").
std::string channel_of_segment(const std::string& segment) {
    const std::string prefix = "/" + std::string(shm::SEGMENT_PREFIX);
    if (segment.rfind(prefix, 0) != 0) throw std::runtime_error("discovered segment '" + segment + "' is not dhub's");
    return segment.substr(prefix.size());
}

/// The producer: creates the channel, commits a slot every COMMIT_PERIOD on its own thread, and registers
/// the channel once (producer first) or once per iteration (consumer first, deregistering in between).
CommitStats run_discovery_producer(const DiscoverySetup& setup, DiscoveryControl* control) {
    shm::ChannelConfig config;
    config.name = setup.channel;
    config.slot_bytes = SLOT_BYTES;
    config.slot_count = SLOT_COUNT;
    config.sync = shm::SyncPolicy::LatestOnly;
    config.schema_hash = bench_schema();
    shm::Producer producer = expect_ok(shm::Producer::create(config), "create channel");

    std::atomic<bool> commit_failed{false};
    CommitStats stats;
    auto commit = [&] {
        shm::WriteSlot slot = producer.acquire_write(shm::WaitOptions{1s, 0ns});
        if (!slot || slot.payload().size() != SLOT_BYTES) return false;
        write_payload(slot.payload().data(), SLOT_BYTES, slot.sequence(), TouchMode::ends);
        return slot.commit(SLOT_BYTES) == shm::Status::Ok;
    };
    if (!commit()) throw std::runtime_error("producer: first commit failed");
    const std::int64_t commit_start = now_ns();
    {
        // Joined at the end of this block, also when the broker part throws.
        std::jthread committer([&](std::stop_token stop) {
            while (!stop.stop_requested()) {
                std::this_thread::sleep_for(COMMIT_PERIOD);
                if (!commit()) {
                    commit_failed = true;
                    return;
                }
                ++stats.commits;
            }
        });

        BrokerClient client(client_config(setup.endpoint, "bench-producer"));
        expect_ok(client.start(), "producer client start");
        if (!client.wait_connected(10s)) throw std::runtime_error("producer client did not connect within 10 s");
        const ChannelRegistration registration = discovery_registration(setup);
        if (setup.mode != DiscoveryMode::ConsumerFirst) {
            expect_ok(client.register_channel(registration), "register channel");
            control->producer_registered.store(1, std::memory_order_release);
            testing::wait_until([&] { return control->finished.load(std::memory_order_acquire) != 0; },
                                std::chrono::hours(1), 1ms);
        } else {
            const std::size_t total = setup.iterations + WARMUP_ITERATIONS;
            for (std::uint32_t i = 1; i <= total; ++i) {
                testing::wait_until([&] { return control->consumer_waiting.load(std::memory_order_acquire) >= i; },
                                    std::chrono::hours(1), 20us);
                std::this_thread::sleep_for(PARK_DELAY);
                control->register_start_ns.store(now_ns(), std::memory_order_release);
                expect_ok(client.register_channel(registration), "register channel");
                testing::wait_until([&] { return control->consumer_done.load(std::memory_order_acquire) >= i; },
                                    std::chrono::hours(1), 20us);
                expect_ok(client.deregister_channel(setup.channel), "deregister channel");
                control->deregistered.store(i, std::memory_order_release);
            }
        }
        client.stop();
    }
    stats.elapsed_ns = now_ns() - commit_start;
    if (commit_failed) throw std::runtime_error("producer: a commit failed");
    return stats;
}

DiscoveryTimings run_discovery_consumer(const DiscoverySetup& setup, DiscoveryControl* control, pid_t producer_pid) {
    const ProcessTag tag = process_tag("bench-consumer");
    const std::string schema_hex = to_hex(bench_schema());
    const std::size_t total = setup.iterations + WARMUP_ITERATIONS;
    std::vector<std::int64_t> totals, discovers, attaches, registers, reads;
    DiscoveryTimings timings;

    std::unique_ptr<BrokerClient> warm;
    if (setup.mode != DiscoveryMode::FreshClient) {
        warm = std::make_unique<BrokerClient>(client_config(setup.endpoint, "bench-consumer"));
        expect_ok(warm->start(), "consumer client start");
        if (!warm->wait_connected(10s)) throw std::runtime_error("consumer client did not connect within 10 s");
    }
    if (setup.mode != DiscoveryMode::ConsumerFirst) {
        if (!testing::wait_until([&] { return control->producer_registered.load(std::memory_order_acquire) != 0; }, 30s,
                                 1ms)) {
            throw std::runtime_error("the producer did not register within 30 s");
        }
    }
    for (std::uint32_t i = 1; i <= total; ++i) {
        std::int64_t start = now_ns();
        std::unique_ptr<BrokerClient> fresh;
        if (setup.mode == DiscoveryMode::FreshClient) {
            fresh = std::make_unique<BrokerClient>(client_config(setup.endpoint, "bench-consumer"));
            expect_ok(fresh->start(), "consumer client start");
        }
        if (setup.mode == DiscoveryMode::ConsumerFirst) {
            // The previous round's DEREGISTER must have been answered, or this DISCOVER could still find the
            // channel. The clock starts at the producer's REGISTER, which waits for this (plus PARK_DELAY).
            testing::wait_until([&] { return control->deregistered.load(std::memory_order_acquire) + 1 >= i; },
                                std::chrono::hours(1), 20us);
            control->consumer_waiting.store(i, std::memory_order_release);
        }
        BrokerClient& client = warm ? *warm : *fresh;
        const ChannelInfo info = expect_ok(client.discover(setup.channel, 10s), "discover '" + setup.channel + "'");
        const std::int64_t discovered = now_ns();
        if (setup.mode == DiscoveryMode::ConsumerFirst) start = control->register_start_ns.load();
        check_discovered(info, setup, static_cast<std::uint32_t>(producer_pid));

        shm::ConsumerOptions options;
        options.name = "bench-consumer";
        options.expect.slot_bytes = info.registration.slot_bytes;
        options.expect.slot_count = static_cast<std::uint32_t>(info.registration.slot_count);
        options.expect.sync = shm::SyncPolicy::LatestOnly;
        options.expect.schema_hash = schema_from_hex(info.registration.schema_hash);
        shm::Consumer consumer = expect_ok(
            shm::Consumer::attach(channel_of_segment(info.registration.segment), options), "attach the segment");
        const std::int64_t attached = now_ns();
        expect_ok(client.register_consumer({setup.channel, tag, schema_hex, {}}), "register consumer");
        const std::int64_t registered = now_ns();
        shm::ReadSlot slot = consumer.acquire_read(shm::WaitOptions{1s, 20us});
        const std::int64_t read = now_ns();
        if (!slot) throw std::runtime_error(std::string("first acquire_read: ") + shm::to_string(slot.status()));
        const bool intact = slot.payload().size() == SLOT_BYTES &&
                            read_payload(slot.payload().data(), SLOT_BYTES, slot.sequence(), TouchMode::ends);
        const shm::Status released = slot.release();
        if (released == shm::Status::Overwritten) {
            ++timings.overwritten;
        } else if (!intact) {
            throw std::runtime_error("first slot (sequence " + std::to_string(slot.sequence()) + ") has wrong data");
        }
        expect_ok(client.deregister_consumer(setup.channel, tag), "deregister consumer");
        if (i > WARMUP_ITERATIONS) {
            totals.push_back(read - start);
            if (read - start > SLOW_NS) ++timings.slow;
            discovers.push_back(discovered - start);
            attaches.push_back(attached - discovered);
            registers.push_back(registered - attached);
            reads.push_back(read - registered);
        }
        fresh.reset();  // stops the client (its session expires at the broker after dead_after)
        control->consumer_done.store(i, std::memory_order_release);
    }
    control->finished.store(1, std::memory_order_release);
    timings.total = summarize_latencies(std::move(totals));
    timings.discover = summarize_latencies(std::move(discovers));
    timings.attach = summarize_latencies(std::move(attaches));
    timings.register_consumer = summarize_latencies(std::move(registers));
    timings.first_read = summarize_latencies(std::move(reads));
    return timings;
}

#ifdef DHUB_BENCH_BROKER
void measure_discovery(DiscoveryMode mode, std::size_t iterations, const BenchOptions& options, CaseResult& row) {
    testing::TempDir directory("dhub-bench-broker");
    BrokerProcess broker(directory.path());
    SharedMapping mapping(sizeof(DiscoveryControl));
    DiscoveryControl* control = mapping.emplace<DiscoveryControl>();
    const DiscoverySetup setup{mode, broker.endpoint(), "bench-" + std::to_string(::getpid()) + "-discovery",
                               broker::generate_attach_secret(), iterations};

    // A producer killed because its partner failed cannot unlink its segment: do it here in any case.
    struct SegmentCleanup {
        std::string name;
        ~SegmentCleanup() { ::shm_unlink(name.c_str()); }
    } cleanup{shm::segment_name(setup.channel)};
    auto producer = ChildProcess::spawn("broker discovery producer", UNPINNED,
                                        [=] { return run_discovery_producer(setup, control); });
    const pid_t producer_pid = producer.pid();
    auto consumer = ChildProcess::spawn("broker discovery consumer", UNPINNED,
                                        [=] { return run_discovery_consumer(setup, control, producer_pid); });
    // A fresh client may wait up to a heartbeat interval to say HELLO again: allow a few seconds each.
    const auto timeout = options.child_timeout + std::chrono::milliseconds(3'000 * (iterations + WARMUP_ITERATIONS));
    wait_all({&consumer, &producer}, timeout);
    const auto timings = consumer.result<DiscoveryTimings>();
    const auto commits = producer.result<CommitStats>();
    if (!broker.running()) throw std::runtime_error("dhub-broker exited during the case");

    row.set_latency(timings.total);
    const double commit_period_us =
        commits.commits == 0 ? 0.0
                             : static_cast<double>(commits.elapsed_ns) * 1e-3 / static_cast<double>(commits.commits);
    std::string what;
    switch (mode) {
        case DiscoveryMode::FreshClient:
            what =
                "producer first; start DISCOVER -> first slot in hand, each time with a NEW BrokerClient (ZeroMQ "
                "context, tcp connect, HELLO included)";
            break;
        case DiscoveryMode::WarmClient:
            what = "producer first; start DISCOVER -> first slot in hand, one BrokerClient connected beforehand";
            break;
        case DiscoveryMode::ConsumerFirst:
            what =
                "consumer first (DISCOVER parked at the broker, one BrokerClient connected beforehand); producer's "
                "REGISTER_CHANNEL call -> consumer's first slot in hand";
            break;
    }
    row.note =
        what + "; max " + format_us(timings.total.max_ns) + ", " + std::to_string(timings.slow) + " of " +
        std::to_string(timings.total.count) + " runs over " + std::to_string(SLOW_NS / 1'000'000) +
        " ms; p50 split: " + (mode == DiscoveryMode::ConsumerFirst ? "REGISTER->DISCOVER_ACK " : "DISCOVER ") +
        format_us(timings.discover.p50_ns) + ", attach " + format_us(timings.attach.p50_ns) + ", REGISTER_CONSUMER " +
        format_us(timings.register_consumer.p50_ns) + ", first read " + format_us(timings.first_read.p50_ns) + "; " +
        std::to_string(timings.total.count) + " runs (+" + std::to_string(WARMUP_ITERATIONS) +
        " warm-up), dhub-broker process over tcp loopback, unpinned; latest_only ring of 8, producer commits "
        "every " +
        format_fixed(commit_period_us, 0) + " us" +
        (timings.overwritten != 0 ? "; " + std::to_string(timings.overwritten) + " first reads overwritten" : "");
}
#endif

std::vector<CaseResult> run_discovery(const BenchOptions& options) {
#ifndef DHUB_BENCH_BROKER
    (void)options;
    throw SkipGroup("dhub-broker was not built");
#else
    std::vector<CaseResult> results;
    struct Variant {
        const char* case_name;
        DiscoveryMode mode;
        std::size_t full;
        std::size_t quick;
    };
    static constexpr Variant VARIANTS[] = {
        // A fresh client takes ~0.5 s (see the note), so --quick runs only a few.
        {"discovery_fresh_client", DiscoveryMode::FreshClient, 200, 4},
        {"discovery_warm_client", DiscoveryMode::WarmClient, 200, 20},
        {"discovery_consumer_first", DiscoveryMode::ConsumerFirst, 200, 20},
    };
    for (const Variant& variant : VARIANTS) {
        CaseResult row{.case_name = variant.case_name, .transport = TRANSPORT, .payload_bytes = SLOT_BYTES};
        run_case(results, row, [&](CaseResult& r) {
            measure_discovery(variant.mode, options.quick ? variant.quick : variant.full, options, r);
        });
    }
    return results;
#endif
}

// ---------------------------------------------------------------- dhub.broker_load

constexpr std::uint32_t LOAD_PROCESSES = 10;
constexpr std::uint32_t CLIENTS_PER_PROCESS = 10;
constexpr std::uint32_t LOAD_CLIENTS = LOAD_PROCESSES * CLIENTS_PER_PROCESS;
constexpr std::uint32_t CHANNELS_PER_CLIENT = 10;
/// Consumer registrations a client holds at once; the oldest is deregistered when it takes a new one.
constexpr std::size_t HELD_CONSUMERS = 4;

struct LoadControl {
    alignas(64) std::atomic<std::uint32_t> registered{0};  ///< clients that registered all their channels
    alignas(64) std::atomic<std::uint32_t> phase{0};       ///< 0 registering, 1 running, 2 stop
    alignas(64) std::atomic<std::uint32_t> failed{0};      ///< some client failed: everyone stops
};

/// What a load process sends back, followed by its DISCOVER latencies (int64 ns each).
struct LoadChildHeader {
    std::uint64_t requests = 0;  ///< DISCOVER + REGISTER_CONSUMER + DEREGISTER_CONSUMER answered in phase 1
    std::uint64_t resyncs = 0;   ///< times a client lost its session and said HELLO again
    std::uint64_t samples = 0;
};

std::string load_channel(std::uint32_t client, std::uint32_t index) {
    return "load." + std::to_string(client) + "." + std::to_string(index);
}

/// The broker never opens segments, so the load channels name segments that do not exist.
std::string load_segment(std::uint32_t client, std::uint32_t index) {
    return "/dhub1.bench-fake-" + load_channel(client, index);
}

class LoadProcess {
public:
    LoadProcess(std::string endpoint, LoadControl* control) : endpoint_(std::move(endpoint)), control_(control) {}

    std::vector<std::byte> run(std::uint32_t first_client) {
        const std::string secret = broker::generate_attach_secret();
        std::vector<std::vector<std::int64_t>> samples(CLIENTS_PER_PROCESS);
        {
            std::vector<std::jthread> threads;
            for (std::uint32_t i = 0; i < CLIENTS_PER_PROCESS; ++i) {
                threads.emplace_back([this, &samples, &secret, i, first_client] {
                    try {
                        client_loop(first_client + i, secret, samples[i]);
                    } catch (const std::exception& e) {
                        fail(e.what());
                    }
                });
            }
        }
        if (!error_.empty()) throw std::runtime_error(error_);
        LoadChildHeader header;
        header.requests = requests_.load();
        header.resyncs = resyncs_.load();
        for (const auto& client_samples : samples)
            header.samples += client_samples.size();
        std::vector<std::byte> bytes(sizeof header + header.samples * sizeof(std::int64_t));
        std::memcpy(bytes.data(), &header, sizeof header);
        std::size_t offset = sizeof header;
        for (const auto& client_samples : samples) {
            std::memcpy(bytes.data() + offset, client_samples.data(), client_samples.size() * sizeof(std::int64_t));
            offset += client_samples.size() * sizeof(std::int64_t);
        }
        return bytes;
    }

private:
    void fail(const std::string& message) {
        {
            std::lock_guard lock(mutex_);
            if (error_.empty()) error_ = message;
        }
        control_->failed.store(1, std::memory_order_release);
    }
    bool stopping() const { return control_->failed.load(std::memory_order_acquire) != 0; }

    void client_loop(std::uint32_t me, const std::string& secret, std::vector<std::int64_t>& samples) {
        const std::string name = "load-" + std::to_string(me);
        BrokerClient client(client_config(endpoint_, name));
        expect_ok(client.start(), name + " start");
        if (!client.wait_connected(20s)) throw std::runtime_error(name + " did not connect within 20 s");
        const ProcessTag producer = process_tag(name);
        const ProcessTag consumer = process_tag(name + "-consumer");
        const std::string schema_hex = to_hex(bench_schema());
        for (std::uint32_t k = 0; k < CHANNELS_PER_CLIENT; ++k) {
            ChannelRegistration registration;
            registration.name = load_channel(me, k);
            registration.segment = load_segment(me, k);
            registration.layout_version = 1;
            registration.schema_hash = schema_hex;
            registration.policies = {{"delivery", "latest"}};
            registration.producer = producer;
            registration.slot_bytes = SLOT_BYTES;
            registration.slot_count = SLOT_COUNT;
            registration.attach_secret = secret;
            expect_ok(client.register_channel(registration), "register " + registration.name);
        }
        control_->registered.fetch_add(1, std::memory_order_acq_rel);
        while (control_->phase.load(std::memory_order_acquire) == 0 && !stopping())
            std::this_thread::sleep_for(1ms);

        std::mt19937 random(me * 7919u + 1u);
        std::uniform_int_distribution<std::uint32_t> pick_client(0, LOAD_CLIENTS - 2);
        std::uniform_int_distribution<std::uint32_t> pick_channel(0, CHANNELS_PER_CLIENT - 1);
        std::deque<std::string> held;
        std::uint64_t requests = 0;
        while (control_->phase.load(std::memory_order_acquire) == 1 && !stopping()) {
            std::uint32_t other = pick_client(random);
            if (other >= me) ++other;  // another client's channel
            const std::uint32_t index = pick_channel(random);
            const std::string channel = load_channel(other, index);
            if (std::find(held.begin(), held.end(), channel) != held.end()) continue;
            const std::int64_t start = now_ns();
            const ChannelInfo info = expect_ok(client.discover(channel), name + " discover " + channel);
            samples.push_back(now_ns() - start);
            if (info.registration.name != channel || info.registration.segment != load_segment(other, index) ||
                info.registration.producer.name != "load-" + std::to_string(other)) {
                throw std::runtime_error(name + ": DISCOVER of '" + channel + "' returned wrong data (segment '" +
                                         info.registration.segment + "')");
            }
            expect_ok(client.register_consumer({channel, consumer, schema_hex, {}}), name + " register consumer");
            held.push_back(channel);
            requests += 2;
            if (held.size() > HELD_CONSUMERS) {
                expect_ok(client.deregister_consumer(held.front(), consumer), name + " deregister consumer");
                held.pop_front();
                ++requests;
            }
        }
        requests_ += requests;
        resyncs_ += client.resync_count();
        client.stop();
    }

    std::string endpoint_;
    LoadControl* control_;
    std::mutex mutex_;
    std::string error_;
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> resyncs_{0};
};

#ifdef DHUB_BENCH_BROKER
struct RssSample {
    double at_s;  ///< since the load started
    std::int64_t kib;
};

void measure_load(const BenchOptions& options, CaseResult& row) {
    const auto duration = options.quick ? 3s : 60s;
    // Growth is judged after this much steady state (allocator pools, socket buffers filling up).
    const auto settle = options.quick ? 1s : 10s;
    testing::TempDir directory("dhub-bench-broker");
    BrokerProcess broker(directory.path());
    SharedMapping mapping(sizeof(LoadControl));
    LoadControl* control = mapping.emplace<LoadControl>();
    const std::int64_t idle_kib = broker.rss_kib();
    const std::string endpoint = broker.endpoint();

    std::vector<ChildProcess> children;
    for (std::uint32_t p = 0; p < LOAD_PROCESSES; ++p) {
        children.push_back(ChildProcess::spawn_bytes("broker load process " + std::to_string(p), UNPINNED, [=] {
            return LoadProcess(endpoint, control).run(p * CLIENTS_PER_PROCESS);
        }));
    }
    auto stop_children = [&] { control->phase.store(2, std::memory_order_release); };
    auto collect = [&] {
        const auto deadline = std::chrono::steady_clock::now() + options.child_timeout;
        for (ChildProcess& child : children) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            child.wait(std::max(left, std::chrono::milliseconds(1)));
        }
    };
    const std::int64_t registration_start = now_ns();
    const bool registered = testing::wait_until(
        [&] {
            return control->registered.load(std::memory_order_acquire) == LOAD_CLIENTS ||
                   control->failed.load(std::memory_order_acquire) != 0;
        },
        60s, 1ms);
    const std::int64_t registration_ns = now_ns() - registration_start;
    if (!registered || control->failed.load() != 0) {
        stop_children();
        collect();  // throws the failing child's error
        throw std::runtime_error("only " + std::to_string(control->registered.load()) + " of " +
                                 std::to_string(LOAD_CLIENTS) + " clients registered their channels within 60 s");
    }

    std::vector<RssSample> rss{{0.0, broker.rss_kib()}};
    const std::int64_t cpu_start = broker.cpu_ns();
    const std::int64_t start = now_ns();
    control->phase.store(1, std::memory_order_release);
    const auto steps = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(duration).count());
    for (int second = 1; second <= steps && control->failed.load(std::memory_order_acquire) == 0; ++second) {
        const std::int64_t due = start + second * std::int64_t{1'000'000'000};
        std::this_thread::sleep_for(std::chrono::nanoseconds(std::max<std::int64_t>(due - now_ns(), 0)));
        rss.push_back({static_cast<double>(now_ns() - start) * 1e-9, broker.rss_kib()});
        if (!broker.running()) break;
    }
    const std::int64_t elapsed_ns = now_ns() - start;
    const std::int64_t cpu_ns = broker.cpu_ns() - cpu_start;
    stop_children();
    collect();
    if (!broker.running()) throw std::runtime_error("dhub-broker exited during the load");
    if (control->failed.load() != 0) throw std::runtime_error("a load client failed (see the children)");

    std::uint64_t requests = 0;
    std::uint64_t resyncs = 0;
    std::vector<std::int64_t> samples;
    for (const ChildProcess& child : children) {
        const std::vector<std::byte>& bytes = child.result_bytes();
        LoadChildHeader header;
        if (bytes.size() < sizeof header) throw std::runtime_error("a load process sent a short result");
        std::memcpy(&header, bytes.data(), sizeof header);
        if (bytes.size() != sizeof header + header.samples * sizeof(std::int64_t)) {
            throw std::runtime_error("a load process sent a result of the wrong size");
        }
        requests += header.requests;
        resyncs += header.resyncs;
        const std::size_t first = samples.size();
        samples.resize(first + header.samples);
        std::memcpy(samples.data() + first, bytes.data() + sizeof header, header.samples * sizeof(std::int64_t));
    }
    if (samples.empty()) throw std::runtime_error("no DISCOVER completed during the load");
    const std::size_t discovers = samples.size();
    row.set_latency(summarize_latencies(std::move(samples)));
    row.msgs_per_s = static_cast<double>(requests) * 1e9 / static_cast<double>(elapsed_ns);

    // Memory: after registration, at the end, the largest, and growth once settled.
    const std::int64_t after_registration = rss.front().kib;
    const std::int64_t end = rss.back().kib;
    std::int64_t max = 0;
    std::int64_t settled = end;
    for (const RssSample& sample : rss) {
        max = std::max(max, sample.kib);
        if (sample.at_s <= static_cast<double>(settle.count()) + 0.5) settled = sample.kib;
    }
    const std::int64_t growth = end - settled;
    const double measured_s = rss.back().at_s;
    // A page or two of allocator noise is not growth; more than 256 KiB over the steady phase is.
    const bool grew = growth > 256;
    std::string series;
    for (const RssSample& sample : rss)
        series += (series.empty() ? "" : " ") + std::to_string(sample.kib);
    std::cerr << "    broker VmRSS (KiB), once per second from the end of registration: " << series << std::endl;

    const std::string verdict =
        grew ? "MEMORY GREW: +" + format_kib(growth) + " between " + std::to_string(settle.count()) + " s and " +
                   format_fixed(measured_s, 0) + " s"
             : "no memory growth after the first " + std::to_string(settle.count()) + " s (" +
                   (growth >= 0 ? "+" : "") + format_kib(growth) + " from " + std::to_string(settle.count()) +
                   " s to " + format_fixed(measured_s, 0) + " s)";
    row.note = verdict + "; broker RSS idle " + format_kib(idle_kib) + ", after registration " +
               format_kib(after_registration) + ", end " + format_kib(end) + ", max " + format_kib(max) +
               ", growth since registration " + (end >= after_registration ? "+" : "") +
               format_kib(end - after_registration) + "; " + std::to_string(LOAD_CLIENTS) + " clients in " +
               std::to_string(LOAD_PROCESSES) + " processes, " + std::to_string(LOAD_CLIENTS * CHANNELS_PER_CLIENT) +
               " channels registered in " + format_fixed(static_cast<double>(registration_ns) * 1e-6, 0) +
               " ms; then for " + format_fixed(static_cast<double>(elapsed_ns) * 1e-9, 1) +
               " s each client loops DISCOVER a random channel of another client + REGISTER_CONSUMER (holding " +
               std::to_string(HELD_CONSUMERS) +
               ", DEREGISTER_CONSUMER the oldest) while beating every 500 ms; msgs/s = " +
               "those requests answered (beats not counted), p50/p99 = DISCOVER round trip (" +
               std::to_string(discovers) + " samples); broker CPU " +
               format_fixed(100.0 * static_cast<double>(cpu_ns) / static_cast<double>(elapsed_ns), 0) + " %" +
               "; client resyncs " + std::to_string(resyncs);
    if (!broker.stop()) row.note += "; dhub-broker did not exit cleanly on SIGTERM";
}
#endif

std::vector<CaseResult> run_load(const BenchOptions& options) {
#ifndef DHUB_BENCH_BROKER
    (void)options;
    throw SkipGroup("dhub-broker was not built");
#else
    std::vector<CaseResult> results;
    CaseResult row{.case_name = "broker_load", .transport = TRANSPORT, .payload_bytes = 0};
    row.consumers = 0;
    run_case(results, row, [&](CaseResult& r) { measure_load(options, r); });
    return results;
#endif
}

}  // namespace

void register_broker_cases(Registry& registry) {
    registry.add({"dhub.broker_discovery", run_discovery,
                  "DISCOVER -> first slot in hand across processes via dhub-broker (fresh client, warm client, "
                  "consumer first)"});
    registry.add({"dhub.broker_load", run_load,
                  "100 clients, 1,000 channels discovering and beating against dhub-broker; broker RSS over time"});
}

}  // namespace dhub::bench
