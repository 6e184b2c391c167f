// SPDX-License-Identifier: Apache-2.0
#include "demux_rule.hpp"

#include <cstring>

namespace dhub::plugins::fanout {

std::optional<DemuxRule::Kind> DemuxRule::parse(std::string_view name) noexcept {
    if (name == "round_robin") return Kind::RoundRobin;
    if (name == "sequence") return Kind::Sequence;
    if (name == "field") return Kind::Field;
    return std::nullopt;
}

std::optional<std::uint32_t> DemuxRule::route(std::uint64_t sequence, std::span<const std::byte> payload) noexcept {
    switch (kind_) {
        case Kind::RoundRobin: {
            const std::uint32_t output = next_;
            next_ = next_ + 1 == outputs_ ? 0 : next_ + 1;
            return output;
        }
        case Kind::Sequence:
            return static_cast<std::uint32_t>(sequence % outputs_);
        case Kind::Field: {
            if (offset_ > payload.size() || payload.size() - offset_ < width_) return std::nullopt;
            std::uint64_t value = 0;  // little-endian: the low bytes of value on the platforms dhub supports
            std::memcpy(&value, payload.data() + offset_, width_);
            if (value >= outputs_) return std::nullopt;
            return static_cast<std::uint32_t>(value);
        }
    }
    return std::nullopt;
}

}  // namespace dhub::plugins::fanout
