// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/consumer_table.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "dhub/base/clock.hpp"
#include "dhub/base/process_identity.hpp"
#include "waiting.hpp"

namespace dhub::shm {
namespace {

using layout::ConsumerEntry;

/// Clears a seat whose owner word is `owner` (a token, or the mark of an evictor that died), if this caller
/// wins the right to. Every clearing step can be done twice without harm, so an eviction that a dead
/// evictor left half-done is simply done again. The cursor is left alone: on a single-reader channel it is
/// the queue position the next reader resumes from.
bool evict(const ChannelView& view, ConsumerEntry& entry, std::uint64_t owner) noexcept {
    const std::uint64_t mark = seat_evicting_mark(ProcessIdentity::self().token());
    std::uint64_t expected = owner;
    if (!entry.owner.compare_exchange_strong(expected, mark, std::memory_order_acq_rel)) return false;
    entry.state.store(layout::CONSUMER_FREE, std::memory_order_seq_cst);
    entry.held.store(0, std::memory_order_release);  // a latest-only slot it held is free again
    // The flag goes first: a crash between the two leaves holding_readers too high (only costs the producer
    // looks), never too low (which would let it skip a holder). The exchange hands the flag to one evictor.
    if ((entry.flags.exchange(0, std::memory_order_acq_rel) & layout::SEAT_HOLDS) != 0)
        view.header().holding_readers.fetch_sub(1, std::memory_order_seq_cst);
    // Fails only if another process judged this one dead meanwhile and took the eviction over: it frees the
    // seat once it has cleared it.
    expected = mark;
    entry.owner.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
    return true;
}

/// The seats a claim may take: a single-reader channel's seat 0 is its reader's, the rest are latest seats.
struct SeatRange {
    std::uint32_t first = 0;
    std::uint32_t end = 0;
};

SeatRange claimable_seats(const ChannelView& view, bool latest) noexcept {
    if (view.sync() != SyncPolicy::SingleReader) return {0, view.consumer_capacity()};
    return latest ? SeatRange{1, view.consumer_capacity()} : SeatRange{0, 1};
}

std::uint32_t try_claim(const ChannelView& view, SeatRange range, std::uint64_t token) noexcept {
    for (std::uint32_t seat = range.first; seat < range.end; ++seat) {
        std::uint64_t expected = 0;
        if (view.consumer(seat).owner.compare_exchange_strong(expected, token, std::memory_order_acq_rel)) return seat;
    }
    return range.end;
}

}  // namespace

Result<std::uint32_t> claim_seat(const ChannelView& view, std::string_view name, std::uint32_t flags) {
    const ProcessIdentity self = ProcessIdentity::self();
    const bool latest = (flags & layout::SEAT_LATEST) != 0;
    const SeatRange range = claimable_seats(view, latest);
    std::uint32_t seat = try_claim(view, range, self.token());
    if (seat == range.end && evict_dead_consumers(view) > 0) seat = try_claim(view, range, self.token());
    if (seat == range.end) {
        if (view.sync() == SyncPolicy::SingleReader && latest) {
            return Error{ErrorCode::AlreadyExists,
                         "channel '" + view.channel() + "' is single-reader with " +
                             std::to_string(view.consumer_capacity()) + " seats, seat 0 for its reader; " +
                             (range.first >= range.end ? std::string("none is left for latest-only readers")
                                                       : "every latest-only seat is held by a live process") +
                             "; raise the channel's max_consumers"};
        }
        if (view.sync() == SyncPolicy::SingleReader) {
            const std::uint64_t holder = view.consumer(0).owner.load(std::memory_order_acquire);
            return Error{ErrorCode::AlreadyExists,
                         "channel '" + view.channel() + "' is single-reader and its reader seat is held by pid " +
                             std::to_string(token_pid(holder)) +
                             "; use an every_reader channel for several consumers, or attach with Delivery::Latest "
                             "(a graph input's \"delivery\": \"latest\") to look at its newest slot beside it"};
        }
        return Error{ErrorCode::AlreadyExists, "channel '" + view.channel() + "': all " +
                                                   std::to_string(view.consumer_capacity()) +
                                                   " consumer seats are held by live processes (max_consumers)"};
    }
    // Before this seat can hold anything: the producer reads holds only below seats_in_use.
    auto& seats_in_use = view.header().seats_in_use;
    for (std::uint32_t bound = seats_in_use.load(std::memory_order_seq_cst); bound <= seat;) {
        if (seats_in_use.compare_exchange_weak(bound, seat + 1, std::memory_order_seq_cst)) break;
    }
    ConsumerEntry& entry = view.consumer(seat);
    const std::size_t name_bytes = std::min(name.size(), sizeof entry.name - 1);
    std::memset(entry.name, 0, sizeof entry.name);
    std::memcpy(entry.name, name.data(), name_bytes);
    entry.reads.store(0, std::memory_order_relaxed);
    entry.checksum_failures.store(0, std::memory_order_relaxed);
    entry.overwritten_retries.store(0, std::memory_order_relaxed);
    entry.overwritten_releases.store(0, std::memory_order_relaxed);
    entry.held.store(0, std::memory_order_relaxed);
    entry.skipped.store(0, std::memory_order_relaxed);
    entry.flags.store(0, std::memory_order_relaxed);
    if ((flags & layout::SEAT_HOLDS) != 0) {
        // Counted before the flag is set (a crash in between leaves the count too high, the safe side), and
        // both before the seat can hold anything: the producer reads holds only while the count is not 0.
        view.header().holding_readers.fetch_add(1, std::memory_order_seq_cst);
    }
    // Before the seat becomes active: a producer that sees it active sees what kind of seat it is.
    entry.flags.store(flags, std::memory_order_seq_cst);
    entry.read_timeouts.store(0, std::memory_order_relaxed);
    entry.heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
    auto& header = view.header();
    if (view.sync() == SyncPolicy::SingleReader && !latest) {
        entry.state.store(layout::CONSUMER_ACTIVE, std::memory_order_seq_cst);
        return seat;
    }
    // Join at the newest slot. The cursor is re-read after the seat becomes active: a producer that
    // scanned the table before it saw this seat may have moved on by up to a ring, but never past the
    // write_seq read here plus a ring (docs/shm-layout.md, "joining").
    entry.cursor.store(header.write_seq.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
    entry.state.store(layout::CONSUMER_ACTIVE, std::memory_order_seq_cst);
    entry.cursor.store(header.write_seq.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
    return seat;
}

void release_seat(const ChannelView& view, std::uint32_t seat, std::uint64_t owner_token) noexcept {
    if (!view.valid() || seat >= view.consumer_capacity()) return;
    if (evict(view, view.consumer(seat), owner_token)) {
        auto& header = view.header();
        detail::wake_waiters(header.writer_waiting, header.space_futex);
    }
}

bool seat_holds_back_producer(const ConsumerEntry& entry) noexcept {
    if ((entry.flags.load(std::memory_order_seq_cst) & layout::SEAT_LATEST) != 0) return false;
    return entry.state.load(std::memory_order_seq_cst) == layout::CONSUMER_ACTIVE;
}

std::uint64_t oldest_active_cursor(const ChannelView& view, std::uint64_t if_none) noexcept {
    std::uint64_t oldest = if_none;
    for (std::uint32_t seat = 0; seat < view.consumer_capacity(); ++seat) {
        const ConsumerEntry& entry = view.consumer(seat);
        if (seat_holds_back_producer(entry)) oldest = std::min(oldest, entry.cursor.load(std::memory_order_acquire));
    }
    return oldest;
}

std::uint32_t evict_dead_consumers(const ChannelView& view) noexcept {
    std::uint32_t evicted = 0;
    for (std::uint32_t seat = 0; seat < view.consumer_capacity(); ++seat) {
        ConsumerEntry& entry = view.consumer(seat);
        const std::uint64_t owner = entry.owner.load(std::memory_order_acquire);
        if (owner == 0) continue;
        const std::uint64_t who = seat_is_evicting(owner) ? seat_evictor(owner) : owner;
        if (liveness_of(who) == Liveness::Dead && evict(view, entry, owner)) ++evicted;
    }
    if (evicted > 0) {
        auto& header = view.header();
        header.counters.consumers_evicted.fetch_add(evicted, std::memory_order_relaxed);
        detail::wake_waiters(header.writer_waiting, header.space_futex);
    }
    return evicted;
}

}  // namespace dhub::shm
