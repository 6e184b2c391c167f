// SPDX-License-Identifier: Apache-2.0
#include "frame_pattern.hpp"

#include <cstring>

namespace dhub::demo {
namespace {

/// Word i of frame seq. Multiplying by an odd constant makes neighbouring frames differ in every word,
/// so a stale or torn slot cannot pass for the expected one.
constexpr std::uint64_t pattern_word(std::uint64_t seq, std::uint64_t index) noexcept {
    return index == 0 ? seq : (seq + 1) * 0x9E3779B97F4A7C15ULL + index * 0xD1B54A32D192ED03ULL;
}

}  // namespace

void fill_frame(std::span<std::byte> frame, std::uint64_t seq) noexcept {
    const std::size_t words = frame.size() / sizeof(std::uint64_t);
    for (std::size_t i = 0; i < words; ++i) {
        const std::uint64_t word = pattern_word(seq, i);
        std::memcpy(frame.data() + i * sizeof word, &word, sizeof word);
    }
    // A size that is not a multiple of 8 ends with the first bytes of the next word.
    const std::uint64_t tail = pattern_word(seq, words);
    std::memcpy(frame.data() + words * sizeof tail, &tail, frame.size() % sizeof tail);
}

bool frame_matches(std::span<const std::byte> frame, std::uint64_t seq) noexcept {
    const std::size_t words = frame.size() / sizeof(std::uint64_t);
    for (std::size_t i = 0; i < words; ++i) {
        std::uint64_t word = 0;
        std::memcpy(&word, frame.data() + i * sizeof word, sizeof word);
        if (word != pattern_word(seq, i)) return false;
    }
    const std::uint64_t expected_tail = pattern_word(seq, words);
    return std::memcmp(frame.data() + words * sizeof expected_tail, &expected_tail,
                       frame.size() % sizeof expected_tail) == 0;
}

}  // namespace dhub::demo
