// SPDX-License-Identifier: Apache-2.0
// dhub.validator.monotonic_timestamp: rejects a slot whose timestamp is not after that of the previous slot
// it accepted ("timestamp 1000 ns is not after the previous accepted slot's 1500 ns (difference -500 ns)");
// with strict false, an equal timestamp passes. The first slot is always accepted. The timestamp is the
// slot's own (CLOCK_MONOTONIC or the instrument's), or, with "field", a scalar integer field of nanoseconds
// ("<u8", "<i8", or big-endian) of the channel's typed schema (docs/schemas.md), read where the schema puts it.
#pragma once

#include <cstdint>
#include <string>

#include "dhub/sdk/plugin.hpp"

namespace dhub::plugins::monotonic_timestamp {

/// Where a timestamp field is in the slot, from the channel's typed schema.
struct TimestampField {
    std::string name;
    std::uint64_t offset = 0;
    bool is_signed = false;  ///< i8 rather than u8
    bool swapped = false;    ///< stored in the other byte order than this host's
};

class MonotonicTimestamp : public sdk::Validator<sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.validator.monotonic_timestamp";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "Rejects slots whose timestamp is not after the previous accepted slot's (any schema)";
    // "*": the slot's own timestamp is in every slot; a "field" is found in the channel's typed schema.
    static constexpr const char* input_schema = "*";
    static constexpr const char* params_schema = R"json([
{"name":"strict","type":"boolean","default":true,
 "doc":"true: each timestamp must be after the previous accepted one; false: an equal timestamp passes too"},
{"name":"field","type":"string","default":"",
 "doc":"empty: the slot's own timestamp; otherwise a scalar u8 or i8 field of the channel's typed schema holding nanoseconds"}
])json";

    explicit MonotonicTimestamp(sdk::NodeContext& context);

    sdk::Verdict validate(sdk::NodeContext& context, const sdk::InputSlot<sdk::Bytes>& in);

private:
    sdk::Verdict reject(std::uint64_t key) const;
    /// The timestamp as text ("1500"), from its order key.
    std::string text_of(std::uint64_t key) const;

    bool strict_ = true;
    bool from_field_ = false;
    TimestampField field_;
    bool have_previous_ = false;
    /// The previous accepted timestamp as an order key: its bits, with the sign bit flipped for i8, so that
    /// unsigned comparison and subtraction order and measure both kinds.
    std::uint64_t previous_ = 0;
};

}  // namespace dhub::plugins::monotonic_timestamp
