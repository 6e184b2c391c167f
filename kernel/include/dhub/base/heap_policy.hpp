// SPDX-License-Identifier: Apache-2.0
// The kernel process keeps the heap it frees for reuse instead of handing it back to the OS after every burst.
//
// Why: with glibc's defaults a free that leaves more than a few MiB at the top of a heap gives those pages back
// (madvise), and the next allocation faults them in again, zeroed. ZeroMQ allocates a fresh buffer for every
// large message it receives, and a zmq_receive node has up to its credit window of them in flight, so a 1 MiB
// stream paid about 80 page faults per slot: a fifth of the bridge's rate (docs/kernel.md, "Memory").
#pragma once

#include <cstddef>
#include <string>

namespace dhub {

/// Allocations up to this size come from the heap, not from a mapping of their own. It is glibc's own ceiling
/// for its adaptive threshold (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit), so a large chunk is reused as glibc would
/// reuse it once it had adapted, without the adaptation that the trim setting turns off.
inline constexpr std::size_t KEPT_HEAP_MMAP_THRESHOLD = std::size_t{32} << 20;
/// Freed heap at the top of an arena is given back only beyond this: more than a receiver's default window of
/// 1 MiB chunks (64), so the buffers of one window are reused from burst to burst.
inline constexpr std::size_t KEPT_HEAP_TRIM_THRESHOLD = std::size_t{128} << 20;

struct HeapPolicy {
    bool applied = false;
    std::string detail;  ///< what was set, or why nothing was
};

/// Sets the thresholds above with mallopt, unless the environment already chose malloc settings
/// (GLIBC_TUNABLES naming glibc.malloc.*, or MALLOC_TRIM_THRESHOLD_ / MALLOC_MMAP_THRESHOLD_): a user's choice
/// wins. Does nothing where the C library is not glibc. Process-wide: call it once, early in main.
HeapPolicy keep_freed_heap();

}  // namespace dhub
