// SPDX-License-Identifier: Apache-2.0
// An asymmetric fence between processes (Linux membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED): the frequent
// side of a Dekker handshake uses no fence at all, the rare side pays a system call that makes every thread of
// every registered process execute a full barrier. A latest-only producer without holding readers looks at
// the holds this way (producer.cpp, "Latest-only holds").
#pragma once

namespace dhub::shm::detail {

/// Registers this process as a target of other processes' fences (once per process; later calls return the
/// first answer). False where membarrier is unavailable (kernel < 4.16, seccomp): the caller must then use
/// ordinary fences on its side.
bool register_for_asymmetric_fences() noexcept;

/// Makes every thread of every registered process pass a full memory barrier before it returns. False if the
/// system call failed: nothing is ordered, the caller must not rely on it.
bool asymmetric_fence() noexcept;

}  // namespace dhub::shm::detail
