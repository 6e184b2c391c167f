// SPDX-License-Identifier: Apache-2.0
// Waiting on several channels at once, for a node with several inputs (a correlator waits for whichever of
// its camera and detector commits first). The same handshake as one consumer's wait (src/shm/waiting.hpp),
// registered on every channel, and one sleep on all their commit futexes together (futex_waitv).
#pragma once

#include <cstddef>
#include <span>

#include "dhub/shm/channel_config.hpp"
#include "dhub/shm/consumer.hpp"
#include "dhub/shm/status.hpp"

namespace dhub::shm {

/// Whether the consumer has a slot to read now, or its channel is closed (acquire_read then says Closed).
bool readable_now(const Consumer& consumer) noexcept;

/// Waits until one of the consumers is readable_now: Ok, or Timeout once wait.timeout passes (spinning for
/// wait.spin first). Sleeps on every channel's commit futex at once; a kernel without futex_waitv (before
/// Linux 5.16) sleeps in 1 ms slices instead. Heartbeats every consumer while it sleeps. Null entries are
/// skipped; with none left it returns Timeout at the deadline.
Status wait_any(std::span<Consumer* const> consumers, const WaitOptions& wait) noexcept;

}  // namespace dhub::shm
