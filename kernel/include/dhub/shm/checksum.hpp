// SPDX-License-Identifier: Apache-2.0
// BLAKE2b-256 (libsodium's crypto_generichash) of slot payloads and header fields.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace dhub::shm {

using Digest = std::array<std::uint8_t, 32>;

Digest blake2b_256(std::span<const std::byte> bytes) noexcept;

/// Lower-case hex of bytes, for messages and inspection output.
std::string to_hex(const std::uint8_t* bytes, std::size_t count);

/// What a segment stores for an attach secret: BLAKE2b-256 keyed with the secret over a fixed context
/// string, so the segment never holds the secret itself. An empty secret gives all zeros ("none").
Digest attach_tag_of(std::string_view secret) noexcept;
/// Constant-time equality of two digests.
bool digests_equal(const Digest& a, const std::uint8_t* b) noexcept;

}  // namespace dhub::shm
