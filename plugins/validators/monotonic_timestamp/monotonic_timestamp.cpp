// SPDX-License-Identifier: Apache-2.0
#include "monotonic_timestamp.hpp"

#include <bit>
#include <cstring>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dhub::plugins::monotonic_timestamp {
namespace {

using nlohmann::json;

constexpr const char* KIND_NOT_MONOTONIC = "not_monotonic";
constexpr const char* KIND_LENGTH = "length";
constexpr std::uint64_t SIGN_BIT = 1ULL << 63;

[[noreturn]] void refuse(const std::string& why) {
    throw sdk::HostError(DHUB_ERR_INVALID_ARGUMENT, why);
}

/// The named field of the channel's typed schema, which must be a scalar 8-byte integer.
TimestampField find_field(sdk::NodeContext& context, const std::string& name) {
    const std::string_view document = context.schema_document(sdk::Direction::Input, 0);
    if (document.empty()) {
        refuse("\"field\" is '" + name + "', but the channel has no typed schema to find it in (its schema is '" +
               std::string(context.schema(sdk::Direction::Input, 0)) +
               "'); declare one (docs/schemas.md), or leave \"field\" empty to use the slots' own timestamps");
    }
    const json root = json::parse(document, nullptr, false);
    if (root.is_discarded() || !root.is_object()) refuse("cannot read the channel's typed schema: not a JSON object");
    std::string schema_id = "the channel's schema";
    if (const auto found = root.find("name"); found != root.end() && found->is_string()) {
        schema_id = found->get<std::string>();
        if (root.contains("version")) schema_id += "@" + root["version"].dump();
    }
    const json* fields = nullptr;
    if (const auto found = root.find("fields"); found != root.end() && found->is_array()) fields = &*found;
    std::string known;
    for (const json& field : fields != nullptr ? *fields : json::array()) {
        if (!field.is_object() || !field.contains("name") || !field["name"].is_string()) continue;
        const std::string field_name = field["name"].get<std::string>();
        if (field_name != name) {
            known += (known.empty() ? "" : ", ") + field_name;
            continue;
        }
        const std::string dtype = field.contains("dtype") && field["dtype"].is_string()
                                      ? field["dtype"].get<std::string>()
                                      : std::string("?");
        const bool scalar = !field.contains("shape") || (field["shape"].is_array() && field["shape"].empty());
        const bool integer8 = dtype.size() == 3 && (dtype[0] == '<' || dtype[0] == '>') &&
                              (dtype[1] == 'u' || dtype[1] == 'i') && dtype[2] == '8';
        if (!scalar || !integer8) {
            refuse("field '" + name + "' of " + schema_id + " is \"" + dtype + "\"" +
                   (scalar ? "" : " with shape " + field["shape"].dump()) +
                   "; a timestamp field must be a scalar \"<u8\" or \"<i8\" (integer nanoseconds)");
        }
        const auto offset = field.find("offset");
        if (offset == field.end() || !offset->is_number_unsigned()) {
            refuse("field '" + name + "' of " + schema_id + " has no offset in the schema document");
        }
        TimestampField found;
        found.name = name;
        found.offset = offset->get<std::uint64_t>();
        found.is_signed = dtype[1] == 'i';
        found.swapped = (dtype[0] == '<') != (std::endian::native == std::endian::little);
        return found;
    }
    refuse(schema_id + " has no field '" + name + "'" + (known.empty() ? "" : "; its fields: " + known));
}

}  // namespace

MonotonicTimestamp::MonotonicTimestamp(sdk::NodeContext& context) : strict_(context.params().boolean("strict")) {
    const std::string name(context.params().string("field"));
    if (!name.empty()) {
        field_ = find_field(context, name);
        from_field_ = true;
    }
}

std::string MonotonicTimestamp::text_of(std::uint64_t key) const {
    if (from_field_ && field_.is_signed) return std::to_string(static_cast<std::int64_t>(key ^ SIGN_BIT));
    return std::to_string(key);
}

sdk::Verdict MonotonicTimestamp::reject(std::uint64_t key) const {
    const std::uint64_t earlier_by = previous_ - key;  // key <= previous_
    return sdk::Verdict::reject_as(
        KIND_NOT_MONOTONIC, (from_field_ ? "field '" + field_.name + "' timestamp " : std::string("timestamp ")) +
                                text_of(key) + " ns is " + (strict_ ? "not after" : "before") +
                                " the previous accepted slot's " + text_of(previous_) + " ns (difference " +
                                (earlier_by == 0 ? "" : "-") + std::to_string(earlier_by) + " ns)");
}

sdk::Verdict MonotonicTimestamp::validate(sdk::NodeContext& /*context*/, const sdk::InputSlot<sdk::Bytes>& in) {
    std::uint64_t key = in.timestamp_ns();
    if (from_field_) {
        const std::span<const std::byte> bytes = in.bytes();
        if (bytes.size() < field_.offset || bytes.size() - field_.offset < sizeof key) {
            return sdk::Verdict::reject_as(KIND_LENGTH, "slot of " + std::to_string(bytes.size()) +
                                                            " bytes does not hold field '" + field_.name + "' (bytes " +
                                                            std::to_string(field_.offset) + " to " +
                                                            std::to_string(field_.offset + sizeof key) + ")");
        }
        std::memcpy(&key, bytes.data() + field_.offset, sizeof key);
        if (field_.swapped) key = __builtin_bswap64(key);
        if (field_.is_signed) key ^= SIGN_BIT;
    }
    if (have_previous_ && (strict_ ? key <= previous_ : key < previous_)) return reject(key);
    have_previous_ = true;
    previous_ = key;
    return sdk::Verdict::accept();
}

}  // namespace dhub::plugins::monotonic_timestamp

DHUB_PLUGIN("monotonic_timestamp",
            "1.0.0",
            "Apache-2.0",
            "Monotonic timestamp validator (dhub.validator.monotonic_timestamp)",
            dhub::sdk::component<dhub::plugins::monotonic_timestamp::MonotonicTimestamp>())
