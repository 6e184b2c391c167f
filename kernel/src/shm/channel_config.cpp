// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/channel_config.hpp"

#include <string>

namespace dhub::shm {
namespace {

Error invalid(const ChannelConfig& config, const char* field, const std::string& detail) {
    return Error{ErrorCode::InvalidArgument, "channel '" + config.name + "': " + field + " " + detail};
}

}  // namespace

std::uint32_t ChannelConfig::effective_slot_count() const noexcept {
    switch (ring) {
        case RingPolicy::Single:
            return 1;
        case RingPolicy::Double:
            return 2;
        case RingPolicy::Ring:
            return slot_count;
    }
    return 0;
}

VoidResult validate_channel_name(std::string_view name) {
    if (name.empty() || name.size() > MAX_CHANNEL_NAME) {
        return Error{ErrorCode::InvalidArgument, "channel name '" + std::string(name) + "' must have 1 to " +
                                                     std::to_string(MAX_CHANNEL_NAME) + " characters"};
    }
    for (const char c : name) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                             c == '-' || c == '.';
        if (!allowed) {
            return Error{ErrorCode::InvalidArgument,
                         "channel name '" + std::string(name) + "' may only contain letters, digits, '_', '-' and '.'"};
        }
    }
    return Ok{};
}

VoidResult validate(const ChannelConfig& config) {
    if (auto named = validate_channel_name(config.name); !named) return named.error();
    if (config.slot_bytes == 0 || config.slot_bytes > MAX_SLOT_BYTES) {
        return invalid(
            config, "slot_bytes",
            "= " + std::to_string(config.slot_bytes) + " must be in [1, " + std::to_string(MAX_SLOT_BYTES) + "]");
    }
    switch (config.ring) {
        case RingPolicy::Single:
        case RingPolicy::Double:
            break;
        case RingPolicy::Ring:
            if (config.slot_count < 2 || config.slot_count > MAX_SLOT_COUNT) {
                return invalid(config, "slot_count",
                               "= " + std::to_string(config.slot_count) + " must be in [2, " +
                                   std::to_string(MAX_SLOT_COUNT) + "] for the ring policy");
            }
            break;
        default:
            return invalid(config, "ring",
                           "= " + std::to_string(static_cast<int>(config.ring)) + " is not single, double or ring");
    }
    if (config.sync != SyncPolicy::LatestOnly && config.sync != SyncPolicy::SingleReader &&
        config.sync != SyncPolicy::EveryReader) {
        return invalid(config, "sync",
                       "= " + std::to_string(static_cast<int>(config.sync)) +
                           " is not latest_only, single_reader or every_reader");
    }
    if (config.checksum != ChecksumPolicy::None && config.checksum != ChecksumPolicy::Compute &&
        config.checksum != ChecksumPolicy::Verify) {
        return invalid(config, "checksum",
                       "= " + std::to_string(static_cast<int>(config.checksum)) + " is not none, compute or verify");
    }
    if (config.flex_zone_bytes > MAX_FLEX_ZONE_BYTES) {
        return invalid(
            config, "flex_zone_bytes",
            "= " + std::to_string(config.flex_zone_bytes) + " exceeds " + std::to_string(MAX_FLEX_ZONE_BYTES));
    }
    if (config.schema_descriptor.size() > MAX_SCHEMA_DESCRIPTOR_BYTES) {
        return invalid(config, "schema_descriptor",
                       "has " + std::to_string(config.schema_descriptor.size()) + " bytes, more than " +
                           std::to_string(MAX_SCHEMA_DESCRIPTOR_BYTES));
    }
    if (config.gate_entries > MAX_GATE_ENTRIES) {
        return invalid(config, "gate_entries",
                       "= " + std::to_string(config.gate_entries) + " exceeds " + std::to_string(MAX_GATE_ENTRIES));
    }
    if (config.max_consumers < 1 || config.max_consumers > MAX_CONSUMERS) {
        return invalid(
            config, "max_consumers",
            "= " + std::to_string(config.max_consumers) + " must be in [1, " + std::to_string(MAX_CONSUMERS) + "]");
    }
    if ((config.mode & 0600) != 0600 || (config.mode & ~0777) != 0) {
        return invalid(config, "mode", "must be permission bits that include 0600 (owner read/write)");
    }
    return Ok{};
}

const char* to_string(RingPolicy policy) noexcept {
    switch (policy) {
        case RingPolicy::Single:
            return "single";
        case RingPolicy::Double:
            return "double";
        case RingPolicy::Ring:
            return "ring";
    }
    return "invalid";
}

const char* to_string(SyncPolicy policy) noexcept {
    switch (policy) {
        case SyncPolicy::LatestOnly:
            return "latest_only";
        case SyncPolicy::SingleReader:
            return "single_reader";
        case SyncPolicy::EveryReader:
            return "every_reader";
    }
    return "invalid";
}

const char* to_string(Delivery delivery) noexcept {
    switch (delivery) {
        case Delivery::Channel:
            return "channel";
        case Delivery::Latest:
            return "latest";
    }
    return "invalid";
}

const char* to_string(ChecksumPolicy policy) noexcept {
    switch (policy) {
        case ChecksumPolicy::None:
            return "none";
        case ChecksumPolicy::Compute:
            return "compute";
        case ChecksumPolicy::Verify:
            return "verify";
    }
    return "invalid";
}

}  // namespace dhub::shm
