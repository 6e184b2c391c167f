// SPDX-License-Identifier: Apache-2.0
// dhub-shm-test-peer: the other process of the multi-process DataBlock tests (spawned by fork+exec, so it
// shares nothing with the test but the segment). Roles:
//
//   produce    --channel C [channel options] --count N [--sizes full|random] [--wait-consumers M]
//              [--expect-takeover yes|no] [--first-seq S] [--keep] [--write-timeout-ms T]
//              [--stop-on-timeout] [--min-consumer-reads R] [--pace-ns P] [--ready-fd FD]
//       creates (or takes over) the channel, waits for M active consumers, writes N slots of the
//       deterministic pattern (shm_peer/pattern.hpp), then more until the consumers have read R slots
//       (so latest-only readers really race the writer), closes. --keep leaves the segment name in place;
//       --pace-ns starts writes at most every P ns (a fast but not saturating writer).
//   consume    --channel C --count N [--first-seq S] [--sizes full|random] [--latest] [--sleep-ms T]
//              [--ready-fd FD]
//       reads until Closed, checking every byte of every slot. Lossless channels: exactly N slots,
//       sequences S, S+1, ... Latest-only: each accepted slot (release() == Ok) is intact, sequences
//       increase, and the last one handed out is the last one written. --latest attaches as a latest-only
//       reader whatever the channel's policy (ConsumerOptions::delivery); --sleep-ms holds each slot T ms
//       before checking it.
//   hold-write --channel C [channel options] [--commits K] [--wait-consumers M] --ready-fd FD
//       commits K slots, acquires the next one, writes half of it, signals, then blocks (to be killed).
//   hold-read  --channel C [--skip R] [--hold] [--latest] --ready-fd FD
//       reads and releases R slots, acquires the next one, signals, then blocks (to be killed). --hold
//       attaches as a holding latest-only reader (ConsumerOptions::hold), --latest as a latest-only reader.
//   hold-lease --channel C [channel options] --ready-fd FD
//       creates the channel, signals, then blocks (to be killed).
//
// Every role ends on its own at --deadline-ms (SIGALRM), so no peer outlives a crashed test for long.
// The exit code says what went wrong (shm_peer/peer_exit.hpp); details go to stderr.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "dhub/shm/consumer.hpp"
#include "dhub/shm/producer.hpp"
#include "shm_peer/pattern.hpp"
#include "shm_peer/peer_arguments.hpp"
#include "shm_peer/peer_exit.hpp"
#include "support/child_process.hpp"

