// SPDX-License-Identifier: Apache-2.0
#include "matcher.hpp"

#include <algorithm>

namespace dhub::plugins::correlate {

Decision decide(const std::vector<std::optional<std::uint64_t>>& keys,
                const std::vector<bool>& closed,
                std::uint64_t tolerance) {
    Decision decision;
    decision.hopeless.assign(keys.size(), false);
    bool any_closed_empty = false;
    bool all_present = true;
    std::uint64_t newest = 0;
    std::uint64_t oldest = ~0ULL;
    for (std::size_t input = 0; input < keys.size(); ++input) {
        if (!keys[input]) {
            all_present = false;
            any_closed_empty = any_closed_empty || closed[input];
            continue;
        }
        newest = std::max(newest, *keys[input]);
        oldest = std::min(oldest, *keys[input]);
    }
    if (any_closed_empty) {
        // An input that ended can complete no set: whatever the others hold is unmatched.
        for (std::size_t input = 0; input < keys.size(); ++input)
            decision.hopeless[input] = keys[input].has_value();
        return decision;
    }
    if (oldest == ~0ULL) return decision;  // nothing held
    // A key more than tolerance below the newest held key cannot match that slot, nor anything its input
    // sends later (keys only grow): it is hopeless whether or not every input holds a slot yet.
    for (std::size_t input = 0; input < keys.size(); ++input) {
        if (keys[input] && newest - *keys[input] > tolerance) decision.hopeless[input] = true;
    }
    decision.matched = all_present && newest - oldest <= tolerance;
    return decision;
}

}  // namespace dhub::plugins::correlate
