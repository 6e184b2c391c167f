// SPDX-License-Identifier: Apache-2.0
// The pairing rule of dhub.stage.correlate, apart from the plugin so it can be tested on plain numbers.
// Given the key (timestamp or sequence) of the slot each input holds, it says whether they form a set and,
// if not, which slots can never be part of one. Keys of one input only grow, which is what makes a slot
// hopeless: once another input holds a key beyond the tolerance, nothing that input sends later is closer.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace dhub::plugins::correlate {

struct Decision {
    bool matched = false;        ///< every input holds a slot and their keys are within the tolerance
    std::vector<bool> hopeless;  ///< per input: its slot can never be matched (release it as unmatched)
};

/// keys[i]: the key of input i's slot, or nullopt when input i holds none; closed[i]: input i will never
/// send another slot. Two keys match when they differ by at most tolerance (0 for sequences).
Decision decide(const std::vector<std::optional<std::uint64_t>>& keys,
                const std::vector<bool>& closed,
                std::uint64_t tolerance);

}  // namespace dhub::plugins::correlate
