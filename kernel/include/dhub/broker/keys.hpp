// SPDX-License-Identifier: Apache-2.0
// CURVE key pairs as Z85 text files, and the per-channel attach secret.
#pragma once

#include <string>

#include "dhub/base/result.hpp"

namespace dhub::broker {

inline constexpr std::size_t Z85_KEY_CHARS = 40;

struct CurveKeyPair {
    std::string public_key;  ///< Z85, 40 characters
    std::string secret_key;  ///< Z85, 40 characters
};

Result<CurveKeyPair> generate_curve_keypair();
/// The public key belonging to a Z85 secret key.
Result<std::string> public_key_of(const std::string& secret_key);
bool is_z85_key(const std::string& text) noexcept;

enum class Overwrite : std::uint8_t { Refuse = 1, Allow };

/// Writes <directory>/<name>.key (secret, mode 0600) and <name>.pub (public, mode 0644), one Z85 line each.
/// Refuses to replace existing files unless overwrite is Allow.
VoidResult write_keypair_files(const CurveKeyPair& pair,
                               const std::string& directory,
                               const std::string& name,
                               Overwrite overwrite);
/// Reads a key file (one Z85 line). A secret key file that others can read is refused: chmod 600 it.
enum class KeyKind : std::uint8_t { Public = 1, Secret };
Result<std::string> read_key_file(const std::string& path, KeyKind kind);

/// 32 random bytes (libsodium) as 64 lower-case hex digits: what a producer registers as attach_secret.
std::string generate_attach_secret();
/// Constant-time comparison of two secrets (for the attach check on the data plane).
bool secrets_equal(const std::string& a, const std::string& b) noexcept;

}  // namespace dhub::broker
