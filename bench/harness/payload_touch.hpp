// SPDX-License-Identifier: Apache-2.0
// The "touch rules" every transport obeys, so that zero-copy and copying transports are compared
// on the same amount of real memory traffic:
//   - ends:       the producer writes the first and last 8 bytes (the sequence number) and the
//                 consumer reads and checks them; the cost of a zero-copy hand-over.
//   - every_byte: the producer writes every byte and the consumer reads every byte; the cost
//                 of actually producing and consuming a large frame (used at 1 MiB).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace dhub::bench {

enum class TouchMode { ends, every_byte };

/// Payload size from which the benchmarks write and read every byte.
inline constexpr std::size_t EVERY_BYTE_THRESHOLD_BYTES = std::size_t{1} << 20;

inline TouchMode touch_mode_for(std::size_t payload_bytes) noexcept {
    return payload_bytes >= EVERY_BYTE_THRESHOLD_BYTES ? TouchMode::every_byte : TouchMode::ends;
}

inline std::string_view touch_mode_name(TouchMode mode) noexcept {
    return mode == TouchMode::ends ? "ends touched" : "every byte written+read";
}

namespace detail {
// One byte value per message, so a stale slot (an older message) fails the check.
inline unsigned char fill_byte(std::uint64_t seq) noexcept {
    return static_cast<unsigned char>((seq * 0x9Du + 1u) & 0xFFu);
}
}  // namespace detail

/// Writes message `seq` into `data` (size >= 16; a multiple of 8 for every_byte).
inline void write_payload(void* data, std::size_t size, std::uint64_t seq, TouchMode mode) noexcept {
    auto* bytes = static_cast<unsigned char*>(data);
    if (mode == TouchMode::every_byte) {
        std::memset(bytes, detail::fill_byte(seq), size);
        return;
    }
    // memcpy, not a cast: the payload start need not be 8-byte aligned in every transport.
    std::memcpy(bytes, &seq, sizeof seq);
    std::memcpy(bytes + size - sizeof seq, &seq, sizeof seq);
}

/// Reads message `seq` from `data`; false if it is not exactly what write_payload wrote.
inline bool read_payload(const void* data, std::size_t size, std::uint64_t seq, TouchMode mode) noexcept {
    const auto* bytes = static_cast<const unsigned char*>(data);
    if (mode == TouchMode::every_byte) {
        // Summing 8-byte words makes the consumer depend on every byte, so the loads cannot be
        // skipped; a stale or partial message gives a different sum.
        std::uint64_t sum = 0;
        for (std::size_t offset = 0; offset + 8 <= size; offset += 8) {
            std::uint64_t word = 0;
            std::memcpy(&word, bytes + offset, sizeof word);
            sum += word;
        }
        const std::uint64_t word = detail::fill_byte(seq) * 0x0101010101010101ull;
        return sum == word * static_cast<std::uint64_t>(size / 8);
    }
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::memcpy(&first, bytes, sizeof first);
    std::memcpy(&last, bytes + size - sizeof last, sizeof last);
    return first == seq && last == seq;
}

}  // namespace dhub::bench
