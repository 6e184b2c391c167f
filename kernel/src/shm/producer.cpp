// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/producer.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "asymmetric_fence.hpp"
#include "dhub/base/clock.hpp"
#include "dhub/base/process_identity.hpp"
#include "dhub/shm/checksum.hpp"
#include "dhub/shm/consumer_table.hpp"
#include "producer_state.hpp"
#include "waiting.hpp"

namespace dhub::shm {
namespace {

using layout::SegmentHeader;

/// How the existing segment's immutable fields compare with what this producer would create.
std::string first_difference(const ChannelView& view, const ChannelConfig& config) {
    const auto& header = view.header();
    const layout::Geometry geometry = geometry_of(config);
    if (header.slot_count != geometry.slot_count) return "slot_count";
    if (header.slot_payload_bytes != geometry.slot_payload_bytes) return "slot_payload_bytes";
    if (header.flex_zone_bytes != geometry.flex_zone_bytes()) return "flex_zone_bytes";
    if (header.consumer_capacity != geometry.consumer_capacity) return "consumer_capacity";
    if (header.ring_policy != static_cast<std::uint8_t>(config.ring)) return "ring_policy";
    if (header.sync_policy != static_cast<std::uint8_t>(config.sync)) return "sync_policy";
    if (header.checksum_policy != static_cast<std::uint8_t>(config.checksum)) return "checksum_policy";
    if (std::memcmp(header.schema_hash, config.schema_hash.data(), config.schema_hash.size()) != 0) {
        return "schema_hash";
    }
    if (view.schema_descriptor() != config.schema_descriptor) return "schema_descriptor";
    if (header.gate_entries != geometry.gate_entries) return "gate_entries";
    return {};
}

std::unique_ptr<detail::ProducerState> make_state(ChannelView view, const ProducerOptions& options, bool took_over) {
    auto state = std::make_unique<detail::ProducerState>();
    state->view = std::move(view);
    state->options = options;
    auto& header = state->view.header();
    state->lease_token = header.writer_lease.load(std::memory_order_relaxed);
    state->next_seq = header.write_seq.load(std::memory_order_relaxed);
    state->oldest_unread = state->next_seq;
    state->bytes_committed = header.counters.bytes_committed.load(std::memory_order_relaxed);
    state->slot_count = state->view.slot_count();
    state->slot_bytes = state->view.slot_payload_bytes();
    state->sync = state->view.sync();
    state->checksums = state->view.checksum() != ChecksumPolicy::None;
    state->took_over = took_over;
    state->acquired_from = state->next_seq;
    state->held_slots.reserve(state->view.consumer_capacity());
    state->covered_end = 0;  // nothing looked at yet: the first latest-only acquisition looks
    // A producer that died mid-acquisition may have left a claim over the newest slot; this one writes nothing
    // before its first look at the holds, which stores its own claim.
    header.reuse_claim.store(state->next_seq + state->slot_count - 1, std::memory_order_release);
    state->choose_how_to_look();
    // A taken-over channel may hold slots consumers have not read yet: never assume the ring is free.
    state->oldest_unread = state->scan_oldest_unread();
    return state;
}

/// Makes a dead producer's segment ours: CAS the lease, then undo what it left half-done.
Result<ChannelView> take_over(ChannelView view, std::uint64_t dead_token) {
    auto& header = view.header();
    const ProcessIdentity self = ProcessIdentity::self();
    std::uint64_t expected = dead_token;
    if (!header.writer_lease.compare_exchange_strong(expected, self.token(), std::memory_order_acq_rel)) {
        return Error{ErrorCode::AlreadyExists, "channel '" + view.channel() + "': another producer (pid " +
                                                   std::to_string(token_pid(expected)) +
                                                   ") took the channel over at the same time"};
    }
    header.producer_start_ticks.store(self.start_ticks, std::memory_order_relaxed);
    header.producer_epoch.fetch_add(1, std::memory_order_relaxed);
    // A slot left BUSY was being written when the old producer died: it was never published (write_seq
    // did not move), so it is simply marked empty. Latest-only readers then wait for the next commit.
    std::uint64_t recovered = 0;
    for (std::uint32_t i = 0; i < view.slot_count(); ++i) {
        auto& slot = view.slot_header(i);
        if ((slot.seq.load(std::memory_order_relaxed) & layout::SLOT_BUSY_BIT) != 0) {
            slot.seq.store(layout::SLOT_EMPTY, std::memory_order_release);
            ++recovered;
        }
    }
    header.counters.slots_recovered.fetch_add(recovered, std::memory_order_relaxed);
    header.counters.takeovers.fetch_add(1, std::memory_order_relaxed);
    header.producer_heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
    header.closed.store(0, std::memory_order_release);
    return view;
}

Error being_created(const std::string& channel) {
    return Error{ErrorCode::AlreadyExists, "channel '" + channel +
                                               "' is being created by another process right now; if that "
                                               "process died, the segment is judged stale after 10 s"};
}

/// Tells consumers still mapped to a segment that is about to be replaced that it is finished.
void close_orphan(ChannelView& view) {
    auto& header = view.header();
    header.closed.store(1, std::memory_order_seq_cst);
    detail::wake_waiters(header.readers_waiting, header.commit_futex);
}

}  // namespace

// ---- WriteSlot ---------------------------------------------------------------------------------------

WriteSlot& WriteSlot::operator=(WriteSlot&& other) noexcept {
    if (this != &other) {
        abort();
        state_ = std::exchange(other.state_, nullptr);
        data_ = other.data_;
        capacity_ = other.capacity_;
        sequence_ = other.sequence_;
        status_ = std::exchange(other.status_, Status::Invalid);
    }
    return *this;
}

Status WriteSlot::commit(std::size_t bytes) noexcept {
    const std::uint64_t now = monotonic_ns();
    return commit_stamped(bytes, now, now);
}

Status WriteSlot::commit(std::size_t bytes, std::uint64_t timestamp_ns) noexcept {
    // The caller's stamp may be in another clock domain; the heartbeat must be CLOCK_MONOTONIC.
    return commit_stamped(bytes, timestamp_ns, monotonic_ns());
}

Status WriteSlot::commit_stamped(std::size_t bytes, std::uint64_t timestamp_ns, std::uint64_t now_ns) noexcept {
    if (state_ == nullptr) return Status::Invalid;
    const Status committed = state_->commit(sequence_, bytes, timestamp_ns, now_ns);
    if (committed == Status::Ok) {
        state_ = nullptr;
        status_ = Status::Invalid;
    }
    return committed;
}

void WriteSlot::abort() noexcept {
    if (state_ == nullptr) return;
    state_->abort(sequence_);
    state_ = nullptr;
    status_ = Status::Invalid;
}

// ---- WriteBurst --------------------------------------------------------------------------------------

WriteBurst& WriteBurst::operator=(WriteBurst&& other) noexcept {
    if (this != &other) {
        abort();
        state_ = std::exchange(other.state_, nullptr);
        view_ = other.view_;
        first_ = other.first_;
        size_ = std::exchange(other.size_, 0);
        status_ = std::exchange(other.status_, Status::Invalid);
    }
    return *this;
}

Status WriteBurst::commit(std::size_t count, std::uint64_t now_ns) noexcept {
    if (state_ == nullptr) return Status::Invalid;
    const Status committed = state_->commit_burst(first_, size_, count, now_ns);
    if (committed == Status::Ok) {
        state_ = nullptr;
        size_ = 0;
        status_ = Status::Invalid;
    }
    return committed;
}

void WriteBurst::abort() noexcept {
    if (state_ == nullptr) return;
    state_->abort_burst(first_, size_);
    state_ = nullptr;
    size_ = 0;
    status_ = Status::Invalid;
}

// ---- ProducerState: the data path ---------------------------------------------------------------------

namespace detail {

std::uint64_t ProducerState::scan_oldest_unread() const noexcept {
    switch (sync) {
        case SyncPolicy::LatestOnly:
            return next_seq;
        case SyncPolicy::SingleReader:
            // The seat's cursor counts even while the seat is empty: a single-reader channel is a queue
            // that keeps its content for the next reader.
            return view.consumer(0).cursor.load(std::memory_order_acquire);
        case SyncPolicy::EveryReader:
            return oldest_active_cursor(view, next_seq);
    }
    return next_seq;
}

Status ProducerState::wait_for_space(const WaitOptions& wait) noexcept {
    auto& header = view.header();
    header.counters.write_waits.fetch_add(1, std::memory_order_relaxed);
    auto has_space = [this] {
        oldest_unread = scan_oldest_unread();
        return next_seq - oldest_unread < slot_count;
    };
    // Once asleep, wake for half a ring of space: waking per freed slot would cost a futex round trip
    // per slot. Consumers compare their cursor with writer_wake_cursor before waking us.
    const std::uint64_t wake_batch = std::max<std::uint64_t>(1, slot_count / 2);
    const std::uint64_t wake_cursor = next_seq - slot_count + wake_batch;
    header.writer_wake_cursor.store(wake_cursor, std::memory_order_relaxed);
    auto worth_waking = [this, wake_cursor] { return oldest_unread >= wake_cursor; };
    // Before each sleep: stay visibly alive, and evict consumers that died holding the ring back (at most
    // every 20 ms; reading /proc is a syscall per consumer).
    auto tick = [this, &header](std::uint64_t now) {
        header.producer_heartbeat_ns.store(now, std::memory_order_relaxed);
        if (now - liveness_checked_ns >= 20'000'000) {
            liveness_checked_ns = now;
            evict_dead_consumers(view);
        }
        return Status::Ok;
    };
    const Status waited = wait_for(has_space, worth_waking, header.writer_waiting, header.space_futex, wait, tick);
    if (waited != Status::Ok) header.counters.write_timeouts.fetch_add(1, std::memory_order_relaxed);
    return waited;
}

Status ProducerState::ready_to_acquire(const WaitOptions& wait) noexcept {
    if (slot_outstanding || closed) return Status::Invalid;
    auto& header = view.header();
    // The lease is checked on every acquire: a takeover by another process stops this one at once.
    if (header.writer_lease.load(std::memory_order_relaxed) != lease_token) return Status::NotOwner;
    if (next_seq - oldest_unread >= slot_count) {
        oldest_unread = scan_oldest_unread();
        if (next_seq - oldest_unread >= slot_count) return wait_for_space(wait);
    }
    return Status::Ok;
}

void ProducerState::mark_busy(std::size_t count) noexcept {
    // Seqlock writer side: a slot is marked busy before any payload byte changes (release fence), so a
    // latest-only reader that still holds its previous content detects the reuse.
    for (std::size_t i = 0; i < count; ++i) {
        view.slot_header(next_seq + i).seq.store((next_seq + i) | layout::SLOT_BUSY_BIT, std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_release);
}

void ProducerState::publish(std::uint64_t now_ns) noexcept {
    auto& header = view.header();
    // The heartbeat shares write_seq's cache line and is stored just before it: one ownership transfer
    // for both. Stored after, it would take the line back from the consumers polling write_seq.
    header.producer_heartbeat_ns.store(now_ns, std::memory_order_relaxed);
    // Publication point. seq_cst so that the read of readers_waiting below cannot be ordered before it.
    header.write_seq.store(next_seq, std::memory_order_seq_cst);
    wake_waiters(header.readers_waiting, header.commit_futex);
    // Statistics: this process is the only writer, so a plain store instead of a read-modify-write.
    header.counters.bytes_committed.store(bytes_committed, std::memory_order_relaxed);
}

WriteSlot ProducerState::acquire(const WaitOptions& wait) noexcept {
    if (const Status ready = ready_to_acquire(wait); ready != Status::Ok) return WriteSlot(ready);
    if (sync == SyncPolicy::LatestOnly) {
        acquired_from = next_seq;
        skipped_now = 0;
        // The common cases inline: nothing was held at the last look, whose claim still covers this slot; or
        // an unfenced look (no holding reader yet) is due. Every cycle here shows in the producer's rate.
        if (held_slots.empty() && next_seq >= covered_end && !looks_fenced) look_unfenced(next_seq + 1);
        if (!held_slots.empty() || next_seq >= covered_end) {
            std::uint64_t count = 0;
            if (const Status claimed = claim_unheld(1, wait, count); claimed != Status::Ok) return WriteSlot(claimed);
        }
    }
    mark_busy(1);
    slot_outstanding = true;
    return WriteSlot(this, view.slot_payload(next_seq), slot_bytes, next_seq);
}

Status ProducerState::commit(std::uint64_t seq,
                             std::size_t bytes,
                             std::uint64_t timestamp_ns,
                             std::uint64_t now_ns) noexcept {
    if (bytes > slot_bytes) return Status::TooLarge;
    auto& slot = view.slot_header(seq);
    slot.payload_bytes.store(static_cast<std::uint32_t>(bytes), std::memory_order_relaxed);
    slot.timestamp_ns.store(timestamp_ns, std::memory_order_relaxed);
    if (checksums) {
        const Digest digest = blake2b_256({view.slot_payload(seq), bytes});
        std::memcpy(slot.checksum, digest.data(), digest.size());
    }
    slot.seq.store(seq, std::memory_order_release);
    next_seq = seq + 1;
    bytes_committed += bytes;
    publish(now_ns);
    slot_outstanding = false;
    return Status::Ok;
}

WriteBurst ProducerState::acquire_burst(std::size_t max, const WaitOptions& wait) noexcept {
    if (max == 0) return WriteBurst(Status::Invalid);
    if (const Status ready = ready_to_acquire(wait); ready != Status::Ok) return WriteBurst(ready);
    std::uint64_t count = 0;
    if (sync == SyncPolicy::LatestOnly) {
        if (const Status claimed = claim_unheld(max, wait, count); claimed != Status::Ok) return WriteBurst(claimed);
    } else {
        const std::uint64_t wanted = std::min<std::uint64_t>(max, slot_count);
        if (next_seq - oldest_unread + wanted > slot_count) {
            // Only ever raised here: a consumer that is joining every_reader shows a stale cursor for a moment
            // (its final one is at least write_seq), and the bound ready_to_acquire established must not
            // shrink, or the free count below would wrap.
            oldest_unread = std::max(oldest_unread, scan_oldest_unread());
        }
        count = std::min<std::uint64_t>(wanted, slot_count - (next_seq - oldest_unread));
    }
    // BUSY first (with its release fence): a latest-only reader may still be reading one of these slots and
    // must see the reuse before it could see any of the stores below.
    mark_busy(count);
    for (std::uint64_t i = 0; i < count; ++i) {
        // Defaults for a slot committed without a stamp: its whole length, stamped at commit.
        auto& slot = view.slot_header(next_seq + i);
        slot.payload_bytes.store(slot_bytes, std::memory_order_relaxed);
        slot.timestamp_ns.store(0, std::memory_order_relaxed);
    }
    slot_outstanding = true;
    return WriteBurst(this, &view, next_seq, static_cast<std::size_t>(count));
}

Status ProducerState::commit_burst(std::uint64_t first,
                                   std::size_t held,
                                   std::size_t count,
                                   std::uint64_t now_ns) noexcept {
    if (count > held) return Status::Invalid;
    // No clock read when nothing is published (an abort, or a paced source with nothing due yet).
    const std::uint64_t now = count == 0 ? 0 : now_ns != 0 ? now_ns : monotonic_ns();
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint64_t seq = first + i;
        auto& slot = view.slot_header(seq);
        // Clamped: the length lives in shared memory, and the checksum must not read past the slot.
        const std::uint32_t bytes = std::min(slot.payload_bytes.load(std::memory_order_relaxed), slot_bytes);
        if (slot.timestamp_ns.load(std::memory_order_relaxed) == 0)
            slot.timestamp_ns.store(now, std::memory_order_relaxed);
        if (checksums) {
            const Digest digest = blake2b_256({view.slot_payload(seq), bytes});
            std::memcpy(slot.checksum, digest.data(), digest.size());
        }
        slot.seq.store(seq, std::memory_order_release);
        bytes_committed += bytes;
    }
    next_seq = first + count;
    // Slots not committed were never published (write_seq does not reach them): marked empty like aborts.
    for (std::size_t i = count; i < held; ++i)
        view.slot_header(first + i).seq.store(layout::SLOT_EMPTY, std::memory_order_release);
    if (count != 0) {
        publish(now);
    } else {
        give_back_skips();
    }
    slot_outstanding = false;
    return Status::Ok;
}

void ProducerState::abort_burst(std::uint64_t first, std::size_t held) noexcept {
    (void)commit_burst(first, held, 0, 0);
    auto& aborts = view.header().counters.aborts;
    aborts.store(aborts.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void ProducerState::abort(std::uint64_t seq) noexcept {
    // The old content of the slot may already be partly overwritten, so the slot is marked empty rather
    // than restored; write_seq never moved, so no reader can have been told about it.
    view.slot_header(seq).seq.store(layout::SLOT_EMPTY, std::memory_order_release);
    give_back_skips();
    auto& aborts = view.header().counters.aborts;
    aborts.store(aborts.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    slot_outstanding = false;
}

// ---- Latest-only holds --------------------------------------------------------------------------------
// A latest-only reader announces the slot it reads (its seat's `held`); the producer never rewrites a held
// slot, it passes over it to the next free one. So a reader never has a slot change under it, and a handler
// never sees a torn frame. The handshake is Dekker's (docs/shm-layout.md, "latest-only holds"):
//   producer, to "look": reuse_claim = E (seq_cst), then reads every hold (seq_cst); until its next look it
//                        writes only sequences below E, and only slots nobody held at the look
//   reader:              held = s + 1 (seq_cst), then reads reuse_claim; it keeps the hold only if
//                        reuse_claim <= s + N (no sequence the claim covers reuses s's slot) and the slot
//                        still holds s
// In the single order of seq_cst operations one side sees the other. E = write_seq + N - 1 covers every slot
// but the newest published one, so a look is needed once per N - 1 slots, and readers of the newest slot
// keep their holds; only after passing over held slots does a claim reach the newest slot too.

// Until a holding reader is counted, a look needs no fence at all: a fence per look (once per slot on a
// double buffer) makes the producer wait for every store of the slot it just wrote to reach the readers'
// cores, which cost a quarter of its rate. Instead, a reader taking a hold while the producer looks unfenced
// (holds_fenced == 0) runs an asymmetric fence (membarrier) between storing its hold and reading the claim.
// That fence puts a full barrier somewhere in the producer's program order, so either the producer's claim
// store is before it (the reader sees the claim), or its read of holding_readers is after it (the producer
// sees the reader counted, and from then on looks with fences, reading the holds). holds_fenced is stored
// (seq_cst) before the producer first reads holding_readers, so a reader counted too late to be seen there
// reads 0 and fences itself.

void ProducerState::choose_how_to_look() noexcept {
    auto& header = view.header();
    looks_fenced = !register_for_asymmetric_fences();
    header.holds_fenced.store(looks_fenced ? 1 : 0, std::memory_order_seq_cst);
    if (!looks_fenced && header.holding_readers.load(std::memory_order_seq_cst) != 0) fence_looks();
}

void ProducerState::fence_looks() noexcept {
    looks_fenced = true;
    holding_readers_seen = true;
    view.header().holds_fenced.store(1, std::memory_order_seq_cst);
}

void ProducerState::look_at_holds(std::uint64_t end) noexcept {
    auto& header = view.header();
    if (!looks_fenced && look_unfenced(end)) return;
    covered_end = std::max(end, next_seq + slot_count - 1);
    held_slots.clear();  // capacity reserved for every seat: no allocation here
    if (holding_readers_seen) {
        // The holds' lines are fetched while the claim's line is: the claim's locked store would otherwise
        // wait for its line first and the reads after it for theirs.
        const std::uint32_t seats = seats_to_look_at();
        for (std::uint32_t seat = 0; seat < seats; ++seat)
            __builtin_prefetch(&view.consumer(seat).held);
    }
    header.reuse_claim.store(covered_end, std::memory_order_seq_cst);
    // A consumer counts itself before it holds anything: with none counted after the claim, any that comes
    // later reads this claim (or a later one) when it takes its first hold.
    holding_readers_seen = header.holding_readers.load(std::memory_order_seq_cst) != 0;
    if (!holding_readers_seen) return;
    const std::uint32_t seats = seats_to_look_at();
    for (std::uint32_t seat = 0; seat < seats; ++seat) {
        const std::uint64_t hold = view.consumer(seat).held.load(std::memory_order_seq_cst);
        if (hold != 0) held_slots.push_back(static_cast<std::uint32_t>((hold - 1) % slot_count));
    }
}

std::uint32_t ProducerState::seats_to_look_at() const noexcept {
    return std::min(view.header().seats_in_use.load(std::memory_order_seq_cst), view.consumer_capacity());
}

bool ProducerState::held(std::uint64_t seq) const noexcept {
    const auto index = static_cast<std::uint32_t>(seq % slot_count);
    return std::find(held_slots.begin(), held_slots.end(), index) != held_slots.end();
}

Status ProducerState::claim_unheld(std::uint64_t wanted, const WaitOptions& wait, std::uint64_t& count) noexcept {
    // Where it can, an acquisition leaves the newest published slot alone, so a reader that comes now finds a
    // whole slot to read. Only when readers hold the others does the producer rewrite it.
    const std::uint64_t quiet_span = slot_count > 1 ? slot_count - 1 : 1;
    acquired_from = next_seq;
    skipped_now = 0;
    const std::uint64_t ring_end = acquired_from + slot_count;
    bool looked = false;
    for (;;) {
        // Slots held at the last look are passed over (a hold released since only costs a skipped slot).
        std::uint64_t first = acquired_from;
        while (first < ring_end && held(first))
            ++first;
        if (first == ring_end) {  // every slot held
            if (!looked) {
                look_at_holds(acquired_from + std::min(wanted, quiet_span));
                looked = true;
                continue;
            }
            if (const Status waited = wait_for_a_release(wait); waited != Status::Ok) {
                withdraw_claim();
                return waited;
            }
            looked = false;
            continue;
        }
        const std::uint64_t skipped = first - acquired_from;
        const std::uint64_t limit = std::min(wanted, skipped < quiet_span ? quiet_span - skipped : 1);
        std::uint64_t free_run = 1;
        while (free_run < limit && !held(first + free_run))
            ++free_run;
        if (first + free_run > covered_end) {
            // The last look's claim does not cover these sequences: a reader may have taken a hold on one of
            // their slots since. Look again, under a claim that covers them.
            look_at_holds(first + free_run);
            looked = true;
            continue;
        }
        if (skipped != 0) {
            auto& skips = view.header().held_skips;
            skips.store(skips.load(std::memory_order_relaxed) + skipped, std::memory_order_relaxed);
            skipped_now = skipped;
            // A reader that died holding a slot must not keep it for ever (no clock read on this path).
            if ((++skips_since_eviction_check & 1023) == 0) evict_dead_consumers(view);
        }
        next_seq = first;
        count = free_run;
        return Status::Ok;
    }
}

Status ProducerState::wait_for_a_release(const WaitOptions& wait) noexcept {
    auto& header = view.header();
    header.counters.write_waits.fetch_add(1, std::memory_order_relaxed);
    // This scan is itself a look under the last claim (it comes after that claim's store), so claim_unheld
    // may use what it found, as long as it stays below covered_end.
    auto some_slot_free = [this] {
        held_slots.clear();
        for (std::uint32_t seat = 0; seat < view.consumer_capacity(); ++seat) {
            const std::uint64_t hold = view.consumer(seat).held.load(std::memory_order_seq_cst);
            if (hold != 0) held_slots.push_back(static_cast<std::uint32_t>((hold - 1) % slot_count));
        }
        std::sort(held_slots.begin(), held_slots.end());
        const auto distinct = std::unique(held_slots.begin(), held_slots.end()) - held_slots.begin();
        return static_cast<std::uint64_t>(distinct) < slot_count;
    };
    // A reader's release wakes a waiting producer without a seq_cst handshake (it would cost every read a
    // locked instruction), so a wake-up can be missed: the sleeps are short instead.
    auto tick = [this, &header](std::uint64_t now) {
        header.producer_heartbeat_ns.store(now, std::memory_order_relaxed);
        if (now - liveness_checked_ns >= 20'000'000) {
            liveness_checked_ns = now;
            evict_dead_consumers(view);  // a reader that died holding a slot must not hold it for ever
        }
        return Status::Ok;
    };
    const Status waited = wait_for(
        some_slot_free, [] { return true; }, header.writer_waiting, header.space_futex, wait, tick,
        HOLD_SLEEP_SLICE_NS);
    if (waited != Status::Ok) header.counters.write_timeouts.fetch_add(1, std::memory_order_relaxed);
    return waited;
}

void ProducerState::give_back_skips() noexcept {
    // Nothing was published: the sequence numbers passed over are not skipped after all.
    if (sync != SyncPolicy::LatestOnly) return;
    next_seq = acquired_from;
    if (skipped_now != 0) {
        auto& skips = view.header().held_skips;
        skips.store(skips.load(std::memory_order_relaxed) - skipped_now, std::memory_order_relaxed);
        skipped_now = 0;
    }
    withdraw_claim();
}

void ProducerState::withdraw_claim() noexcept {
    // Safe to lower: the holds read at the last look still describe every sequence below the lower end (it
    // covers fewer), and a slot this acquisition marked busy and then emptied no longer holds its sequence,
    // which a reader checks after taking its hold.
    const std::uint64_t end = acquired_from + slot_count - 1;
    if (covered_end <= end) return;
    covered_end = end;
    view.header().reuse_claim.store(end, std::memory_order_seq_cst);
}

void ProducerState::close() noexcept {
    if (closed || !view.valid()) return;
    closed = true;
    auto& header = view.header();
    if (options.close_channel) {
        header.closed.store(1, std::memory_order_seq_cst);
        wake_waiters(header.readers_waiting, header.commit_futex);
    }
    std::uint64_t expected = lease_token;
    header.writer_lease.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
    if (options.close_channel && options.unlink_on_close && expected == lease_token) {
        (void)Segment::unlink(view.channel());
    }
}

}  // namespace detail

// ---- Producer -----------------------------------------------------------------------------------------

Result<Producer> Producer::create(const ChannelConfig& config, ProducerOptions options) {
    if (auto valid = validate(config); !valid) return valid.error();
    const layout::Geometry geometry = geometry_of(config);
    // Two rounds at most: the second follows the removal of a dead producer's incompatible segment.
    for (int round = 0; round < 2; ++round) {
        auto created = Segment::create(config.name, geometry.total_bytes(), config.mode);
        if (created) {
            return Producer(make_state(ChannelView::initialise(std::move(created.value()), config), options, false));
        }
        if (created.error().code != ErrorCode::AlreadyExists) return created.error();

        // Empty, or without a lease yet: either its creator died early, or it is still creating it.
        const auto file = Segment::stat(config.name);
        if (!file) {
            if (file.error().code == ErrorCode::NotFound) continue;  // removed meanwhile: create again
            return file.error();
        }
        if (file->size < sizeof(SegmentHeader)) {
            if (file->age_ns < CREATION_GRACE_NS) return being_created(config.name);
            (void)Segment::unlink(config.name);
            continue;
        }
        auto opened = Segment::open(config.name);
        if (!opened) {
            if (opened.error().code == ErrorCode::NotFound) continue;
            return opened.error();
        }
        const std::uint64_t lease =
            opened->size() >= sizeof(SegmentHeader)
                ? reinterpret_cast<const SegmentHeader*>(opened->data())->writer_lease.load(std::memory_order_acquire)
                : 0;
        if (lease == 0 && file->age_ns < CREATION_GRACE_NS) return being_created(config.name);
        if (liveness_of(lease) == Liveness::Alive) {
            return Error{ErrorCode::AlreadyExists, "channel '" + config.name + "' already has a live producer (pid " +
                                                       std::to_string(token_pid(lease)) +
                                                       "); stop it first, or use another channel name"};
        }
        auto attached = ChannelView::attach(std::move(opened.value()), {},
                                            static_cast<std::uint64_t>(options.ready_timeout.count()));
        if (attached) {
            const std::string difference = first_difference(attached.value(), config);
            if (difference.empty()) {
                auto taken = take_over(std::move(attached.value()), lease);
                if (!taken) return taken.error();
                return Producer(make_state(std::move(taken.value()), options, true));
            }
            close_orphan(attached.value());
        }
        // A dead producer's segment that is unusable or differs from config (reported by the header check
        // or by first_difference): replace it. Consumers still mapped to it were told it is closed.
        (void)Segment::unlink(config.name);
    }
    return Error{ErrorCode::AlreadyExists,
                 "channel '" + config.name + "': the segment keeps being re-created by another process"};
}

Result<Producer> Producer::adopt(const ChannelConfig& config, ProducerOptions options) {
    if (auto valid = validate(config); !valid) return valid.error();
    auto opened = Segment::open(config.name);
    if (!opened) return opened.error();
    auto attached =
        ChannelView::attach(std::move(opened.value()), {}, static_cast<std::uint64_t>(options.ready_timeout.count()));
    if (!attached) return attached.error();
    if (const std::string difference = first_difference(attached.value(), config); !difference.empty()) {
        return Error{ErrorCode::Incompatible, "channel '" + config.name + "': its segment's " + difference +
                                                  " differs from the configuration adopting it"};
    }
    const std::uint64_t lease = attached.value().header().writer_lease.load(std::memory_order_acquire);
    if (lease != 0 && liveness_of(lease) == Liveness::Alive) {
        return Error{ErrorCode::AlreadyExists, "channel '" + config.name + "' still has a live producer (pid " +
                                                   std::to_string(token_pid(lease)) + "); it was not handed over"};
    }
    auto taken = take_over(std::move(attached.value()), lease);
    if (!taken) return taken.error();
    return Producer(make_state(std::move(taken.value()), options, true));
}

void Producer::hand_over() noexcept {
    if (!state_ || state_->closed || !state_->view.valid()) return;
    state_->closed = true;  // close() must not close the channel nor remove its name now
    std::uint64_t expected = state_->lease_token;
    state_->view.header().writer_lease.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

Producer::Producer(std::unique_ptr<detail::ProducerState> state) noexcept : state_(std::move(state)) {}
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&& other) noexcept {
    if (this != &other) {
        close();
        state_ = std::move(other.state_);
    }
    return *this;
}
Producer::~Producer() {
    close();
}

WriteSlot Producer::acquire_write() noexcept {
    return state_->acquire(state_->options.wait);
}
WriteSlot Producer::acquire_write(WaitOptions wait) noexcept {
    return state_->acquire(wait);
}
WriteBurst Producer::acquire_burst(std::size_t max) noexcept {
    return state_->acquire_burst(max, state_->options.wait);
}
WriteBurst Producer::acquire_burst(std::size_t max, WaitOptions wait) noexcept {
    return state_->acquire_burst(max, wait);
}
FlexZone Producer::flex_zone() const noexcept {
    return FlexZone(&state_->view);
}

void Producer::heartbeat() noexcept {
    state_->view.header().producer_heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
}

void Producer::count_upstream_loss(std::uint64_t count) noexcept {
    // Rare, and a transport may count from a thread of its own: an atomic add.
    state_->view.header().upstream_lost.fetch_add(count, std::memory_order_relaxed);
}

void Producer::close() noexcept {
    if (state_) state_->close();
}

std::uint64_t Producer::next_sequence() const noexcept {
    return state_->next_seq;
}
bool Producer::took_over() const noexcept {
    return state_->took_over;
}
const ChannelView& Producer::view() const noexcept {
    return state_->view;
}

}  // namespace dhub::shm