namespace dhub::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds DEFAULT_DEADLINE{60'000};
constexpr milliseconds DEFAULT_WRITE_TIMEOUT{10'000};
constexpr milliseconds READ_POLL_TIMEOUT{100};
constexpr milliseconds POLL_INTERVAL{1};
constexpr std::chrono::seconds ONE_SECOND{1};

int fail(PeerExit exit, const std::string& detail) {
    std::fprintf(stderr, "dhub-shm-test-peer[%d]: %s: %s\n", static_cast<int>(::getpid()), describe(exit),
                 detail.c_str());
    return exit_code(exit);
}

void notify(int descriptor) {
    if (descriptor < 0) return;
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(descriptor, &byte, 1);
    ::close(descriptor);
}

[[noreturn]] void block_until_killed() {
    for (;;) {
        ::pause();
    }
}

/// Polls condition (wait_until of tests/support) until it holds or the deadline passes.
bool poll_until(const std::function<bool()>& condition, Clock::time_point deadline) {
    return wait_until(condition, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()), POLL_INTERVAL);
}

std::uint32_t active_consumers(const shm::ChannelView& view) {
    std::uint32_t active = 0;
    for (std::uint32_t seat = 0; seat < view.consumer_capacity(); ++seat) {
        if (view.consumer(seat).state.load() == shm::layout::CONSUMER_ACTIVE) ++active;
    }
    return active;
}

/// Slots the consumers now attached have read (each seat counts its accepted reads).
std::uint64_t consumer_reads(const shm::ChannelView& view) {
    std::uint64_t reads = 0;
    for (std::uint32_t seat = 0; seat < view.consumer_capacity(); ++seat) {
        if (view.consumer(seat).owner.load() != 0) reads += view.consumer(seat).reads.load();
    }
    return reads;
}

/// Consumer::attach, retried while the channel is not (completely) created yet.
Result<shm::Consumer> attach_when_created(const PeerArguments& arguments, Clock::time_point deadline) {
    const shm::ConsumerOptions options{
        .name = "peer",
        .hold = arguments.flag("hold"),
        .delivery = arguments.flag("latest") ? shm::Delivery::Latest : shm::Delivery::Channel,
    };
    const std::string channel = arguments.text("channel");
    for (;;) {
        auto consumer = shm::Consumer::attach(channel, options);
        const bool retry =
            !consumer && (consumer.error().code == ErrorCode::NotFound || consumer.error().code == ErrorCode::Corrupt ||
                          consumer.error().code == ErrorCode::Timeout);
        if (!retry || Clock::now() >= deadline) return consumer;
        std::this_thread::sleep_for(POLL_INTERVAL);
    }
}

int create_producer(const PeerArguments& arguments, Clock::time_point deadline, std::optional<shm::Producer>& out) {
    const auto config = channel_config(arguments);
    if (!config) return fail(PeerExit::BadArguments, "channel options");
    shm::ProducerOptions options;
    options.unlink_on_close = !arguments.flag("keep");
    options.wait.timeout = arguments.milliseconds("write-timeout-ms", DEFAULT_WRITE_TIMEOUT);
    auto producer = shm::Producer::create(*config, options);
    if (!producer) {
        return fail(producer.error().code == ErrorCode::AlreadyExists ? PeerExit::CreateRefusedAlreadyExists
                                                                      : PeerExit::CreateFailed,
                    producer.error().message);
    }
    if (arguments.has("expect-takeover") && producer->took_over() != (arguments.text("expect-takeover") == "yes")) {
        return fail(PeerExit::TakeoverExpectationFailed, producer->took_over() ? "took over" : "created");
    }
    if (arguments.has("first-seq") && producer->next_sequence() != arguments.number("first-seq", 0)) {
        return fail(PeerExit::FirstSequenceMismatch, "next_sequence() = " + std::to_string(producer->next_sequence()));
    }
    const std::uint64_t awaited = arguments.number("wait-consumers", 0);
    if (!poll_until([&] { return active_consumers(producer->view()) >= awaited; }, deadline)) {
        return fail(PeerExit::ConsumersNeverAttached, std::to_string(awaited) + " consumers awaited");
    }
    out.emplace(std::move(producer.value()));
    return exit_code(PeerExit::Ok);
}

/// Spaces writes period apart by busy-waiting (a rate, not a wait for a condition); 0 = full speed.
class Pacer {
public:
    explicit Pacer(std::chrono::nanoseconds period) : period_(period), due_(Clock::now()) {}

    void pace() {
        if (period_.count() == 0) return;
        while (Clock::now() < due_) {
        }
        due_ = std::max(due_ + period_, Clock::now());
    }

private:
    std::chrono::nanoseconds period_;
    Clock::time_point due_;
};

/// Writes pattern slots as --sizes, --pace-ns and --stop-on-timeout say.
class SlotWriter {
public:
    SlotWriter(const PeerArguments& arguments, shm::Producer& producer, PayloadSizes sizes)
        : producer_(producer),
          sizes_(sizes),
          pacer_(std::chrono::nanoseconds(arguments.number("pace-ns", 0))),
          stop_on_timeout_(arguments.flag("stop-on-timeout")),
          burst_(arguments.number("burst", 1)) {}

