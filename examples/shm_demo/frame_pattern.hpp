// SPDX-License-Identifier: Apache-2.0
// The content of demo frames: derived from the sequence number alone, so the consumer can check every byte
// without any other information from the producer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dhub::demo {

/// Fills frame with the pattern of sequence number seq (the first 8 bytes hold seq itself).
void fill_frame(std::span<std::byte> frame, std::uint64_t seq) noexcept;

/// True if frame holds exactly the pattern fill_frame writes for seq.
bool frame_matches(std::span<const std::byte> frame, std::uint64_t seq) noexcept;

}  // namespace dhub::demo
