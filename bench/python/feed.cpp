// SPDX-License-Identifier: Apache-2.0
// The C++ side of bench/python/python_bench.py: a producer that commits slots as fast as the reader frees them,
// and the C++ reader Python is measured against.
//
//   dhub-bench-python-feed produce CHANNEL SLOTS BYTES RING   fills the ring once (float64 0,1,2,... per slot),
//                                                             then commits SLOTS slots in bursts of up to 64
//                                                             without touching their bytes again
//   dhub-bench-python-feed read CHANNEL SLOTS                 reads SLOTS slots one at a time; prints slots/s
//   dhub-bench-python-feed sum CHANNEL SLOTS                  reads and sums each slot as float64; prints GB/s
//
// The producer's channel has no typed schema unless BYTES is a multiple of 8 and RING is given; then it carries
// "bench.f8@1" (one float64 array filling the slot), so Python gets a float64 view. Results are printed as one
// JSON object per line.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "dhub/schema/schema.hpp"
#include "dhub/shm/consumer.hpp"
#include "dhub/shm/producer.hpp"

namespace {

using namespace std::chrono_literals;
using namespace dhub;
using Clock = std::chrono::steady_clock;

int fail(const std::string& message) {
    std::fprintf(stderr, "dhub-bench-python-feed: %s\n", message.c_str());
    return 1;
}

int produce(const std::string& channel, std::uint64_t slots, std::size_t bytes, std::uint32_t ring) {
    shm::ChannelConfig config;
    config.name = channel;
    config.slot_bytes = bytes;
    config.slot_count = ring;
    config.sync = shm::SyncPolicy::SingleReader;
    if (bytes % 8 == 0) {
        const std::string id = "bench.f8@1";
        config.schema_descriptor =
            R"({"name":"bench.f8","version":1,"encoding":"ndarray","fields":[{"name":"v","dtype":"<f8","shape":[)" +
            std::to_string(bytes / 8) + "]}]}";
        config.schema_hash = schema::id_hash(id);
    }
    auto producer = shm::Producer::create(config);
    if (!producer) return fail(producer.error().message);
    for (std::uint32_t i = 0; i < ring; ++i) {  // the ring's content, written once
        auto* values = reinterpret_cast<double*>(producer->view().slot_payload(i));
        for (std::size_t k = 0; k < bytes / 8; ++k)
            values[k] = static_cast<double>(k);
    }
    std::printf("ready\n");
    std::fflush(stdout);
    for (std::uint64_t done = 0; done < slots;) {
        shm::WriteBurst burst = producer->acquire_burst(std::min<std::uint64_t>(64, slots - done), {30s, 20us});
        if (!burst) return fail(std::string("no free slot: ") + shm::to_string(burst.status()));
        for (std::size_t i = 0; i < burst.size(); ++i)
            (void)burst.stamp(i, bytes);
        done += burst.size();
        (void)burst.commit(burst.size());
    }
    const auto deadline = Clock::now() + 30s;
    while (producer->view().consumer(0).cursor.load() < slots && Clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    return 0;
}

Result<shm::Consumer> attach(const std::string& channel) {
    const auto deadline = Clock::now() + 10s;
    auto consumer = shm::Consumer::attach(channel, {.name = "feed"});
    while (!consumer && Clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
        consumer = shm::Consumer::attach(channel, {.name = "feed"});
    }
    return consumer;
}

int read(const std::string& channel, std::uint64_t slots, bool sum) {
    auto consumer = attach(channel);
    if (!consumer) return fail(consumer.error().message);
    double total = 0;
    std::uint64_t bytes = 0;
    Clock::time_point start;
    for (std::uint64_t n = 0; n < slots; ++n) {
        shm::ReadSlot slot = consumer->acquire_read({30s, 20us});
        if (!slot) return fail(std::string("read: ") + shm::to_string(slot.status()));
        if (n == 0) start = Clock::now();  // from the first slot: attaching is not the reader's per-slot cost
        if (sum) {
            const auto payload = slot.payload();
            const auto* values = reinterpret_cast<const double*>(payload.data());
            // Four running sums, as a C++ programmer who cares would write it (one sum is bound by the latency of
            // each addition; numpy's pairwise sum is not).
            double partial[4] = {0, 0, 0, 0};
            const std::size_t count = payload.size() / 8;
            std::size_t k = 0;
            for (; k + 4 <= count; k += 4) {
                partial[0] += values[k];
                partial[1] += values[k + 1];
                partial[2] += values[k + 2];
                partial[3] += values[k + 3];
            }
            for (; k < count; ++k)
                partial[0] += values[k];
            total += (partial[0] + partial[1]) + (partial[2] + partial[3]);
            bytes += payload.size();
        }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (sum) {
        std::printf("{\"reader\":\"c++\",\"slots\":%llu,\"gb_per_s\":%.3f,\"checksum\":%.1f}\n",
                    static_cast<unsigned long long>(slots), static_cast<double>(bytes) / seconds / 1e9, total);
    } else {
        std::printf("{\"reader\":\"c++\",\"slots\":%llu,\"slots_per_s\":%.0f}\n",
                    static_cast<unsigned long long>(slots), static_cast<double>(slots - 1) / seconds);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "produce" && argc == 6) {
        return produce(argv[2], std::strtoull(argv[3], nullptr, 10), std::strtoull(argv[4], nullptr, 10),
                       static_cast<std::uint32_t>(std::strtoul(argv[5], nullptr, 10)));
    }
    if ((mode == "read" || mode == "sum") && argc == 4)
        return read(argv[2], std::strtoull(argv[3], nullptr, 10), mode == "sum");
    std::fprintf(stderr, "usage: dhub-bench-python-feed produce CHANNEL SLOTS BYTES RING | read|sum CHANNEL SLOTS\n");
    return 2;
}
