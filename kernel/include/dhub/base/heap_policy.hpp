// SPDX-License-Identifier: Apache-2.0
// dhub-kernel and dhub-node-host keep the heap they free for reuse instead of handing it back to the OS after
// every burst.
//
// Why: with glibc's defaults a free that leaves more than a few MiB at the top of a heap gives those pages back
// (madvise), and the next allocation faults them in again, zeroed. ZeroMQ allocates a fresh buffer for every
// large message it receives, and a zmq_receive node has up to its credits of them in flight, so a 1 MiB stream
// paid about 80 page faults per slot: a fifth of the bridge's rate (docs/kernel.md, "Memory").
#pragma once

#include <cstddef>
#include <string>

namespace dhub {

/// Allocations below this size come from the heap, not from a mapping of their own. It is glibc's own ceiling
/// for its adaptive threshold (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit), so a large chunk is reused as glibc would
/// reuse it once it had adapted, without the adaptation that setting the trim threshold turns off.
inline constexpr std::size_t KEPT_HEAP_MMAP_THRESHOLD = std::size_t{32} << 20;
/// The main heap gives back freed memory at its top only beyond this. A thread's heap (where ZeroMQ's I/O
/// thread allocates) is 64 MiB at most, so it is never shrunk; glibc still unmaps one that became wholly free
/// beyond the thread's first, which only a window of more than 64 MiB in flight reaches.
inline constexpr std::size_t KEPT_HEAP_TRIM_THRESHOLD = std::size_t{128} << 20;

struct HeapPolicy {
    bool applied = false;
    std::string detail;  ///< what was set, or why nothing was
};

/// The variable that already sets one of the thresholds keep_freed_heap() would set (GLIBC_TUNABLES naming
/// glibc.malloc.trim_threshold, mmap_threshold, top_pad or mmap_max, or MALLOC_TRIM_THRESHOLD_,
/// MALLOC_MMAP_THRESHOLD_, MALLOC_TOP_PAD_, MALLOC_MMAP_MAX_); empty when none does.
std::string malloc_threshold_in_environment();

/// Sets the thresholds above with mallopt, unless malloc_threshold_in_environment() names a variable: a user's
/// choice wins. Does nothing where the C library is not glibc. Process-wide: call it once, early in main.
HeapPolicy keep_freed_heap();

}  // namespace dhub
