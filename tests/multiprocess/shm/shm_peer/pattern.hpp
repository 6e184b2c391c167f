// SPDX-License-Identifier: Apache-2.0
// The deterministic payload of a test slot: its length and every byte follow from its sequence number,
// so a reader in another process can check each byte of what it received without any side channel.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace dhub::testing {

/// How long each slot's payload is.
enum class PayloadSizes {
    Full,    ///< every slot fills its whole capacity
    Random,  ///< 1..capacity bytes, chosen per sequence number
};

inline constexpr std::string_view FULL_SIZES_NAME = "full";
inline constexpr std::string_view RANDOM_SIZES_NAME = "random";

/// SplitMix64 finaliser: a cheap, well-mixed function of its input.
constexpr std::uint64_t mix64(std::uint64_t value) noexcept {
    value += 0x9E3779B97F4A7C15ULL;
    value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
    value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
    return value ^ (value >> 31);
}

/// Payload length of the slot with this sequence number.
constexpr std::size_t payload_size(std::uint64_t sequence, std::size_t capacity, PayloadSizes sizes) noexcept {
    if (sizes == PayloadSizes::Full || capacity == 0) return capacity;
    return 1 + static_cast<std::size_t>(mix64(~sequence) % capacity);
}

namespace detail {

constexpr std::size_t PATTERN_WORD = sizeof(std::uint64_t);

/// Calls visit(offset, word, length) for each 8-byte word of the pattern of sequence over `bytes`.
template <typename Visit>
constexpr bool for_each_pattern_word(std::uint64_t sequence, std::size_t bytes, Visit&& visit) {
    const std::uint64_t seed = mix64(sequence);
    for (std::size_t offset = 0; offset < bytes; offset += PATTERN_WORD) {
        const std::uint64_t word = mix64(seed + offset);
        if (!visit(offset, word, std::min(PATTERN_WORD, bytes - offset))) return false;
    }
    return true;
}

}  // namespace detail

/// Writes the pattern of sequence over all of out.
inline void fill_pattern(std::uint64_t sequence, std::span<std::byte> out) noexcept {
    detail::for_each_pattern_word(sequence, out.size(),
                                  [&](std::size_t offset, std::uint64_t word, std::size_t length) {
                                      std::memcpy(out.data() + offset, &word, length);
                                      return true;
                                  });
}

/// True if every byte of bytes is the pattern of sequence.
inline bool matches_pattern(std::uint64_t sequence, std::span<const std::byte> bytes) noexcept {
    return detail::for_each_pattern_word(sequence, bytes.size(),
                                         [&](std::size_t offset, std::uint64_t word, std::size_t length) {
                                             return std::memcmp(bytes.data() + offset, &word, length) == 0;
                                         });
}

/// True if payload is exactly what the producer writes for sequence: its length and every byte.
inline bool is_expected_payload(std::uint64_t sequence,
                                std::span<const std::byte> payload,
                                std::size_t capacity,
                                PayloadSizes sizes) noexcept {
    return payload.size() == payload_size(sequence, capacity, sizes) && matches_pattern(sequence, payload);
}

}  // namespace dhub::testing
