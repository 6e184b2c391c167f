// SPDX-License-Identifier: Apache-2.0
// Start and finish rendezvous between benchmark child processes, placed in a SharedMapping.
// Start: nobody starts the clock before every party is connected and ready.
// Finish: a producer keeps its transport objects alive until every consumer is done, so
// tearing down a publisher cannot drop messages still in flight.
#pragma once

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace dhub::bench {

struct ProcessSync {
    alignas(64) std::atomic<std::uint32_t> ready{0};
    alignas(64) std::atomic<std::uint32_t> done{0};
    std::atomic<std::uint32_t> producer_finished{0};

    void arrive() noexcept { ready.fetch_add(1, std::memory_order_acq_rel); }

    /// Waits until `parties` have arrived. Yields rather than spins: both parties may be pinned
    /// to the same core.
    void wait_for_arrivals(std::uint32_t parties) const noexcept {
        while (ready.load(std::memory_order_acquire) < parties)
            sched_yield();
    }

    void mark_done() noexcept { done.fetch_add(1, std::memory_order_acq_rel); }

    /// Waits (sleeping; this is off the measured path) until `parties` have called mark_done.
    void wait_for_done(std::uint32_t parties) const noexcept {
        while (done.load(std::memory_order_acquire) < parties) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    }

    void mark_producer_finished() noexcept { producer_finished.store(1, std::memory_order_release); }
    bool is_producer_finished() const noexcept { return producer_finished.load(std::memory_order_acquire) != 0; }
};

}  // namespace dhub::bench