    /// Ok also when --stop-on-timeout and the ring stayed full.
    int write(std::uint64_t count) { return burst_ > 1 ? write_bursts(count) : write_slots(count); }

private:
    int write_slots(std::uint64_t count) {
        const std::size_t capacity = producer_.view().slot_payload_bytes();
        for (std::uint64_t written = 0; written < count; ++written) {
            pacer_.pace();
            shm::WriteSlot slot = producer_.acquire_write();
            if (!slot) {
                if (slot.status() == shm::Status::Timeout && stop_on_timeout_) break;
                return fail(PeerExit::AcquireWriteFailed, shm::to_string(slot.status()));
            }
            const std::size_t bytes = payload_size(slot.sequence(), capacity, sizes_);
            fill_pattern(slot.sequence(), slot.payload().first(bytes));
            if (const shm::Status committed = slot.commit(bytes); committed != shm::Status::Ok) {
                return fail(PeerExit::CommitFailed, shm::to_string(committed));
            }
        }
        return exit_code(PeerExit::Ok);
    }

    /// --burst N: up to N slots per acquire_burst, all but the last burst committed whole.
    int write_bursts(std::uint64_t count) {
        const std::size_t capacity = producer_.view().slot_payload_bytes();
        for (std::uint64_t written = 0; written < count;) {
            pacer_.pace();
            shm::WriteBurst burst = producer_.acquire_burst(std::min<std::uint64_t>(burst_, count - written));
            if (!burst) {
                if (burst.status() == shm::Status::Timeout && stop_on_timeout_) break;
                return fail(PeerExit::AcquireWriteFailed, shm::to_string(burst.status()));
            }
            for (std::size_t i = 0; i < burst.size(); ++i) {
                const std::size_t bytes = payload_size(burst.sequence(i), capacity, sizes_);
                fill_pattern(burst.sequence(i), burst.payload(i).first(bytes));
                if (const shm::Status stamped = burst.stamp(i, bytes); stamped != shm::Status::Ok) {
                    return fail(PeerExit::CommitFailed, shm::to_string(stamped));
                }
            }
            written += burst.size();
            if (const shm::Status committed = burst.commit(burst.size()); committed != shm::Status::Ok) {
                return fail(PeerExit::CommitFailed, shm::to_string(committed));
            }
        }
        return exit_code(PeerExit::Ok);
    }

