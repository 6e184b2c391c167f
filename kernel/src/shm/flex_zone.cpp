// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/flex_zone.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include "dhub/base/clock.hpp"
#include "dhub/shm/channel_view.hpp"
#include "dhub/shm/futex.hpp"

namespace dhub::shm {
namespace {

std::uint64_t deadline_after(std::chrono::nanoseconds timeout) noexcept {
    const std::uint64_t now = monotonic_ns();
    if (timeout.count() < 0) return now;
    const auto span = static_cast<std::uint64_t>(timeout.count());
    return span > ~0ULL - now ? ~0ULL : now + span;
}

/// Backs off politely: the holder of the zone is another process that may be descheduled.
void back_off(std::uint32_t& attempts) noexcept {
    if (++attempts < 64) {
        cpu_relax();
    } else {
        std::this_thread::yield();
    }
}

}  // namespace

std::size_t FlexZone::capacity() const noexcept {
    return view_->flex_zone().size();
}

std::uint64_t FlexZone::version() const noexcept {
    return view_->header().flex_seq.load(std::memory_order_acquire) / 2;
}

Status FlexZone::write(std::span<const std::byte> bytes, WaitOptions wait) noexcept {
    const std::span<std::byte> zone = view_->flex_zone();
    if (bytes.size() > zone.size()) return Status::TooLarge;
    auto& header = view_->header();
    const std::uint64_t deadline = deadline_after(wait.timeout);
    std::uint32_t attempts = 0;
    std::uint64_t sequence = header.flex_seq.load(std::memory_order_relaxed);
    for (;;) {
        if ((sequence & 1) == 0 &&
            header.flex_seq.compare_exchange_weak(sequence, sequence + 1, std::memory_order_acquire)) {
            break;
        }
        if (monotonic_ns() >= deadline) return Status::Timeout;
        back_off(attempts);
        sequence = header.flex_seq.load(std::memory_order_relaxed);
    }
    // Odd sequence is visible before any byte changes: the release fence orders it before the stores below.
    std::atomic_thread_fence(std::memory_order_release);
    std::memcpy(zone.data(), bytes.data(), bytes.size());
    header.flex_used_bytes.store(bytes.size(), std::memory_order_relaxed);
    header.flex_seq.store(sequence + 2, std::memory_order_release);
    auto& writes = header.counters.flex_writes;
    writes.fetch_add(1, std::memory_order_relaxed);
    return Status::Ok;
}

bool FlexZone::release_abandoned(std::chrono::nanoseconds quiet) noexcept {
    auto& header = view_->header();
    std::uint64_t held = header.flex_seq.load(std::memory_order_acquire);
    if ((held & 1) == 0) return false;
    const std::uint64_t until = deadline_after(quiet);
    while (monotonic_ns() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (header.flex_seq.load(std::memory_order_acquire) != held) return false;  // its writer is alive
    }
    // Its content may be half-written: released empty, as a new version, never as data nobody finished.
    header.flex_used_bytes.store(0, std::memory_order_relaxed);
    return header.flex_seq.compare_exchange_strong(held, held + 1, std::memory_order_acq_rel);
}

Status FlexZone::read(std::span<std::byte> out, std::size_t& used_bytes, WaitOptions wait) const noexcept {
    const std::span<std::byte> zone = view_->flex_zone();
    auto& header = view_->header();
    const std::uint64_t deadline = deadline_after(wait.timeout);
    std::uint32_t attempts = 0;
    for (;;) {
        const std::uint64_t before = header.flex_seq.load(std::memory_order_acquire);
        if ((before & 1) == 0) {
            const std::size_t used =
                std::min<std::size_t>(header.flex_used_bytes.load(std::memory_order_relaxed), zone.size());
            std::memcpy(out.data(), zone.data(), std::min(used, out.size()));
            // The copy must complete before the sequence is read again.
            std::atomic_thread_fence(std::memory_order_acquire);
            if (header.flex_seq.load(std::memory_order_relaxed) == before) {
                used_bytes = used;
                return Status::Ok;
            }
        }
        if (monotonic_ns() >= deadline) return Status::Timeout;
        back_off(attempts);
    }
}

}  // namespace dhub::shm
