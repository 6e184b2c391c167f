// SPDX-License-Identifier: Apache-2.0
// Private state of a Producer. Lives on the heap so WriteSlot can point at it while the Producer moves.
#pragma once

#include <cstdint>

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

    WriteSlot acquire(const WaitOptions& wait) noexcept;
    WriteBurst acquire_burst(std::size_t max, const WaitOptions& wait) noexcept;
    Status commit_burst(std::uint64_t first, std::size_t held, std::size_t count) noexcept;
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

    /// Smallest cursor among the consumers the producer must not overtake (next_seq when none).
    std::uint64_t scan_oldest_unread() const noexcept;
    Status wait_for_space(const WaitOptions& wait) noexcept;
};

}  // namespace dhub::shm::detail