    shm::Producer& producer_;
    PayloadSizes sizes_;
    Pacer pacer_;
    bool stop_on_timeout_;
    std::uint64_t burst_;
};

int produce(const PeerArguments& arguments, Clock::time_point deadline) {
    const auto sizes = payload_sizes(arguments);
    if (!sizes) return fail(PeerExit::BadArguments, "--sizes");
    std::optional<shm::Producer> producer;
    if (const int created = create_producer(arguments, deadline, producer); created != 0) return created;
    notify(arguments.descriptor("ready-fd"));
    SlotWriter writer(arguments, *producer, *sizes);
    if (const int written = writer.write(arguments.number("count", 0)); written != 0) return written;
    const std::uint64_t min_reads = arguments.number("min-consumer-reads", 0);
    while (consumer_reads(producer->view()) < min_reads) {
        if (Clock::now() >= deadline) {
            return fail(PeerExit::ConsumersNeverRead, std::to_string(consumer_reads(producer->view())) + " read");
        }
        if (const int written = writer.write(1); written != 0) return written;
    }
    producer->close();
    return exit_code(PeerExit::Ok);
}

int hold_write(const PeerArguments& arguments, Clock::time_point deadline) {
    std::optional<shm::Producer> producer;
    if (const int created = create_producer(arguments, deadline, producer); created != 0) return created;
    SlotWriter writer(arguments, *producer, PayloadSizes::Full);
    if (const int written = writer.write(arguments.number("commits", 0)); written != 0) return written;
    if (const std::uint64_t burst_length = arguments.number("burst", 1); burst_length > 1) {
        // Killed mid-burst: every slot of it half written, none committed.
        shm::WriteBurst burst = producer->acquire_burst(burst_length);
        if (!burst) return fail(PeerExit::AcquireWriteFailed, shm::to_string(burst.status()));
        for (std::size_t i = 0; i < burst.size(); ++i)
            fill_pattern(burst.sequence(i), burst.payload(i).first(burst.payload(i).size() / 2));
        notify(arguments.descriptor("ready-fd"));
        block_until_killed();
    }
    shm::WriteSlot slot = producer->acquire_write();
    if (!slot) return fail(PeerExit::AcquireWriteFailed, shm::to_string(slot.status()));
    fill_pattern(slot.sequence(), slot.payload().first(slot.payload().size() / 2));
    notify(arguments.descriptor("ready-fd"));
    block_until_killed();
}

int hold_lease(const PeerArguments& arguments, Clock::time_point deadline) {
    std::optional<shm::Producer> producer;
    if (const int created = create_producer(arguments, deadline, producer); created != 0) return created;
    notify(arguments.descriptor("ready-fd"));
    block_until_killed();
}

int hold_read(const PeerArguments& arguments, Clock::time_point deadline) {
    auto consumer = attach_when_created(arguments, deadline);
    if (!consumer) return fail(PeerExit::AttachFailed, consumer.error().message);
    const shm::WaitOptions wait{.timeout = deadline - Clock::now()};
    for (std::uint64_t skipped = 0; skipped < arguments.number("skip", 0); ++skipped) {
        shm::ReadSlot slot = consumer->acquire_read(wait);
        if (!slot) return fail(PeerExit::UnexpectedStatus, shm::to_string(slot.status()));
    }
    shm::ReadSlot held = consumer->acquire_read(wait);
    if (!held) return fail(PeerExit::UnexpectedStatus, shm::to_string(held.status()));
    notify(arguments.descriptor("ready-fd"));
    block_until_killed();
}

/// What a consume run saw; checked against the expectations when the channel closes.
struct Reception {
    std::uint64_t received = 0;
    std::uint64_t overwritten = 0;
    std::optional<std::uint64_t> last_handed_out;
};

int consume(const PeerArguments& arguments, Clock::time_point deadline) {
    const auto sizes = payload_sizes(arguments);
    if (!sizes) return fail(PeerExit::BadArguments, "--sizes");
    auto consumer = attach_when_created(arguments, deadline);
    if (!consumer) return fail(PeerExit::AttachFailed, consumer.error().message);
    notify(arguments.descriptor("ready-fd"));
    const bool lossless = !consumer->latest_only();
    const milliseconds hold_each = arguments.milliseconds("sleep-ms", milliseconds(0));
    const std::size_t capacity = consumer->view().slot_payload_bytes();
    const std::uint64_t first = arguments.number("first-seq", 0);
    const std::uint64_t count = arguments.number("count", 0);
    // --burst N reads with acquire_burst (up to N slots at a time), otherwise slot by slot.
    const std::uint64_t burst_length = arguments.number("burst", 0);
    Reception seen;
    for (;;) {
        if (Clock::now() >= deadline) return fail(PeerExit::DeadlineExceeded, std::to_string(seen.received));
        std::optional<shm::ReadSlot> slot;
        std::optional<shm::ReadBurst> burst;
        if (burst_length == 0) {
            slot.emplace(consumer->acquire_read({.timeout = READ_POLL_TIMEOUT}));
        } else {
            burst.emplace(consumer->acquire_burst(burst_length, {.timeout = READ_POLL_TIMEOUT}));
        }
        const shm::Status status = slot ? slot->status() : burst->status();
        if (status == shm::Status::Timeout) continue;
        if (status == shm::Status::Closed) break;
        if (status == shm::Status::ChecksumMismatch) {
            return fail(PeerExit::ChecksumMismatch,
                        "sequence " + std::to_string(slot ? slot->sequence() : burst->sequence(0)));
        }
        if (status != shm::Status::Ok) return fail(PeerExit::UnexpectedStatus, shm::to_string(status));
        const std::size_t taken = slot ? 1 : burst->size();
        if (hold_each.count() != 0) std::this_thread::sleep_for(hold_each);
        // Checked in place, but trusted only if release() says the slots were not reused meanwhile.
        std::vector<std::uint64_t> sequences;
        std::vector<bool> sizes_ok;
        std::vector<bool> bytes_ok;
        for (std::size_t i = 0; i < taken; ++i) {
            const std::uint64_t sequence = slot ? slot->sequence() : burst->sequence(i);
            const std::span<const std::byte> payload = slot ? slot->payload() : burst->payload(i);
            const std::uint64_t wanted =
                lossless ? first + seen.received + i : (seen.last_handed_out ? *seen.last_handed_out + 1 : first);
            if (lossless ? sequence != wanted : sequence < wanted) {
                return fail(PeerExit::SequenceOutOfOrder, "got " + std::to_string(sequence) + ", expected " +
                                                              (lossless ? "" : ">= ") + std::to_string(wanted));
            }
            sequences.push_back(sequence);
            sizes_ok.push_back(payload.size() == payload_size(sequence, capacity, *sizes));
            bytes_ok.push_back(matches_pattern(sequence, payload));
        }
        seen.last_handed_out = sequences.back();
        const shm::Status released = slot ? slot->release() : burst->release();
        if (released == shm::Status::Overwritten && !lossless) {
            ++seen.overwritten;
            continue;
        }
        if (released != shm::Status::Ok) return fail(PeerExit::UnexpectedStatus, shm::to_string(released));
        for (std::size_t i = 0; i < taken; ++i) {
            if (!sizes_ok[i]) return fail(PeerExit::SizeMismatch, "sequence " + std::to_string(sequences[i]));
            if (!bytes_ok[i]) return fail(PeerExit::PayloadMismatch, "sequence " + std::to_string(sequences[i]));
        }
        seen.received += taken;
    }
    std::fprintf(
        stderr, "dhub-shm-test-peer[%d]: consumed %llu slots (%llu overwritten while read, %llu skipped), last %lld\n",
        static_cast<int>(::getpid()), static_cast<unsigned long long>(seen.received),
        static_cast<unsigned long long>(seen.overwritten), static_cast<unsigned long long>(consumer->skipped()),
        seen.last_handed_out ? static_cast<long long>(*seen.last_handed_out) : -1LL);
    if (lossless && seen.received != count) {
        return fail(PeerExit::CountMismatch, std::to_string(seen.received) + " of " + std::to_string(count));
    }
    if (seen.received == 0) return fail(PeerExit::NothingReceived, "channel closed");
    const std::uint64_t written = consumer->view().header().write_seq.load();
    if (!lossless && seen.last_handed_out != written - 1) {
        return fail(PeerExit::LastSequenceMissing, "expected " + std::to_string(written - 1));
    }
    return exit_code(PeerExit::Ok);
}

int run(const PeerArguments& arguments) {
    const milliseconds budget = arguments.milliseconds("deadline-ms", DEFAULT_DEADLINE);
    // Backstop: SIGALRM ends the process a second after its own deadline, whatever it is doing.
    ::alarm(static_cast<unsigned>(std::chrono::duration_cast<std::chrono::seconds>(budget + ONE_SECOND).count()));
    const Clock::time_point deadline = Clock::now() + budget;
    const std::string& role = arguments.role();
    if (role == "produce") return produce(arguments, deadline);
    if (role == "consume") return consume(arguments, deadline);
    if (role == "hold-write") return hold_write(arguments, deadline);
    if (role == "hold-read") return hold_read(arguments, deadline);
    if (role == "hold-lease") return hold_lease(arguments, deadline);
    return fail(PeerExit::BadArguments, "unknown role '" + role + "'");
}

}  // namespace
}  // namespace dhub::testing

int main(int argc, char** argv) {
    const auto arguments = dhub::testing::PeerArguments::parse(argc, argv);
    if (!arguments) {
        std::fprintf(stderr,
                     "usage: dhub-shm-test-peer <produce|consume|hold-write|hold-read|hold-lease> "
                     "--channel NAME [--option value | --flag]...\n");
        return dhub::testing::exit_code(dhub::testing::PeerExit::BadArguments);
    }
    return dhub::testing::run(*arguments);
}
