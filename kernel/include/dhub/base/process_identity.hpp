// SPDX-License-Identifier: Apache-2.0
// Who owns a slot, a lease or a consumer seat. A bare pid is not enough: pids are reused, so an identity
// is the pid plus the process start time (clock ticks since boot, from /proc/<pid>/stat). Packed into one
// 64-bit word so it can be compare-and-swapped in shared memory.
#pragma once

#include <cstdint>
#include <optional>

namespace dhub {

struct ProcessIdentity {
    std::uint32_t pid = 0;
    std::uint64_t start_ticks = 0;  ///< field 22 of /proc/<pid>/stat

    /// The identity of the calling process (cached after the first call; refreshed after fork()).
    static ProcessIdentity self();
    /// Reads /proc/<pid>/stat; nullopt if the process does not exist (or is a zombie).
    static std::optional<ProcessIdentity> of(std::uint32_t pid);

    /// pid in the low 32 bits, the low 32 bits of the start time above. 0 means "nobody".
    std::uint64_t token() const noexcept {
        return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(start_ticks)) << 32) | pid;
    }
};

inline std::uint32_t token_pid(std::uint64_t token) noexcept {
    return static_cast<std::uint32_t>(token);
}

enum class Liveness { Alive, Dead };

/// Dead if no such pid, if it is a zombie, or if the pid now belongs to a process that started at another
/// time (pid reuse). A token of 0 is Dead. When /proc cannot tell (another pid namespace), Alive: the
/// cautious answer, since declaring a live owner dead would corrupt its data.
Liveness liveness_of(std::uint64_t token) noexcept;

}  // namespace dhub
