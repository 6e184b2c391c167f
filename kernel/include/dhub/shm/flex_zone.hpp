// SPDX-License-Identifier: Apache-2.0
// The flex zone: a small shared metadata region beside the ring (calibration, units, run id...). Readers
// always get a consistent snapshot: writers hold a seqlock (odd sequence while writing; taking it is a
// compare-and-swap, so producer and consumers may all write), readers copy and retry if it changed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "dhub/shm/channel_config.hpp"
#include "dhub/shm/status.hpp"

namespace dhub::shm {

class ChannelView;

class FlexZone {
public:
    explicit FlexZone(const ChannelView* view) noexcept : view_(view) {}

    /// Bytes the zone can hold (the configured size rounded up to 64).
    std::size_t capacity() const noexcept;
    /// How many writes have completed; changes whenever the content does.
    std::uint64_t version() const noexcept;

    /// Replaces the content with bytes. TooLarge if it does not fit; Timeout if another writer held the
    /// zone for the whole wait (a writer that died holding it is released by `dhub-shm recover`).
    Status write(std::span<const std::byte> bytes, WaitOptions wait = {}) noexcept;
    /// Copies a consistent snapshot into out (at most out.size() bytes); used_bytes receives the size the
    /// last writer wrote.
    Status read(std::span<std::byte> out, std::size_t& used_bytes, WaitOptions wait = {}) const noexcept;

    /// For the owner of a channel whose other writer died (a dhub-node-host that crashed): if the zone is held
    /// and stays held, unchanged, for `quiet` (a live writer holds it for one copy of a few KiB), the writer is
    /// taken to have died holding it and the zone is released, empty (what it held may be half-written). True
    /// if it was. Never call it while a writer of this process may hold the zone.
    bool release_abandoned(std::chrono::nanoseconds quiet) noexcept;

    template <typename T>
    Status write_value(const T& value, WaitOptions wait = {}) noexcept {
        static_assert(std::is_trivially_copyable_v<T>, "the flex zone holds trivially copyable types only");
        return write(std::as_bytes(std::span(&value, 1)), wait);
    }
    template <typename T>
    Status read_value(T& value, WaitOptions wait = {}) const noexcept {
        static_assert(std::is_trivially_copyable_v<T>, "the flex zone holds trivially copyable types only");
        std::size_t used = 0;
        return read(std::as_writable_bytes(std::span(&value, 1)), used, wait);
    }

private:
    const ChannelView* view_;
};

}  // namespace dhub::shm
