// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/wait_any.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <ctime>

#include "dhub/base/clock.hpp"
#include "dhub/shm/futex.hpp"
#include "waiting.hpp"

namespace dhub::shm {
namespace {

/// struct futex_waitv of Linux 5.16, spelled out so the build does not depend on the headers' age.
struct FutexWaitv {
    std::uint64_t value;
    std::uint64_t address;
    std::uint32_t flags;
    std::uint32_t reserved;
};
constexpr long SYS_FUTEX_WAITV = 449;     // the same number on every architecture
constexpr std::size_t WAITV_LIMIT = 128;  // the kernel's limit per call
constexpr std::uint32_t FUTEX_SIZE_32 = 2;
/// Without futex_waitv the sleeper looks again this often.
constexpr std::uint64_t FALLBACK_SLICE_NS = 1'000'000;

/// Sleeps until one of the words differs from its value, a wake-up, or the CLOCK_MONOTONIC deadline.
/// False when the kernel has no futex_waitv.
bool futex_wait_any(std::span<FutexWaitv> words, std::uint64_t deadline_ns) noexcept {
    static std::atomic<bool> unsupported{false};
    if (unsupported.load(std::memory_order_relaxed)) return false;
    timespec deadline{};
    deadline.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000ULL);
    deadline.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000ULL);
    if (::syscall(SYS_FUTEX_WAITV, words.data(), static_cast<unsigned>(words.size()), 0U, &deadline, CLOCK_MONOTONIC) ==
        0) {
        return true;
    }
    // A word changed (EAGAIN), the deadline passed, a signal: a normal return. Anything else (ENOSYS before
    // Linux 5.16, EPERM from a seccomp filter) would fail every time: the caller's slices take over for good
    // instead of a loop that never sleeps.
    if (errno == EAGAIN || errno == ETIMEDOUT || errno == EINTR) return true;
    unsupported.store(true, std::memory_order_relaxed);
    return false;
}

bool any_readable(std::span<Consumer* const> consumers) noexcept {
    return std::any_of(consumers.begin(), consumers.end(),
                       [](const Consumer* consumer) { return consumer != nullptr && readable_now(*consumer); });
}

}  // namespace

bool readable_now(const Consumer& consumer) noexcept {
    return consumer.backlog() > 0 || consumer.view().header().closed.load(std::memory_order_acquire) != 0;
}

Status wait_any(std::span<Consumer* const> consumers, const WaitOptions& wait) noexcept {
    if (any_readable(consumers)) return Status::Ok;
    if (wait.timeout.count() <= 0) return Status::Timeout;
    const std::uint64_t start = monotonic_ns();
    const std::uint64_t deadline = detail::saturating_deadline(start, wait.timeout);
    if (wait.spin.count() > 0 &&
        detail::spin_until_ready([&] { return any_readable(consumers); },
                                 std::min(deadline, detail::saturating_deadline(start, wait.spin)), wait.yield)) {
        return Status::Ok;
    }
    // On the stack: waiting allocates nothing. Beyond the kernel's limit per call, the fallback's slices.
    std::array<FutexWaitv, WAITV_LIMIT> storage{};
    for (std::uint64_t now = monotonic_ns();; now = monotonic_ns()) {
        if (now >= deadline) return any_readable(consumers) ? Status::Ok : Status::Timeout;
        // The handshake of waiting.hpp per channel: read the futex word, register, look again. A commit after
        // the look either changes a word (futex_waitv returns at once) or sees the registration and wakes us.
        std::size_t count = 0;
        bool too_many = false;
        for (Consumer* consumer : consumers) {
            if (consumer == nullptr) continue;
            consumer->heartbeat();
            auto& header = consumer->view().header();
            const std::uint32_t observed = header.commit_futex.load(std::memory_order_acquire);
            header.readers_waiting.fetch_add(1, std::memory_order_seq_cst);
            if (count == storage.size()) {
                too_many = true;
                continue;
            }
            storage[count++] = {observed, reinterpret_cast<std::uintptr_t>(&header.commit_futex), FUTEX_SIZE_32, 0};
        }
        // The registrations above and the look below are ordered as in waiting.hpp (whose look is a seq_cst
        // load): a producer that commits after the look sees a registration, one before it is seen here.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (any_readable(consumers)) return Status::Ok;
        const std::uint64_t slice_end = std::min(deadline, now + detail::SLEEP_SLICE_NS);
        const std::span<FutexWaitv> words(storage.data(), count);
        if (words.empty() || too_many || !futex_wait_any(words, slice_end)) {
            // No futex_waitv: short sleeps on the first channel's word keep the others' latency near a slice.
            if (!words.empty()) {
                futex_wait_until(*reinterpret_cast<std::atomic<std::uint32_t>*>(words.front().address),
                                 static_cast<std::uint32_t>(words.front().value),
                                 std::min(slice_end, now + FALLBACK_SLICE_NS));
            } else {
                ::usleep(static_cast<useconds_t>(std::min<std::uint64_t>(slice_end - now, FALLBACK_SLICE_NS) / 1000));
            }
        }
        if (any_readable(consumers)) return Status::Ok;
    }
}

}  // namespace dhub::shm
