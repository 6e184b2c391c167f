// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/checksum.hpp"

#include <sodium.h>

namespace dhub::shm {

Digest blake2b_256(std::span<const std::byte> bytes) noexcept {
    // sodium_init() picks the fastest BLAKE2b compression function for this CPU (AVX2 where present).
    [[maybe_unused]] static const bool initialised = sodium_init() >= 0;
    Digest digest{};
    crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                       nullptr, 0);
    return digest;
}

std::string to_hex(const std::uint8_t* bytes, std::size_t count) {
    static constexpr char DIGITS[] = "0123456789abcdef";
    std::string text;
    text.reserve(count * 2);
    for (std::size_t i = 0; i < count; ++i) {
        text += DIGITS[bytes[i] >> 4];
        text += DIGITS[bytes[i] & 15];
    }
    return text;
}

}  // namespace dhub::shm
