// SPDX-License-Identifier: Apache-2.0
// Physical baselines (transport "raw_shm"): what the machine can do with no middleware at all.
// Each is a lower bound for dhub: no discovery, no multi-consumer support, no lifetime handling.
// All cross-process cases run in two forked children pinned to the producer and consumer cores.
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "bench_cases.hpp"
#include "harness/child_process.hpp"
#include "harness/latency_stats.hpp"
#include "harness/payload_touch.hpp"
#include "harness/process_sync.hpp"
#include "harness/shared_mapping.hpp"
#include "harness/timing.hpp"

namespace dhub::bench {
namespace {

constexpr const char* TRANSPORT = "raw_shm";
constexpr std::size_t CACHE_LINE_BYTES = 64;
constexpr std::size_t MIB = std::size_t{1} << 20;

std::string cores_note(int a, int b) {
    return "cores " + std::to_string(a) + "/" + std::to_string(b);
}

// ---------------------------------------------------------------- pingpong_cacheline (spin)

struct alignas(CACHE_LINE_BYTES) PaddedCounter {
    std::atomic<std::uint64_t> value{0};
};

// ping and pong on separate lines: each line has exactly one writer, so a round trip is two
// cache-line transfers and nothing else.
struct CachelinePingPong {
    ProcessSync sync;
    PaddedCounter ping;
    PaddedCounter pong;
};

LatencySummary cacheline_round_trips(const BenchOptions& options, std::uint64_t total) {
    SharedMapping mapping(sizeof(CachelinePingPong));
    CachelinePingPong* shared = mapping.emplace<CachelinePingPong>();
    const std::uint64_t warmup = BenchOptions::warmup_of(total);

    auto responder = ChildProcess::spawn("pingpong_cacheline responder", options.consumer_core, [=] {
        shared->sync.arrive();
        for (std::uint64_t i = 1; i <= total; ++i) {
            while (shared->ping.value.load(std::memory_order_acquire) != i)
                cpu_relax();
            shared->pong.value.store(i, std::memory_order_release);
        }
    });
    auto pinger = ChildProcess::spawn("pingpong_cacheline pinger", options.producer_core, [=] {
        shared->sync.arrive();
        shared->sync.wait_for_arrivals(2);
        std::vector<std::int64_t> samples;
        samples.reserve(total - warmup);
        for (std::uint64_t i = 1; i <= total; ++i) {
            const std::int64_t start = now_ns();
            shared->ping.value.store(i, std::memory_order_release);
            while (shared->pong.value.load(std::memory_order_acquire) != i)
                cpu_relax();
            const std::int64_t end = now_ns();
            if (i > warmup) samples.push_back(end - start);
        }
        return summarize_latencies(std::move(samples));
    });
    wait_all({&pinger, &responder}, options.child_timeout);
    return pinger.result<LatencySummary>();
}

void measure_pingpong_cacheline(const BenchOptions& options, CaseResult& row) {
    const std::uint64_t total = options.spin_round_trips;
    const std::uint64_t warmup = BenchOptions::warmup_of(total);
    row.set_latency(cacheline_round_trips(options, total));
    row.note = "one line each way, " + cores_note(options.producer_core, options.consumer_core) + ", " +
               std::to_string(total - warmup) + " round trips";
}

// ---------------------------------------------------------------- pingpong_futex (sleep)

// Plain FUTEX_WAIT/FUTEX_WAKE, not the _PRIVATE variants: the word lives in a MAP_SHARED mapping
// used by two processes, and private futexes are keyed by the address space.
long futex_wait(std::uint32_t* word, std::uint32_t expected) noexcept {
    return ::syscall(SYS_futex, word, FUTEX_WAIT, expected, nullptr, nullptr, 0);
}

long futex_wake(std::uint32_t* word) noexcept {
    return ::syscall(SYS_futex, word, FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

// Sleeps until *word == target. No spinning first: this row measures the pure sleep/wake path.
void futex_wait_for(std::uint32_t* word, std::uint32_t target) noexcept {
    std::atomic_ref<std::uint32_t> ref(*word);
    for (;;) {
        const std::uint32_t seen = ref.load(std::memory_order_acquire);
        if (seen == target) return;
        futex_wait(word, seen);  // returns at once (EAGAIN) if the word changed meanwhile
    }
}

void futex_publish(std::uint32_t* word, std::uint32_t value) noexcept {
    std::atomic_ref<std::uint32_t>(*word).store(value, std::memory_order_release);
    futex_wake(word);
}

struct FutexPingPong {
    ProcessSync sync;
    alignas(CACHE_LINE_BYTES) std::uint32_t ping = 0;
    alignas(CACHE_LINE_BYTES) std::uint32_t pong = 0;
};

void measure_pingpong_futex(const BenchOptions& options, int pinger_core, int responder_core, CaseResult& row) {
    SharedMapping mapping(sizeof(FutexPingPong));
    FutexPingPong* shared = mapping.emplace<FutexPingPong>();
    const auto total = static_cast<std::uint32_t>(options.sleep_round_trips);
    const std::uint32_t warmup = static_cast<std::uint32_t>(BenchOptions::warmup_of(total));

    auto responder = ChildProcess::spawn("pingpong_futex responder", responder_core, [=] {
        shared->sync.arrive();
        for (std::uint32_t i = 1; i <= total; ++i) {
            futex_wait_for(&shared->ping, i);
            futex_publish(&shared->pong, i);
        }
    });
    auto pinger = ChildProcess::spawn("pingpong_futex pinger", pinger_core, [=] {
        shared->sync.arrive();
        shared->sync.wait_for_arrivals(2);
        std::vector<std::int64_t> samples;
        samples.reserve(total - warmup);
        for (std::uint32_t i = 1; i <= total; ++i) {
            const std::int64_t start = now_ns();
            futex_publish(&shared->ping, i);
            futex_wait_for(&shared->pong, i);
            const std::int64_t end = now_ns();
            if (i > warmup) samples.push_back(end - start);
        }
        return summarize_latencies(std::move(samples));
    });
    wait_all({&pinger, &responder}, options.child_timeout);
    row.set_latency(pinger.result<LatencySummary>());
    row.note = "FUTEX_WAIT/WAKE on a word alone on its line, " + cores_note(pinger_core, responder_core) + ", " +
               std::to_string(total - warmup) + " round trips";
}

// ---------------------------------------------------------------- memcpy_bandwidth

// Private anonymous memory, written once so that every page is really backed: reading untouched
// anonymous memory would hit the shared zero page and look impossibly fast.
class PrefaultedBuffer {
public:
    explicit PrefaultedBuffer(std::size_t size) : size_(size) {
        void* address = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (address == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap memcpy buffer");
        data_ = static_cast<std::byte*>(address);
        std::memset(data_, 0x5A, size_);
    }
    PrefaultedBuffer(const PrefaultedBuffer&) = delete;
    PrefaultedBuffer& operator=(const PrefaultedBuffer&) = delete;
    ~PrefaultedBuffer() { ::munmap(data_, size_); }
    std::byte* data() const noexcept { return data_; }

private:
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

struct CopyTiming {
    std::uint64_t blocks = 0;
    std::int64_t elapsed_ns = 0;
};

// Copies `blocks` 1 MiB blocks, cycling through `region_bytes` of source and of destination.
CopyTiming time_memcpy(std::size_t region_bytes, std::uint64_t blocks) {
    PrefaultedBuffer source(region_bytes);
    PrefaultedBuffer destination(region_bytes);
    const std::size_t blocks_in_region = region_bytes / MIB;
    // One untimed pass: page-table and cache state as in the steady state.
    for (std::size_t i = 0; i < blocks_in_region; ++i)
        std::memcpy(destination.data() + i * MIB, source.data() + i * MIB, MIB);
    const std::int64_t start = now_ns();
    for (std::uint64_t i = 0; i < blocks; ++i) {
        const std::size_t offset = (i % blocks_in_region) * MIB;
        std::memcpy(destination.data() + offset, source.data() + offset, MIB);
        clobber_memory();  // the copies have no reader; keep the optimiser from dropping them
    }
    const std::int64_t end = now_ns();
    do_not_optimize(destination.data()[0]);
    return CopyTiming{blocks, end - start};
}

void measure_memcpy(const BenchOptions& options, std::size_t region_bytes, std::uint64_t full_blocks, CaseResult& row) {
    const std::uint64_t blocks = options.scaled(full_blocks, 64);
    auto child =
        ChildProcess::spawn("memcpy", options.producer_core, [=] { return time_memcpy(region_bytes, blocks); });
    child.wait(options.child_timeout);
    const auto timing = child.result<CopyTiming>();
    row.set_throughput(timing.blocks, timing.elapsed_ns);
    row.note = (region_bytes == MIB
                    ? std::string("cache-hot: same 1 MiB src/dst")
                    : "cold: cycling 1 MiB blocks through " + std::to_string(region_bytes / MIB) + " MiB src and dst") +
               ", one thread on core " + std::to_string(options.producer_core) + "; GB/s = bytes copied / s";
}

// ---------------------------------------------------------------- oneway_spsc

// Single-producer single-consumer ring of fixed-stride slots. head and tail each sit alone on a
// cache line, and each side caches the other's index, so the lines only move when the cached
// value says the ring is full (producer) or empty (consumer).
struct RingControl {
    ProcessSync sync;
    alignas(CACHE_LINE_BYTES) std::atomic<std::uint64_t> head{0};  // messages published
    alignas(CACHE_LINE_BYTES) std::atomic<std::uint64_t> tail{0};  // messages consumed
};
constexpr std::size_t RING_DATA_OFFSET = 4096;
static_assert(sizeof(RingControl) <= RING_DATA_OFFSET);

struct OnewayConfig {
    std::size_t payload_bytes;
    std::size_t slots;  // power of two
    std::size_t full_messages;
};

struct ConsumerTiming {
    std::uint64_t messages = 0;  // timed messages (after warm-up)
    std::int64_t elapsed_ns = 0;
    std::uint64_t bad_messages = 0;
};

void measure_oneway_spsc(const BenchOptions& options, const OnewayConfig& config, CaseResult& row) {
    const std::size_t stride = (config.payload_bytes + CACHE_LINE_BYTES - 1) / CACHE_LINE_BYTES * CACHE_LINE_BYTES;
    SharedMapping mapping(RING_DATA_OFFSET + config.slots * stride);
    RingControl* control = mapping.emplace<RingControl>();
    std::byte* slots = mapping.data() + RING_DATA_OFFSET;
    const std::uint64_t total = options.scaled(config.full_messages);
    const std::uint64_t warmup = total / 10;
    const std::uint64_t slot_count = config.slots;
    const std::uint64_t mask = slot_count - 1;
    const std::size_t payload = config.payload_bytes;
    const TouchMode mode = touch_mode_for(payload);

    auto consumer = ChildProcess::spawn("oneway_spsc consumer", options.consumer_core, [=] {
        ConsumerTiming timing;
        std::uint64_t cached_head = 0;
        std::int64_t start = 0;
        control->sync.arrive();
        for (std::uint64_t seq = 0; seq < total; ++seq) {
            while (cached_head <= seq) {
                cached_head = control->head.load(std::memory_order_acquire);
                if (cached_head <= seq) cpu_relax();
            }
            if (!read_payload(slots + (seq & mask) * stride, payload, seq, mode)) ++timing.bad_messages;
            control->tail.store(seq + 1, std::memory_order_release);
            if (seq + 1 == warmup) start = now_ns();
        }
        timing.elapsed_ns = now_ns() - start;
        timing.messages = total - warmup;
        return timing;
    });
    auto producer = ChildProcess::spawn("oneway_spsc producer", options.producer_core, [=] {
        std::uint64_t cached_tail = 0;
        control->sync.arrive();
        control->sync.wait_for_arrivals(2);
        for (std::uint64_t seq = 0; seq < total; ++seq) {
            while (seq - cached_tail >= slot_count) {
                cached_tail = control->tail.load(std::memory_order_acquire);
                if (seq - cached_tail >= slot_count) cpu_relax();
            }
            write_payload(slots + (seq & mask) * stride, payload, seq, mode);
            control->head.store(seq + 1, std::memory_order_release);
        }
    });
    wait_all({&producer, &consumer}, options.child_timeout);
    const auto timing = consumer.result<ConsumerTiming>();
    if (timing.bad_messages != 0) {
        throw std::runtime_error(std::to_string(timing.bad_messages) + " messages failed the payload check");
    }
    row.set_throughput(timing.messages, timing.elapsed_ns);
    row.note = "ring " + std::to_string(config.slots) + " slots, " + std::string(touch_mode_name(mode)) + ", " +
               std::to_string(timing.messages) + " msgs";
}

std::vector<CaseResult> run_pingpong_cacheline(const BenchOptions& options) {
    std::vector<CaseResult> results;
    CaseResult row{.case_name = "pingpong_cacheline", .transport = TRANSPORT, .payload_bytes = CACHE_LINE_BYTES};
    row.wait = "spin";
    run_case(results, row, [&](CaseResult& r) { measure_pingpong_cacheline(options, r); });
    return results;
}

std::vector<CaseResult> run_pingpong_futex(const BenchOptions& options) {
    std::vector<CaseResult> results;
    CaseResult row{.case_name = "pingpong_futex_cross_core", .transport = TRANSPORT, .payload_bytes = CACHE_LINE_BYTES};
    row.wait = "sleep";
    run_case(results, row,
             [&](CaseResult& r) { measure_pingpong_futex(options, options.producer_core, options.consumer_core, r); });
    row.case_name = "pingpong_futex_same_core";
    run_case(results, row,
             [&](CaseResult& r) { measure_pingpong_futex(options, options.producer_core, options.producer_core, r); });
    return results;
}

std::vector<CaseResult> run_memcpy(const BenchOptions& options) {
    std::vector<CaseResult> results;
    CaseResult row{.case_name = "memcpy_bandwidth_hot", .transport = TRANSPORT, .payload_bytes = MIB};
    row.consumers = 0;
    run_case(results, row, [&](CaseResult& r) { measure_memcpy(options, MIB, 20'000, r); });
    row.case_name = "memcpy_bandwidth_cold";
    run_case(results, row, [&](CaseResult& r) { measure_memcpy(options, 256 * MIB, 4'096, r); });
    return results;
}

std::vector<CaseResult> run_oneway_spsc(const BenchOptions& options) {
    // Counts give each row roughly half a second on the development machine.
    static constexpr OnewayConfig CONFIGS[] = {
        {64, 256, 100'000'000},
        {4096, 256, 40'000'000},
        {64 * 1024, 32, 30'000'000},
        {MIB, 8, 16'000},
    };
    std::vector<CaseResult> results;
    for (const OnewayConfig& config : CONFIGS) {
        CaseResult row{.case_name = "oneway_spsc", .transport = TRANSPORT, .payload_bytes = config.payload_bytes};
        row.wait = "spin";
        run_case(results, row, [&](CaseResult& r) { measure_oneway_spsc(options, config, r); });
    }
    return results;
}

}  // namespace

double probe_core_to_core_ns(const BenchOptions& options) {
    return cacheline_round_trips(options, 5'000).p50_ns;
}

void register_raw_cases(Registry& registry) {
    registry.add({"raw.pingpong_cacheline", run_pingpong_cacheline,
                  "round trip over one shared cache line each way, busy spin"});
    registry.add({"raw.pingpong_futex", run_pingpong_futex,
                  "round trip over a shared futex (pure sleep/wake), across cores and on one core"});
    registry.add({"raw.memcpy_bandwidth", run_memcpy, "single-thread memcpy of 1 MiB blocks, cache-hot and cold"});
    registry.add(
        {"raw.oneway_spsc", run_oneway_spsc, "lossless one-way transfer through a bare SPSC ring, 64 B .. 1 MiB"});
}

}  // namespace dhub::bench
