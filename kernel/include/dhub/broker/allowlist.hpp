// SPDX-License-Identifier: Apache-2.0
// Which CURVE client keys may connect to the broker, and which channels each may produce and consume.
// File format (docs/security.md):
//   {"clients": [{"public_key": "<40 Z85 chars>", "name": "cam-kernel", "produce": ["cam*"], "consume": ["*"]}]}
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dhub/base/result.hpp"

namespace dhub::broker {

struct AllowedClient {
    std::string public_key;            ///< Z85, 40 characters
    std::string name;                  ///< for logs
    std::vector<std::string> produce;  ///< channel globs (fnmatch: *, ?, [..]) it may register
    std::vector<std::string> consume;  ///< channel globs it may discover and consume
};

enum class Role : std::uint8_t { Invalid = 0, Produce, Consume };

class Allowlist {
public:
    /// Parses the JSON text; path is only used in error messages.
    static Result<Allowlist> parse(std::string_view text, const std::string& path = "<allowlist>");
    static Result<Allowlist> load(const std::string& path);

    /// The entry for a Z85 public key, or nullptr if the key is not allowed to connect.
    const AllowedClient* find(std::string_view public_key) const noexcept;
    /// May the client with this key act as role on channel? False for an unknown key.
    bool permits(std::string_view public_key, Role role, std::string_view channel) const;
    std::size_t size() const noexcept { return clients_.size(); }

private:
    std::vector<AllowedClient> clients_;
};

/// fnmatch(3) glob match of a channel name.
bool glob_matches(const std::string& pattern, std::string_view name);

}  // namespace dhub::broker
