// SPDX-License-Identifier: Apache-2.0
// The consumer table in a segment: claiming a seat, leaving it, finding the slowest reader and evicting
// seats whose process died. Shared by Producer, Consumer and the recovery tools.
//
// A seat's owner word arbitrates everything: 0 = free, an evicting mark while someone clears it, else the
// owner's ProcessIdentity token. Only the process that won the compare-and-swap on owner touches
// state/cursor. The evicting mark names the evictor, so an eviction whose evictor died half-way is finished
// by the next one instead of leaving the seat (and the slot it held) taken for ever.
#pragma once

#include <cstdint>
#include <string_view>

#include "dhub/base/process_identity.hpp"
#include "dhub/base/result.hpp"
#include "dhub/shm/channel_view.hpp"

namespace dhub::shm {

/// The owner word of a seat being cleared by the process whose token is `evictor` (never a valid token: it
/// has the token's marker bit set).
constexpr std::uint64_t seat_evicting_mark(std::uint64_t evictor) noexcept {
    return evictor | token_bits::MARKER_BIT;
}
constexpr bool seat_is_evicting(std::uint64_t owner) noexcept {
    return (owner & token_bits::MARKER_BIT) != 0;
}
constexpr std::uint64_t seat_evictor(std::uint64_t owner) noexcept {
    return owner & ~token_bits::MARKER_BIT;
}

/// Claims a free seat for the calling process (evicting dead owners if the table is full) and makes it
/// active. The cursor starts at the newest slot, except for a single-reader channel's reader (seat 0), which
/// keeps the cursor of the previous reader. `flags` (layout::SEAT_*), set before the seat becomes active:
/// SEAT_HOLDS, the seat will hold the latest-only slots it reads (counted in the header's holding_readers);
/// SEAT_LATEST, a latest-only reader of a lossless channel (never seat 0 of a single-reader channel).
Result<std::uint32_t> claim_seat(const ChannelView& view, std::string_view name, std::uint32_t flags = 0);

/// Whether the producer of a lossless channel waits for this seat's cursor (an active seat that is not a
/// latest reader). Reads the flags before the state: a seat evicted meanwhile shows FREE, and one claimed
/// meanwhile has a fresh cursor (docs/shm-layout.md, "latest readers of lossless channels").
bool seat_holds_back_producer(const layout::ConsumerEntry& entry) noexcept;

/// Deactivates and frees the seat (if the caller still owns it) and wakes a producer waiting for space.
void release_seat(const ChannelView& view, std::uint32_t seat, std::uint64_t owner_token) noexcept;

/// Minimum cursor over the seats the producer waits for (seat_holds_back_producer), or if_none when there is none.
std::uint64_t oldest_active_cursor(const ChannelView& view, std::uint64_t if_none) noexcept;

/// Frees every seat whose owner process is dead, and finishes evictions whose evictor died. Returns how many
/// seats were freed.
std::uint32_t evict_dead_consumers(const ChannelView& view) noexcept;

}  // namespace dhub::shm
