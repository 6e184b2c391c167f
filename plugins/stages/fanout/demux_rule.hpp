// SPDX-License-Identifier: Apache-2.0
// Which output a slot goes to, for dhub.stage.demux: in turn (round_robin), by sequence number modulo the
// outputs (sequence: the same slot always goes to the same output, whoever reads), or by an unsigned
// little-endian integer field in the slot (field: e.g. a detector module id at a fixed offset).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace dhub::plugins::fanout {

class DemuxRule {
public:
    enum class Kind { RoundRobin, Sequence, Field };

    /// width: 1, 2, 4 or 8 bytes (field only).
    DemuxRule(Kind kind, std::uint32_t outputs, std::uint64_t offset, std::uint32_t width) noexcept
        : kind_(kind), outputs_(outputs), offset_(offset), width_(width) {}
    static std::optional<Kind> parse(std::string_view name) noexcept;

    /// The output index of a slot, or nullopt when it goes nowhere: a field value that names no output, or
    /// a slot too short to hold the field.
    std::optional<std::uint32_t> route(std::uint64_t sequence, std::span<const std::byte> payload) noexcept;

private:
    Kind kind_;
    std::uint32_t outputs_;
    std::uint64_t offset_;
    std::uint32_t width_;
    std::uint32_t next_ = 0;
};

}  // namespace dhub::plugins::fanout
