// SPDX-License-Identifier: Apache-2.0
// BLAKE2b-256 (libsodium's crypto_generichash) of slot payloads and header fields.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace dhub::shm {

using Digest = std::array<std::uint8_t, 32>;

Digest blake2b_256(std::span<const std::byte> bytes) noexcept;

/// Lower-case hex of bytes, for messages and inspection output.
std::string to_hex(const std::uint8_t* bytes, std::size_t count);

}  // namespace dhub::shm
