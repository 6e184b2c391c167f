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

Digest attach_tag_of(std::string_view secret) noexcept {
    Digest tag{};
    if (secret.empty()) return tag;
    [[maybe_unused]] static const bool initialised = sodium_init() >= 0;
    static constexpr char CONTEXT[] = "dhub attach tag v1";
    // BLAKE2b keys are at most 64 bytes; a longer secret is hashed down to one first.
    Digest key_digest{};
    const auto* key = reinterpret_cast<const unsigned char*>(secret.data());
    std::size_t key_bytes = secret.size();
    if (key_bytes > crypto_generichash_KEYBYTES_MAX) {
        crypto_generichash(key_digest.data(), key_digest.size(), key, key_bytes, nullptr, 0);
        key = key_digest.data();
        key_bytes = key_digest.size();
    }
    crypto_generichash(tag.data(), tag.size(), reinterpret_cast<const unsigned char*>(CONTEXT), sizeof CONTEXT - 1, key,
                       key_bytes);
    return tag;
}

bool digests_equal(const Digest& a, const std::uint8_t* b) noexcept {
    return sodium_memcmp(a.data(), b, a.size()) == 0;
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
