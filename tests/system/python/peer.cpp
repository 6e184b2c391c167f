// SPDX-License-Identifier: Apache-2.0
// The C++ end of the Python round-trip tests: writes or checks frames whose every byte follows from their
// sequence number (examples/shm_demo/frame_pattern), on a single-reader channel, so that a Python stage in
// between must pass every byte through unchanged and in order.
//
//   dhub-python-peer produce CHANNEL COUNT BYTES   creates CHANNEL, writes COUNT frames, waits until read, closes
//   dhub-python-peer consume CHANNEL COUNT         reads COUNT frames (sequences 0..COUNT-1), checks every byte
// Exit code 0 when every frame was right; 1 with a message on stderr otherwise.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "dhub/shm/consumer.hpp"
#include "dhub/shm/producer.hpp"
#include "frame_pattern.hpp"

namespace {

using namespace std::chrono_literals;
using namespace dhub;

int fail(const std::string& message) {
    std::fprintf(stderr, "dhub-python-peer: %s\n", message.c_str());
    return 1;
}

int produce(const std::string& channel, std::uint64_t count, std::size_t bytes) {
    shm::ChannelConfig config;
    config.name = channel;
    config.slot_bytes = bytes;
    config.slot_count = 8;
    config.sync = shm::SyncPolicy::SingleReader;  // lossless from sequence 0, however late the reader comes
    auto producer = shm::Producer::create(config);
    if (!producer) return fail("creating '" + channel + "': " + producer.error().message);
    std::printf("ready\n");
    std::fflush(stdout);
    for (std::uint64_t seq = 0; seq < count; ++seq) {
        shm::WriteSlot slot = producer->acquire_write({10s, 20us});
        if (!slot) return fail("no free slot for frame " + std::to_string(seq) + ": " + shm::to_string(slot.status()));
        demo::fill_frame(slot.payload().first(bytes), slot.sequence());
        if (slot.commit(bytes) != shm::Status::Ok) return fail("commit failed");
    }
    // Closing at once would be fine for the reader (it drains, then sees Closed); waiting lets the test
    // also read the producer as alive until the end.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (producer->view().consumer(0).cursor.load() < count && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(1ms);
    }
    return 0;
}

int consume(const std::string& channel, std::uint64_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    auto consumer = shm::Consumer::attach(channel, {.name = "peer"});
    // Retried on any error: the channel may not exist yet, or exist half made (its creator is sizing it).
    while (!consumer && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
        consumer = shm::Consumer::attach(channel, {.name = "peer"});
    }
    if (!consumer) return fail("attaching to '" + channel + "': " + consumer.error().message);
    for (std::uint64_t expected = 0; expected < count; ++expected) {
        shm::ReadSlot slot = consumer->acquire_read({10s, 20us});
        if (!slot) return fail("frame " + std::to_string(expected) + ": " + shm::to_string(slot.status()));
        if (slot.sequence() != expected) {
            return fail("frame " + std::to_string(expected) + " came as sequence " + std::to_string(slot.sequence()));
        }
        if (!demo::frame_matches(slot.payload(), slot.sequence())) {
            return fail("frame " + std::to_string(expected) + " (" + std::to_string(slot.payload().size()) +
                        " bytes) differs from what was sent");
        }
    }
    std::printf("ok %llu frames\n", static_cast<unsigned long long>(count));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "produce" && argc == 5)
        return produce(argv[2], std::strtoull(argv[3], nullptr, 10), std::strtoull(argv[4], nullptr, 10));
    if (mode == "consume" && argc == 4) return consume(argv[2], std::strtoull(argv[3], nullptr, 10));
    std::fprintf(stderr, "usage: dhub-python-peer produce CHANNEL COUNT BYTES | consume CHANNEL COUNT\n");
    return 2;
}
