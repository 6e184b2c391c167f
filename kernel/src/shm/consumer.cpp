// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/consumer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "asymmetric_fence.hpp"
#include "dhub/base/clock.hpp"
#include "dhub/base/process_identity.hpp"
#include "dhub/shm/checksum.hpp"
#include "dhub/shm/consumer_table.hpp"
#include "waiting.hpp"

namespace dhub::shm {

namespace detail {

/// Cache-line aligned for the same reason as ProducerState: a consumer thread in the producer's process
/// must not share a line with it.
struct alignas(64) ConsumerState {
    ChannelView view;
    ConsumerOptions options;
    std::uint64_t owner_token = 0;
    std::uint32_t seat = 0;
    std::uint64_t cursor = 0;             ///< lossless: next sequence to read (local copy of the seat's cursor)
    std::uint64_t known_write_seq = 0;    ///< last write_seq seen: no shared read while below it
    std::uint64_t last_read_seq = ~0ULL;  ///< latest-only: newest sequence already handed out
    std::uint64_t reads = 0;
    SyncPolicy sync = SyncPolicy::SingleReader;
    bool verify = false;
    bool holds = false;  ///< ConsumerOptions::hold on a latest-only channel
    /// Delivery::Latest on a lossless channel: each read is copied out of the ring (the producer does not wait
    /// for this seat, so a slot may be reused while it is read).
    bool copies = false;
    std::vector<std::byte> copy_buffer;
    CopiedSlot copied;
    std::uint8_t copy_checksum[32] = {};  ///< the slot's checksum, copied with its bytes
    std::uint64_t first_unseen = 0;       ///< latest-only: the oldest sequence neither read nor counted as skipped
    bool slot_held = false;
    /// attach_to_seat: the seat is another process's, which keeps it when this consumer ends.
    bool borrowed = false;
    /// The producer was seen looking with fences (holds_fenced == 1): it does for the rest of its life, and a
    /// successor that takes over sees this reader counted and does from the start. No asymmetric fence needed.
    bool producer_fenced = false;

    layout::ConsumerEntry& entry() const noexcept { return view.consumer(seat); }

