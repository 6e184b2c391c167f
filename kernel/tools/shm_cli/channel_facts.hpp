// SPDX-License-Identifier: Apache-2.0
// Values derived from a ChannelInfo that the text and the JSON output must agree on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dhub/shm/inspect.hpp"

namespace dhub::tools {

/// "busy", "empty" or "committed".
const char* slot_state(const shm::SlotInfo& slot) noexcept;

/// Slots the consumer has not read yet: write_seq - cursor. Only meaningful for lossless policies
/// (latest-only readers have no backlog), so nullopt there.
std::optional<std::uint64_t> consumer_lag(const shm::ChannelInfo& info, const shm::ConsumerInfo& consumer) noexcept;

/// Occupied seats whose process is alive.
std::uint32_t live_consumer_count(const shm::ChannelInfo& info) noexcept;

/// "2024-05-01T12:34:56.789Z" (UTC, millisecond precision); "unknown" for 0.
std::string iso8601_utc(std::uint64_t realtime_ns);

/// Permission bits as the four octal digits ls and chmod use, e.g. "0600".
std::string octal_mode(std::uint32_t mode);

}  // namespace dhub::tools
