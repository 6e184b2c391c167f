// SPDX-License-Identifier: Apache-2.0
#include "pacing_parse.hpp"

#include <cmath>

#include "wording.hpp"

namespace dhub::graph {

const char* to_string(Pacing::Late late) noexcept {
    return late == Pacing::Late::Skip ? "skip" : "catch_up";
}

namespace detail {
namespace {

const std::vector<std::string> PACING_KEYS = {"rate_hz", "late"};
const std::vector<std::string> LATE_NAMES = {"catch_up", "skip"};

}  // namespace

std::optional<Pacing> parse_pacing(const nlohmann::json& entry, const std::string& path, Issues& issues) {
    const nlohmann::json* value = find_member(entry, "pacing");
    if (value == nullptr) return std::nullopt;
    const std::string at = child_path(path, "pacing");
    if (!expect_object(*value, at, "an object {\"rate_hz\": <ticks per second>, \"late\": \"catch_up\" | \"skip\"}",
                       issues)) {
        return std::nullopt;
    }
    check_known_keys(*value, at, PACING_KEYS, issues);
    Pacing pacing;
    bool valid = true;
    if (const nlohmann::json* rate = require_member(*value, at, "rate_hz", "ticks per second", issues)) {
        if (!rate->is_number() || !std::isfinite(rate->get<double>()) || rate->get<double>() <= 0 ||
            rate->get<double>() > Pacing::MAX_RATE_HZ) {
            issues.push_back({child_path(at, "rate_hz"), "expected ticks per second, a number above 0 and at most " +
                                                             nlohmann::json(Pacing::MAX_RATE_HZ).dump() + ", found " +
                                                             describe(*rate)});
            valid = false;
        } else {
            pacing.rate_hz = rate->get<double>();
        }
    } else {
        valid = false;
    }
    if (const nlohmann::json* late = find_member(*value, "late")) {
        if (auto choice = read_choice(*late, child_path(at, "late"), LATE_NAMES, issues)) {
            pacing.late = *choice == 1 ? Pacing::Late::Skip : Pacing::Late::CatchUp;
        } else {
            valid = false;
        }
    }
    // One call per tick: a paced source's slots come one at a time, whatever its burst handler could take.
    if (find_member(entry, "burst") != nullptr) {
        issues.push_back({child_path(path, "burst"),
                          "a paced source is called once per tick, one slot per call: remove \"burst\" or "
                          "\"pacing\""});
        valid = false;
    }
    return valid ? std::optional<Pacing>(pacing) : std::nullopt;
}

}  // namespace detail
}  // namespace dhub::graph
