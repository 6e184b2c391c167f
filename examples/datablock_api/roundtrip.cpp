// SPDX-License-Identifier: Apache-2.0
// The README's DataBlock example as a program: this process creates a channel and produces 10 000 slots; a
// child process (fork) attaches and consumes them, checking that every slot arrives whole and in order.
// Exit code 0 when it did. Real shared memory (/dev/shm/dhub1.<name>), two real processes.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <iostream>
#include <string>

#include "dhub/shm/consumer.hpp"
#include "dhub/shm/producer.hpp"

using namespace dhub::shm;

namespace {

constexpr std::uint64_t SLOTS = 10'000;
constexpr std::size_t SLOT_BYTES = 4096;

/// Every 8-byte word of slot `sequence` holds `sequence`: a slot mixing two writes is seen at once.
void fill(std::span<std::byte> payload, std::uint64_t sequence) {
    for (std::size_t at = 0; at + sizeof sequence <= payload.size(); at += sizeof sequence)
        std::memcpy(payload.data() + at, &sequence, sizeof sequence);
}

bool whole(std::span<const std::byte> payload, std::uint64_t sequence) {
    for (std::size_t at = 0; at + sizeof sequence <= payload.size(); at += sizeof sequence) {
        std::uint64_t word = 0;
        std::memcpy(&word, payload.data() + at, sizeof word);
        if (word != sequence) return false;
    }
    return true;
}

/// The child: attach, read until the producer closes the channel, check each slot.
int consume(const std::string& channel, int ready_pipe) {
    auto consumer = Consumer::attach(channel, {.name = "roundtrip"});
    if (!consumer) {
        std::cerr << "consumer: " << consumer.error().message << "\n";
        return 1;
    }
    const char ready = 'r';
    if (::write(ready_pipe, &ready, 1) != 1) return 1;  // attached: every slot from now on is ours to read
    std::uint64_t expected = 0;
    for (;;) {
        ReadSlot slot = consumer->acquire_read(WaitOptions{.timeout = std::chrono::seconds(10)});
        if (slot.status() == Status::Closed) break;
        if (!slot) {
            std::cerr << "consumer: " << to_string(slot.status()) << " at slot " << expected << "\n";
            return 1;
        }
        if (slot.sequence() != expected || !whole(slot.payload(), expected)) {
            std::cerr << "consumer: slot " << slot.sequence() << " is not slot " << expected << ", whole\n";
            return 1;
        }
        ++expected;
    }
    if (expected != SLOTS) {
        std::cerr << "consumer: " << expected << " slots, expected " << SLOTS << "\n";
        return 1;
    }
    return 0;
}

}  // namespace

int main() {
    const std::string channel = "roundtrip-" + std::to_string(::getpid());
    ChannelConfig config{.name = channel, .slot_bytes = SLOT_BYTES, .slot_count = 8, .sync = SyncPolicy::EveryReader};
    auto producer = Producer::create(config);
    if (!producer) {
        std::cerr << "producer: " << producer.error().message << "\n";
        return 1;
    }
    int ready[2];
    if (::pipe(ready) != 0) return 1;
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(ready[0]);
        ::_exit(consume(channel, ready[1]));
    }
    ::close(ready[1]);
    char byte = 0;
    if (child < 0 || ::read(ready[0], &byte, 1) != 1) {
        std::cerr << "the consumer process did not attach\n";
        return 1;
    }
    for (std::uint64_t sequence = 0; sequence < SLOTS; ++sequence) {
        WriteSlot slot = producer->acquire_write(WaitOptions{.timeout = std::chrono::seconds(10)});
        if (!slot) {
            std::cerr << "producer: " << to_string(slot.status()) << " at slot " << sequence << "\n";
            return 1;
        }
        fill(slot.payload(), sequence);
        if (const Status committed = slot.commit(SLOT_BYTES); committed != Status::Ok) {
            std::cerr << "producer: commit: " << to_string(committed) << "\n";
            return 1;
        }
    }
    producer->close();  // the consumer reads what is left, then sees Closed
    int status = 0;
    ::waitpid(child, &status, 0);
    const bool passed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::cout << SLOTS << " slots of " << SLOT_BYTES << " bytes from this process to another through channel '"
              << channel << "': " << (passed ? "every one whole and in order" : "FAILED") << "\n";
    return passed ? 0 : 1;
}
