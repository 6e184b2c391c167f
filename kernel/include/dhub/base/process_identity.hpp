// SPDX-License-Identifier: Apache-2.0
// Who owns a slot, a lease or a consumer seat. A bare pid is not enough: pids are reused, and processes
// that share /dev/shm may live in different pid namespaces (containers), where the same number names
// another process or none. So an identity is the pid, the process start time (clock ticks since boot, from
// /proc/<pid>/stat) and a tag of the pid namespace, packed into one 64-bit word so it can be
// compare-and-swapped in shared memory.
#pragma once

#include <cstdint>
#include <optional>

namespace dhub {

/// Token bits: [0, 22) pid (Linux's PID_MAX_LIMIT is 2^22), bit 22 free for markers that must never look
/// like a token (the consumer table's "evicting"), [23, 40) pid namespace tag, [40, 64) start time.
namespace token_bits {
inline constexpr unsigned PID_BITS = 22;
inline constexpr std::uint64_t MARKER_BIT = 1ULL << PID_BITS;
inline constexpr unsigned NAMESPACE_SHIFT = 23;
inline constexpr unsigned NAMESPACE_BITS = 17;
inline constexpr unsigned START_SHIFT = NAMESPACE_SHIFT + NAMESPACE_BITS;
inline constexpr unsigned START_BITS = 64 - START_SHIFT;
}  // namespace token_bits

struct ProcessIdentity {
    std::uint32_t pid = 0;
    std::uint64_t start_ticks = 0;  ///< field 22 of /proc/<pid>/stat
    /// Low bits of the inode of the process's pid namespace (/proc/self/ns/pid), never 0 when known; 0 when
    /// unknown. Namespace inodes are numbered in sequence, so two namespaces of one host share a tag only if
    /// 2^17 were made between them.
    std::uint32_t pid_namespace = 0;

    /// The identity of the calling process (cached after the first call; refreshed after fork()).
    static ProcessIdentity self();
    /// Reads /proc/<pid>/stat of a process in the caller's pid namespace; nullopt if the process does not
    /// exist (or is a zombie).
    static std::optional<ProcessIdentity> of(std::uint32_t pid);

    /// Packed as token_bits says; the start time is kept modulo 2^24 ticks (46 hours at 100 Hz): a pid
    /// reused by a process started a whole multiple of that later, to the tick, would pass for the first.
    std::uint64_t token() const noexcept {
        using namespace token_bits;
        const std::uint64_t start = start_ticks & ((1ULL << START_BITS) - 1);
        const std::uint64_t space = pid_namespace & ((1ULL << NAMESPACE_BITS) - 1);
        return (start << START_SHIFT) | (space << NAMESPACE_SHIFT) | (pid & ((1ULL << PID_BITS) - 1));
    }
};

inline std::uint32_t token_pid(std::uint64_t token) noexcept {
    return static_cast<std::uint32_t>(token & ((1ULL << token_bits::PID_BITS) - 1));
}

inline std::uint32_t token_pid_namespace(std::uint64_t token) noexcept {
    using namespace token_bits;
    return static_cast<std::uint32_t>((token >> NAMESPACE_SHIFT) & ((1ULL << NAMESPACE_BITS) - 1));
}

enum class Liveness { Alive, Dead };

/// Dead if no such pid, if it is a zombie, or if the pid now belongs to a process that started at another
/// time (pid reuse). A token of 0 is Dead. When this process cannot tell (the token's pid namespace is not
/// ours, or /proc does not show the pid), Alive: the cautious answer, since declaring a live owner dead
/// would hand its slots to others while it still reads them.
Liveness liveness_of(std::uint64_t token) noexcept;

}  // namespace dhub
