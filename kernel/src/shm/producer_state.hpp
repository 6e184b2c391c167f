// SPDX-License-Identifier: Apache-2.0
// Private state of a Producer. Lives on the heap so WriteSlot can point at it while the Producer moves.
#pragma once

#include <cstdint>
#include <vector>

#include "dhub/shm/channel_view.hpp"
#include "dhub/shm/producer.hpp"

namespace dhub::shm::detail {

/// Cache-line aligned (and so padded to whole lines): the producer's hot locals must never share a line
/// with a consumer's in the same process, or every commit would bounce it between cores.
struct alignas(64) ProducerState {
    ChannelView view;
    ProducerOptions options;
    std::uint64_t lease_token = 0;
    std::uint64_t next_seq = 0;         ///< local copy of header.write_seq (this process is its only writer)
    std::uint64_t oldest_unread = 0;    ///< cached lower bound of the slowest consumer's cursor
    std::uint64_t bytes_committed = 0;  ///< local copy of the shared counter, stored without an RMW
    std::uint64_t liveness_checked_ns = 0;
    std::uint32_t slot_count = 0;
    std::uint32_t slot_bytes = 0;
    SyncPolicy sync = SyncPolicy::SingleReader;
    bool checksums = false;
    bool slot_outstanding = false;
    bool took_over = false;
    bool closed = false;
    // Latest-only holds (producer.cpp, "Latest-only holds"):
    std::uint64_t acquired_from = 0;  ///< next_seq before the current acquisition passed over held slots
    std::uint64_t covered_end = 0;    ///< the last look's claim: sequences below it may be written
    std::uint64_t skips_since_eviction_check = 0;
    std::uint64_t skipped_now = 0;          ///< sequences the current acquisition passed over (counted in held_skips)
    std::vector<std::uint32_t> held_slots;  ///< ring indices the readers held at the last look
    bool holding_readers_seen = true;       ///< the last look found holding readers counted
    /// Looks store the claim and read the holds with fences. False until a holding reader is counted (then
    /// readers fence for us, asymmetrically), and for good after that; true from the start where membarrier is
    /// unavailable.
    bool looks_fenced = true;

    WriteSlot acquire(const WaitOptions& wait) noexcept;
    WriteBurst acquire_burst(std::size_t max, const WaitOptions& wait) noexcept;
    /// now_ns: the caller's CLOCK_MONOTONIC reading, 0 to read it here.
    Status commit_burst(std::uint64_t first, std::size_t held, std::size_t count, std::uint64_t now_ns) noexcept;
    void abort_burst(std::uint64_t first, std::size_t held) noexcept;
    Status commit(std::uint64_t seq, std::size_t bytes, std::uint64_t timestamp_ns, std::uint64_t now_ns) noexcept;
    void abort(std::uint64_t seq) noexcept;
    void close() noexcept;

    /// Checks that a slot may be acquired and waits for space: Ok, or why not. Afterwards at least one slot
    /// is free (next_seq - oldest_unread < slot_count).
    Status ready_to_acquire(const WaitOptions& wait) noexcept;
    /// Marks slots [next_seq, next_seq + count) busy (the seqlock's writer side) before any byte changes.
    void mark_busy(std::size_t count) noexcept;
    /// Makes everything committed so far visible: write_seq, heartbeat, wake-up of sleeping readers.
    void publish(std::uint64_t now_ns) noexcept;

    /// Latest-only: moves next_seq past slots a reader holds and returns how many consecutive slots from
    /// there (at most `wanted`) no reader holds; waits while every slot is held. Ok or why not.
    Status claim_unheld(std::uint64_t wanted, const WaitOptions& wait, std::uint64_t& count) noexcept;
    /// Claims the sequences below max(end, next_seq + N - 1) (seq_cst), then reads the holds of every seat
    /// in use.
    void look_at_holds(std::uint64_t end) noexcept;
    /// A look without fences, while no holding reader was seen: claims the sequences below
    /// max(end, next_seq + N - 1) and reads holding_readers. True if it was 0 (the look is done); false after
    /// switching to fenced looks, with nothing covered (the caller must look again, fenced). Inline: the
    /// producer's hot path.
    bool look_unfenced(std::uint64_t end) noexcept {
        auto& header = view.header();
        covered_end = end > next_seq + slot_count - 1 ? end : next_seq + slot_count - 1;
        header.reuse_claim.store(covered_end, std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);  // the compiler must not swap these two
        if (header.holding_readers.load(std::memory_order_relaxed) == 0) return true;
        fence_looks();
        covered_end = next_seq;  // nothing is covered until the fenced look
        return false;
    }
    /// At creation and takeover: looks go without fences if this process can be fenced by others.
    void choose_how_to_look() noexcept;
    /// From now on every look is fenced (header.holds_fenced = 1).
    void fence_looks() noexcept;
    bool held(std::uint64_t seq) const noexcept;
    std::uint32_t seats_to_look_at() const noexcept;
    Status wait_for_a_release(const WaitOptions& wait) noexcept;
    /// An acquisition that published nothing: the passed-over sequence numbers are given back, and so is
    /// what its claim covered beyond the newest published slot.
    void give_back_skips() noexcept;
    /// Lowers a claim raised past the newest published slot (after passing over held slots) to the one a look
    /// from acquired_from makes, so readers may hold the newest slot again while nothing is written.
    void withdraw_claim() noexcept;

    /// Smallest cursor among the consumers the producer must not overtake (next_seq when none).
    std::uint64_t scan_oldest_unread() const noexcept;
    Status wait_for_space(const WaitOptions& wait) noexcept;
};

}  // namespace dhub::shm::detail