    ReadSlot acquire(const WaitOptions& wait) noexcept;
    ReadSlot acquire_lossless(const WaitOptions& wait) noexcept;
    ReadSlot acquire_latest(const WaitOptions& wait) noexcept;
    /// Copies slot seq out of the ring; false if it was reused meanwhile (the copy must be discarded).
    bool copy_out(std::uint64_t seq) noexcept;
    /// Latest-only: a read of seq skipped every sequence between the previous read and it.
    void count_skipped(std::uint64_t seq) noexcept;
    ReadBurst acquire_burst(std::size_t max, const WaitOptions& wait) noexcept;
    Status extend_burst(ReadBurst& burst, std::size_t max, const WaitOptions& wait) noexcept;
    Status release(std::uint64_t seq) noexcept { return release_burst(seq, 1); }
    Status release_burst(std::uint64_t first, std::size_t slots) noexcept;
    /// Lossless: Ok once the slot at cursor is committed (known_write_seq > cursor), or why not.
    Status wait_for_unread(const WaitOptions& wait) noexcept;
    std::uint32_t committed_bytes(std::uint64_t seq) const noexcept;
    /// A lossless slot that failed its checksum: counted and released unread.
    void skip_corrupt(std::uint64_t seq) noexcept;
    /// Waits until write_seq > after; Closed if the producer closed with nothing newer.
    Status wait_for_commit(std::uint64_t after, const WaitOptions& wait) noexcept;
    bool checksum_matches(std::uint64_t seq, std::uint32_t bytes) const noexcept;
    void beat() noexcept { entry().heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed); }
    /// Between storing a hold and reading the claim: nothing to do when the producer looks with fences;
    /// otherwise the asymmetric fence that orders its unfenced look against this hold. False if there was no
    /// way to order them (membarrier refused): the hold must not be trusted.
    bool order_hold_against_producer() noexcept;
    /// Polls holds_fenced until it is 1 (Ok), or the wait's timeout passes (Timeout) or the channel closes.
    Status wait_for_fenced_producer(const WaitOptions& wait) noexcept;
    void count(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) const noexcept {
        counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
};

Status ConsumerState::wait_for_commit(std::uint64_t after, const WaitOptions& wait) noexcept {
    auto& header = view.header();
    auto has_data = [&] {
        known_write_seq = header.write_seq.load(std::memory_order_seq_cst);
        return known_write_seq > after;
    };
    auto tick = [&](std::uint64_t now) {
        entry().heartbeat_ns.store(now, std::memory_order_relaxed);
        return header.closed.load(std::memory_order_acquire) != 0 && !has_data() ? Status::Closed : Status::Ok;
    };
    const Status waited = wait_for(has_data, header.readers_waiting, header.commit_futex, wait, tick);
    if (waited == Status::Timeout) count(entry().read_timeouts);
    return waited;
}

bool ConsumerState::checksum_matches(std::uint64_t seq, std::uint32_t bytes) const noexcept {
    const Digest digest = blake2b_256({view.slot_payload(seq), bytes});
    return std::memcmp(digest.data(), view.slot_header(seq).checksum, digest.size()) == 0;
}

Status ConsumerState::wait_for_fenced_producer(const WaitOptions& wait) noexcept {
    auto& header = view.header();
    const std::uint64_t deadline =
        wait.timeout == WAIT_FOREVER ? ~0ULL : monotonic_ns() + static_cast<std::uint64_t>(wait.timeout.count());
    while (header.holds_fenced.load(std::memory_order_seq_cst) == 0) {
        if (header.closed.load(std::memory_order_acquire) != 0) return Status::Closed;
        if (monotonic_ns() >= deadline) {
            count(entry().read_timeouts);
            return Status::Timeout;
        }
        ::usleep(100);  // only where membarrier is refused to this process but not to the producer's
    }
    producer_fenced = true;
    return Status::Ok;
}

bool ConsumerState::order_hold_against_producer() noexcept {
    if (!producer_fenced) producer_fenced = view.header().holds_fenced.load(std::memory_order_seq_cst) != 0;
    return producer_fenced || detail::asymmetric_fence();
}

ReadSlot ConsumerState::acquire(const WaitOptions& wait) noexcept {
    if (slot_held) return ReadSlot(Status::Invalid);
    if ((++reads & 63) == 0) beat();
    return sync == SyncPolicy::LatestOnly ? acquire_latest(wait) : acquire_lossless(wait);
}

Status ConsumerState::wait_for_unread(const WaitOptions& wait) noexcept {
    if (cursor < known_write_seq) return Status::Ok;  // no shared read while the last one says there is more
    known_write_seq = view.header().write_seq.load(std::memory_order_acquire);
    if (cursor < known_write_seq) return Status::Ok;
    return wait_for_commit(cursor, wait);
}

std::uint32_t ConsumerState::committed_bytes(std::uint64_t seq) const noexcept {
    // Clamped: a corrupted length must not let anyone read past the slot.
    return std::min(view.slot_header(seq).payload_bytes.load(std::memory_order_relaxed), view.slot_payload_bytes());
}

void ConsumerState::skip_corrupt(std::uint64_t seq) noexcept {
    // Never handed out as good data, and never allowed to wedge the channel: counted, then skipped.
    count(entry().checksum_failures);
    slot_held = true;
    release(seq);
}

ReadSlot ConsumerState::acquire_lossless(const WaitOptions& wait) noexcept {
    if (const Status waited = wait_for_unread(wait); waited != Status::Ok) return ReadSlot(waited);
    // The producer cannot reuse this slot before our cursor passes it, so no re-validation is needed.
    const std::uint64_t seq = cursor;
    const auto& slot = view.slot_header(seq);
    const std::uint32_t bytes = committed_bytes(seq);
    if (verify && !checksum_matches(seq, bytes)) {
        skip_corrupt(seq);
        return ReadSlot(Status::ChecksumMismatch, seq);
    }
    slot_held = true;
    return ReadSlot(this, view.slot_payload(seq), bytes, seq, slot.timestamp_ns.load(std::memory_order_relaxed));
}

ReadSlot ConsumerState::acquire_latest(const WaitOptions& wait) noexcept {
    auto& header = view.header();
    for (;;) {
        std::uint64_t newest = header.write_seq.load(std::memory_order_acquire);
        if (newest == 0 || newest - 1 == last_read_seq) {
            if (const Status waited = wait_for_commit(newest, wait); waited != Status::Ok) return ReadSlot(waited);
            newest = known_write_seq;
        }
        const std::uint64_t seq = newest - 1;
        const auto& slot = view.slot_header(seq);
        // Hold, then look (the producer's half is in producer.cpp, "Latest-only holds"): the hold is stored
        // before the claim is read, and the producer stores its claim before it reads the holds. Either it
        // sees this hold and never rewrites the slot while it is held, or this reader sees a claim that covers
        // the slot; and a slot already rewritten no longer holds seq.
        auto& hold = entry().held;
        bool claimed = false;
        if (holds) {
            __builtin_prefetch(&header.reuse_claim);  // fetched while the hold's locked store waits for its line
            hold.store(seq + 1, std::memory_order_seq_cst);
            if (!order_hold_against_producer()) {
                // No fence on either side: wait (bounded) for the producer's next look, which sees this
                // reader counted and fences from then on.
                hold.store(0, std::memory_order_release);
                if (const Status waited = wait_for_fenced_producer(wait); waited != Status::Ok) {
                    return ReadSlot(waited);
                }
                continue;
            }
            claimed = header.reuse_claim.load(std::memory_order_seq_cst) > seq + view.slot_count();
        }
        if (claimed || slot.seq.load(std::memory_order_acquire) != seq) {
            if (holds) hold.store(0, std::memory_order_release);
            // Being rewritten, reused already (the producer lapped us) or left empty by an abort: look again.
            count(entry().overwritten_retries);
            if (header.write_seq.load(std::memory_order_acquire) == newest) {
                last_read_seq = seq;  // nothing newer exists: wait for the next commit
            }
            continue;
        }
        if (copies) {
            if (!copy_out(seq)) {
                count(entry().overwritten_retries);
                continue;  // the producer reached the slot while it was copied: the newest is newer now
            }
            if (verify) {
                const Digest digest = blake2b_256({copied.data, copied.bytes});
                if (std::memcmp(digest.data(), copy_checksum, digest.size()) != 0) {
                    count(entry().checksum_failures);
                    last_read_seq = seq;
                    count_skipped(seq);  // the ones before it; it is counted as a checksum failure
                    return ReadSlot(Status::ChecksumMismatch, seq);
                }
            }
            slot_held = true;
            return ReadSlot(this, copied.data, copied.bytes, seq, copied.timestamp_ns);
        }
        const std::uint32_t bytes =
            std::min(slot.payload_bytes.load(std::memory_order_relaxed), view.slot_payload_bytes());
        const std::uint64_t timestamp = slot.timestamp_ns.load(std::memory_order_relaxed);
        if (verify && !checksum_matches(seq, bytes)) {
            if (!holds) {
                std::atomic_thread_fence(std::memory_order_acquire);
                if (slot.seq.load(std::memory_order_relaxed) != seq) continue;  // torn by reuse, not corrupt
            }
            if (holds) hold.store(0, std::memory_order_release);  // held: not torn by reuse, so it is corrupt
            count(entry().checksum_failures);
            last_read_seq = seq;
            count_skipped(seq);
            return ReadSlot(Status::ChecksumMismatch, seq);
        }
        slot_held = true;
        return ReadSlot(this, view.slot_payload(seq), bytes, seq, timestamp);
    }
}

// Not inlined, so that its name can mark it in tests/tsan.supp: a seqlock read races with the producer by design,
// and what it copied is used only once the second look at the slot's sequence says nothing changed.
__attribute__((noinline)) bool ConsumerState::copy_out(std::uint64_t seq) noexcept {
    const auto& slot = view.slot_header(seq);
    copied.bytes = std::min(slot.payload_bytes.load(std::memory_order_relaxed), view.slot_payload_bytes());
    copied.timestamp_ns = slot.timestamp_ns.load(std::memory_order_relaxed);
    std::memcpy(copy_buffer.data(), view.slot_payload(seq), copied.bytes);
    if (verify) std::memcpy(copy_checksum, slot.checksum, sizeof copy_checksum);
    copied.data = copy_buffer.data();
    // The producer marks a slot busy (with a release fence) before it changes any byte of it: if the sequence
    // still reads seq after everything was copied, nothing copied was written meanwhile.
    std::atomic_thread_fence(std::memory_order_acquire);
    return slot.seq.load(std::memory_order_relaxed) == seq;
}

void ConsumerState::count_skipped(std::uint64_t seq) noexcept {
    if (seq < first_unseen) return;  // read before, or committed before this reader joined
    if (seq > first_unseen) count(entry().skipped, seq - first_unseen);
    first_unseen = seq + 1;
    // Never read by the producer of a latest reader's seat; it shows `dhub-shm inspect` how far behind it is.
    entry().cursor.store(first_unseen, std::memory_order_relaxed);
}

ReadBurst ConsumerState::acquire_burst(std::size_t max, const WaitOptions& wait) noexcept {
    if (slot_held || max == 0) return ReadBurst(Status::Invalid);
    if (sync == SyncPolicy::LatestOnly) {
        // The newest slot alone: a latest-only reader never owns more than what it is reading.
        ReadSlot newest = acquire(wait);
        if (!newest) return ReadBurst(newest.status(), newest.sequence());
        newest.state_ = nullptr;  // the burst takes the hold over
        return ReadBurst(this, &view, copies ? &copied : nullptr, newest.sequence(), 1);
    }
    if ((++reads & 63) == 0) beat();
    if (const Status waited = wait_for_unread(wait); waited != Status::Ok) return ReadBurst(waited);
    std::uint64_t held = std::min<std::uint64_t>(max, known_write_seq - cursor);
    if (verify) {
        for (std::uint64_t i = 0; i < held; ++i) {
            const std::uint64_t seq = cursor + i;
            if (checksum_matches(seq, committed_bytes(seq))) continue;
            if (i != 0) {  // the good ones first; the bad one leads the next burst and is reported there
                held = i;
                break;
            }
            skip_corrupt(seq);
            return ReadBurst(Status::ChecksumMismatch, seq);
        }
    }
    slot_held = true;
    return ReadBurst(this, &view, nullptr, cursor, static_cast<std::size_t>(held));
}

Status ConsumerState::extend_burst(ReadBurst& burst, std::size_t max, const WaitOptions& wait) noexcept {
    if (burst.state_ != this || !slot_held || sync == SyncPolicy::LatestOnly || max == 0) return Status::Invalid;
    if ((++reads & 63) == 0) beat();
    const std::uint64_t end = burst.first_ + burst.size_;         // the first slot not in the burst
    if (end >= known_write_seq || known_write_seq - end < max) {  // take all there is, up to max: look again
        known_write_seq = view.header().write_seq.load(std::memory_order_acquire);
        if (end == known_write_seq) {
            if (const Status waited = wait_for_commit(end, wait); waited != Status::Ok) return waited;
        }
    }
    std::uint64_t fresh = std::min<std::uint64_t>(max, known_write_seq - end);
    if (verify) {
        for (std::uint64_t i = 0; i < fresh; ++i) {
            if (checksum_matches(end + i, committed_bytes(end + i))) continue;
            if (i == 0) return Status::ChecksumMismatch;  // skipped once it leads a burst (acquire_burst)
            fresh = i;
            break;
        }
    }
    burst.size_ += static_cast<std::size_t>(fresh);
    return Status::Ok;
}

Status ConsumerState::release_burst(std::uint64_t first, std::size_t slots) noexcept {
    slot_held = false;
    auto& header = view.header();
    if (sync == SyncPolicy::LatestOnly) {
        last_read_seq = first;
        if (copies) {
            count_skipped(first);
            count(entry().reads);
            return Status::Ok;  // the copy was whole when it was taken, and the ring cannot change it
        }
        // A tripwire, not the protection (that is the hold): everything read from the slot is complete
        // before this second look at its sequence, which must still be the one read.
        std::atomic_thread_fence(std::memory_order_acquire);
        const bool intact = view.slot_header(first).seq.load(std::memory_order_relaxed) == first;
        layout::ConsumerEntry& seat_entry = entry();
        if (holds) {
            seat_entry.held.store(0, std::memory_order_release);
            // A producer that found every slot held sleeps until a release (it also looks again every
            // HOLD_SLEEP_SLICE_NS, since this check is not a seq_cst handshake).
            if (header.writer_waiting.load(std::memory_order_relaxed) != 0)
                wake_waiters(header.writer_waiting, header.space_futex);
        }
        if (!intact) {
            count(seat_entry.overwritten_releases);
            return Status::Overwritten;
        }
        count_skipped(first);
        count(seat_entry.reads);
        return Status::Ok;
    }
    cursor = first + slots;
    // seq_cst: pairs with the producer's seq_cst read of the cursor and its writer_waiting handshake.
    entry().cursor.store(cursor, std::memory_order_seq_cst);
    // A sleeping producer is only woken by a consumer that reaches the cursor it asked for. The
    // wake cursor was stored before writer_waiting was set, so it is visible once that is seen.
    if (header.writer_waiting.load(std::memory_order_seq_cst) != 0 &&
        cursor >= header.writer_wake_cursor.load(std::memory_order_relaxed)) {
        wake_waiters(header.writer_waiting, header.space_futex);
    }
    count(entry().reads, slots);
    return Status::Ok;
}

}  // namespace detail

// ---- ReadSlot ----------------------------------------------------------------------------------------

ReadSlot& ReadSlot::operator=(ReadSlot&& other) noexcept {
    if (this != &other) {
        (void)release();
        state_ = std::exchange(other.state_, nullptr);
        data_ = other.data_;
        bytes_ = other.bytes_;
        sequence_ = other.sequence_;
        timestamp_ns_ = other.timestamp_ns_;
        status_ = std::exchange(other.status_, Status::Invalid);
    }
    return *this;
}

Status ReadSlot::release() noexcept {
    if (state_ == nullptr) return status_ == Status::Ok ? Status::Invalid : status_;
    const Status released = state_->release(sequence_);
    state_ = nullptr;
    status_ = Status::Invalid;
    return released;
}

// ---- ReadBurst ---------------------------------------------------------------------------------------

ReadBurst& ReadBurst::operator=(ReadBurst&& other) noexcept {
    if (this != &other) {
        (void)release();
        state_ = std::exchange(other.state_, nullptr);
        view_ = other.view_;
        copy_ = other.copy_;
        first_ = other.first_;
        size_ = std::exchange(other.size_, 0);
        status_ = std::exchange(other.status_, Status::Invalid);
    }
    return *this;
}

Status ReadBurst::release() noexcept {
    if (state_ == nullptr) return status_ == Status::Ok ? Status::Invalid : status_;
    const Status released = state_->release_burst(first_, size_);
    state_ = nullptr;
    size_ = 0;
    status_ = Status::Invalid;
    return released;
}

Status ReadBurst::release(std::size_t count) noexcept {
    if (count >= size_) return release();
    if (state_ == nullptr) return status_ == Status::Ok ? Status::Invalid : status_;
    // Latest-only bursts are one slot: a count below it still hands the slot back (release_burst ignores it).
    const Status released = state_->release_burst(first_, count);
    state_ = nullptr;
    size_ = 0;
    status_ = Status::Invalid;
    return released;
}

Status ReadBurst::release_front(std::size_t count) noexcept {
    if (count >= size_) return release();
    if (state_ == nullptr) return status_ == Status::Ok ? Status::Invalid : status_;
    if (count == 0) return Status::Ok;  // (a latest-only burst is one slot: a count below it keeps it)
    const Status released = state_->release_burst(first_, count);
    state_->slot_held = true;  // the rest stays held: the cursor passed only the first `count`
    first_ += count;
    size_ -= count;
    return released;
}

// ---- Consumer -----------------------------------------------------------------------------------------

namespace {

/// A channel created with an attach secret admits only consumers that present it (compared as hashes, in
/// constant time). The error does not say how close a guess was.
VoidResult check_attach_secret(const ChannelView& view, const std::string& secret) {
    const auto& stored = view.header().attach_tag;
    const bool required = std::any_of(std::begin(stored), std::end(stored), [](std::uint8_t b) { return b != 0; });
    if (!required) return Ok{};
    if (secret.empty()) {
        return Error{ErrorCode::PermissionDenied,
                     "channel '" + view.channel() +
                         "' requires an attach secret; get it by discovering the channel through the broker"};
    }
    if (!digests_equal(attach_tag_of(secret), stored)) {
        return Error{ErrorCode::PermissionDenied,
                     "channel '" + view.channel() +
                         "': wrong attach secret (the producer may have restarted with a new one; discover the "
                         "channel again)"};
    }
    return Ok{};
}

}  // namespace

namespace {

Result<ChannelView> open_channel(std::string_view channel, const ConsumerOptions& options) {
    if (auto named = validate_channel_name(channel); !named) return named.error();
    auto segment = Segment::open(channel);
    if (!segment) return segment.error();
    auto view = ChannelView::attach(std::move(segment.value()), options.expect,
                                    static_cast<std::uint64_t>(options.ready_timeout.count()));
    if (!view) return view.error();
    if (auto allowed = check_attach_secret(view.value(), options.attach_secret); !allowed) return allowed.error();
    return view;
}

/// The reading state of a seat already claimed; copy_buffer allocated by the caller before the claim.
std::unique_ptr<detail::ConsumerState> seated_state(ChannelView view,
                                                    ConsumerOptions options,
                                                    std::uint32_t seat,
                                                    std::uint64_t owner_token,
                                                    std::vector<std::byte> copy_buffer) {
    const bool native_latest = view.sync() == SyncPolicy::LatestOnly;
    const bool copies = options.delivery == Delivery::Latest && !native_latest;
    auto state = std::make_unique<detail::ConsumerState>();
    state->view = std::move(view);
    state->holds = options.hold && native_latest;
    state->options = std::move(options);
    state->owner_token = owner_token;
    state->seat = seat;
    state->sync = copies ? SyncPolicy::LatestOnly : state->view.sync();
    state->verify = state->view.checksum() == ChecksumPolicy::Verify;
    state->copies = copies;
    state->copy_buffer = std::move(copy_buffer);
    state->cursor = state->entry().cursor.load(std::memory_order_acquire);
    state->first_unseen = state->cursor;
    return state;
}

}  // namespace

Result<Consumer> Consumer::attach(std::string_view channel, ConsumerOptions options) {
    auto view = open_channel(channel, options);
    if (!view) return view.error();
    const bool native_latest = view.value().sync() == SyncPolicy::LatestOnly;
    const bool holds = options.hold && native_latest;
    const bool copies = options.delivery == Delivery::Latest && !native_latest;
    // Before the seat is claimed: an allocation that fails must not leave a seat behind.
    std::vector<std::byte> copy_buffer(copies ? view.value().slot_payload_bytes() : 0);
    auto seat =
        claim_seat(view.value(), options.name, (holds ? layout::SEAT_HOLDS : 0u) | (copies ? layout::SEAT_LATEST : 0u));
    if (!seat) return seat.error();
    return Consumer(seated_state(std::move(view.value()), std::move(options), seat.value(),
                                 ProcessIdentity::self().token(), std::move(copy_buffer)));
}

Result<Consumer> Consumer::attach_to_seat(std::string_view channel,
                                          std::uint32_t seat,
                                          std::uint64_t owner_token,
                                          ConsumerOptions options) {
    auto view = open_channel(channel, options);
    if (!view) return view.error();
    const std::string where = "channel '" + std::string(channel) + "' seat " + std::to_string(seat);
    if (seat >= view.value().consumer_capacity()) {
        return Error{ErrorCode::InvalidArgument,
                     where + ": the channel has " + std::to_string(view.value().consumer_capacity()) + " seats"};
    }
    const layout::ConsumerEntry& entry = view.value().consumer(seat);
    if (entry.owner.load(std::memory_order_acquire) != owner_token ||
        entry.state.load(std::memory_order_acquire) != layout::CONSUMER_ACTIVE) {
        return Error{ErrorCode::NotFound, where + " is not an active seat of the process that was to lend it"};
    }
    if (liveness_of(owner_token) != Liveness::Alive) {
        return Error{ErrorCode::NotFound, where + ": the process that holds it (pid " +
                                              std::to_string(token_pid(owner_token)) + ") is gone"};
    }
    const std::uint32_t flags = entry.flags.load(std::memory_order_acquire);
    const bool copies = options.delivery == Delivery::Latest && view.value().sync() != SyncPolicy::LatestOnly;
    if (((flags & layout::SEAT_LATEST) != 0) != copies) {
        return Error{ErrorCode::InvalidArgument, where + " was claimed with another delivery"};
    }
    std::vector<std::byte> copy_buffer(copies ? view.value().slot_payload_bytes() : 0);
    auto state = seated_state(std::move(view.value()), std::move(options), seat, owner_token, std::move(copy_buffer));
    state->borrowed = true;
    // A predecessor that died reading a latest-only slot left its hold: it is not read any more.
    state->entry().held.store(0, std::memory_order_release);
    return Consumer(std::move(state));
}

Consumer::Consumer(std::unique_ptr<detail::ConsumerState> state) noexcept : state_(std::move(state)) {}
Consumer::Consumer(Consumer&&) noexcept = default;
Consumer& Consumer::operator=(Consumer&& other) noexcept {
    if (this != &other) {
        if (state_ && !state_->borrowed) release_seat(state_->view, state_->seat, state_->owner_token);
        state_ = std::move(other.state_);
    }
    return *this;
}
Consumer::~Consumer() {
    if (state_ && !state_->borrowed) release_seat(state_->view, state_->seat, state_->owner_token);
}

ReadSlot Consumer::acquire_read() noexcept {
    return state_->acquire(state_->options.wait);
}
ReadSlot Consumer::acquire_read(WaitOptions wait) noexcept {
    return state_->acquire(wait);
}
ReadBurst Consumer::acquire_burst(std::size_t max) noexcept {
    return state_->acquire_burst(max, state_->options.wait);
}
ReadBurst Consumer::acquire_burst(std::size_t max, WaitOptions wait) noexcept {
    return state_->acquire_burst(max, wait);
}
Status Consumer::extend_burst(ReadBurst& burst, std::size_t max, WaitOptions wait) noexcept {
    return state_->extend_burst(burst, max, wait);
}
FlexZone Consumer::flex_zone() const noexcept {
    return FlexZone(&state_->view);
}

bool Consumer::producer_alive() const noexcept {
    return liveness_of(state_->view.header().writer_lease.load(std::memory_order_acquire)) == Liveness::Alive;
}

bool Consumer::latest_only() const noexcept {
    return state_->sync == SyncPolicy::LatestOnly;
}

std::uint64_t Consumer::skipped() const noexcept {
    return state_->entry().skipped.load(std::memory_order_relaxed);
}

std::uint64_t Consumer::next_sequence() const noexcept {
    return state_->sync == SyncPolicy::LatestOnly ? state_->last_read_seq + 1 : state_->cursor;
}

std::uint64_t Consumer::backlog() const noexcept {
    const std::uint64_t written = state_->view.header().write_seq.load(std::memory_order_acquire);
    if (state_->sync == SyncPolicy::LatestOnly) return written != 0 && written - 1 != state_->last_read_seq ? 1 : 0;
    return written - state_->cursor;
}

Status Consumer::wait_for_backlog_above(std::uint64_t slots, WaitOptions wait) noexcept {
    if (state_->sync == SyncPolicy::LatestOnly || state_->slot_held) return Status::Invalid;
    return state_->wait_for_commit(state_->cursor + slots, wait);
}

std::uint32_t Consumer::seat() const noexcept {
    return state_->seat;
}
void Consumer::heartbeat() noexcept {
    state_->beat();
}
const ChannelView& Consumer::view() const noexcept {
    return state_->view;
}

}  // namespace dhub::shm
