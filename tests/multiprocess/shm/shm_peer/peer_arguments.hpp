// SPDX-License-Identifier: Apache-2.0
// Command line of dhub-shm-test-peer: `<role> --key value ... --flag ...`, and the channel configuration
// those options describe. Policy names are the library's own to_string() names.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "dhub/shm/channel_config.hpp"
#include "shm_peer/pattern.hpp"

namespace dhub::testing {

class PeerArguments {
public:
    /// argv[1] is the role; then "--key value" pairs, or "--flag" when no value follows.
    static std::optional<PeerArguments> parse(int argc, char** argv) {
        if (argc < 2) return std::nullopt;
        PeerArguments arguments;
        arguments.role_ = argv[1];
        for (int index = 2; index < argc; ++index) {
            const std::string_view key = argv[index];
            if (key.substr(0, 2) != "--") return std::nullopt;
            const bool has_value = index + 1 < argc && std::string_view(argv[index + 1]).substr(0, 2) != "--";
            if (has_value) {
                arguments.values_[std::string(key.substr(2))] = argv[++index];
            } else {
                arguments.flags_.insert(std::string(key.substr(2)));
            }
        }
        return arguments;
    }

    const std::string& role() const noexcept { return role_; }
    bool has(const std::string& key) const { return values_.count(key) != 0; }
    bool flag(const std::string& key) const { return flags_.count(key) != 0; }
    std::string text(const std::string& key, const std::string& fallback = {}) const {
        const auto found = values_.find(key);
        return found == values_.end() ? fallback : found->second;
    }
    std::uint64_t number(const std::string& key, std::uint64_t fallback, int base = 10) const {
        const auto found = values_.find(key);
        return found == values_.end() ? fallback : std::strtoull(found->second.c_str(), nullptr, base);
    }
    std::chrono::milliseconds milliseconds(const std::string& key, std::chrono::milliseconds fallback) const {
        return std::chrono::milliseconds(number(key, static_cast<std::uint64_t>(fallback.count())));
    }
    /// -1 when the option is absent.
    int descriptor(const std::string& key) const { return has(key) ? static_cast<int>(number(key, 0)) : -1; }

private:
    std::string role_;
    std::map<std::string, std::string> values_;
    std::set<std::string> flags_;
};

/// Finds the enumerator whose to_string() is name.
template <typename Enum, std::size_t N>
std::optional<Enum> parse_policy(const std::string& name, const Enum (&candidates)[N]) {
    for (const Enum candidate : candidates) {
        if (name == shm::to_string(candidate)) return candidate;
    }
    return std::nullopt;
}

inline constexpr std::size_t DEFAULT_SLOT_BYTES = 4096;
inline constexpr std::uint32_t DEFAULT_SLOT_COUNT = 8;
inline constexpr std::uint32_t DEFAULT_MAX_CONSUMERS = 16;
inline constexpr unsigned DEFAULT_MODE = 0600;
inline constexpr int OCTAL = 8;

/// The channel named by --channel with --ring, --slots, --sync, --checksum, --slot-bytes, --mode,
/// --max-consumers and --schema-fill (every schema hash byte set to that value).
inline std::optional<shm::ChannelConfig> channel_config(const PeerArguments& arguments) {
    shm::ChannelConfig config;
    config.name = arguments.text("channel");
    const auto ring = parse_policy(arguments.text("ring", "ring"),
                                   {shm::RingPolicy::Single, shm::RingPolicy::Double, shm::RingPolicy::Ring});
    const auto sync =
        parse_policy(arguments.text("sync", "single_reader"),
                     {shm::SyncPolicy::LatestOnly, shm::SyncPolicy::SingleReader, shm::SyncPolicy::EveryReader});
    const auto checksum =
        parse_policy(arguments.text("checksum", "none"),
                     {shm::ChecksumPolicy::None, shm::ChecksumPolicy::Compute, shm::ChecksumPolicy::Verify});
    if (config.name.empty() || !ring || !sync || !checksum) return std::nullopt;
    config.ring = *ring;
    config.sync = *sync;
    config.checksum = *checksum;
    config.slot_count = static_cast<std::uint32_t>(arguments.number("slots", DEFAULT_SLOT_COUNT));
    config.slot_bytes = arguments.number("slot-bytes", DEFAULT_SLOT_BYTES);
    config.max_consumers = static_cast<std::uint32_t>(arguments.number("max-consumers", DEFAULT_MAX_CONSUMERS));
    config.mode = static_cast<mode_t>(arguments.number("mode", DEFAULT_MODE, OCTAL));
    config.schema_hash.fill(static_cast<std::uint8_t>(arguments.number("schema-fill", 0)));
    return config;
}

inline std::optional<PayloadSizes> payload_sizes(const PeerArguments& arguments) {
    const std::string name = arguments.text("sizes", std::string(FULL_SIZES_NAME));
    if (name == FULL_SIZES_NAME) return PayloadSizes::Full;
    if (name == RANDOM_SIZES_NAME) return PayloadSizes::Random;
    return std::nullopt;
}

}  // namespace dhub::testing
