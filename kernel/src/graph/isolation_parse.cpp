// SPDX-License-Identifier: Apache-2.0
#include "isolation_parse.hpp"

#include <array>
#include <limits>

#include "wording.hpp"

namespace dhub::graph {

const char* to_string(Isolation isolation) noexcept {
    return isolation == Isolation::Process ? "process" : "thread";
}

const char* to_string(Supervision::Restart restart) noexcept {
    switch (restart) {
        case Supervision::Restart::Permanent:
            return "permanent";
        case Supervision::Restart::Transient:
            return "transient";
        case Supervision::Restart::Temporary:
            return "temporary";
    }
    return "unknown";
}

namespace detail {
namespace {

using Json = nlohmann::json;

const std::vector<std::string> ISOLATION_NAMES = {"thread", "process"};
constexpr std::array ISOLATION_VALUES = {Isolation::Thread, Isolation::Process};
const std::vector<std::string> RESTART_NAMES = {"permanent", "transient", "temporary"};
constexpr std::array RESTART_VALUES = {Supervision::Restart::Permanent, Supervision::Restart::Transient,
                                       Supervision::Restart::Temporary};
const std::vector<std::string> LIMIT_KEYS = {"memory_mb", "cpus", "nice"};
constexpr std::uint64_t MAX_PERIOD_S = 86'400;
constexpr std::uint64_t MAX_WATCHDOG_MS = 3'600'000;
constexpr std::uint64_t MAX_MEMORY_MB = std::uint64_t{1} << 30;  // 1 PiB: any real limit fits
constexpr std::uint64_t MAX_CPU = 1023;

void parse_limits(const Json& value, const std::string& path, Supervision& supervision, Issues& issues) {
    if (!expect_object(value, path, "an object {\"memory_mb\": ..., \"cpus\": [...], \"nice\": ...}", issues)) return;
    check_known_keys(value, path, LIMIT_KEYS, issues);
    if (const Json* memory = find_member(value, "memory_mb")) {
        supervision.memory_mb = read_unsigned(*memory, path + "/memory_mb", 16, MAX_MEMORY_MB, issues);
    }
    if (const Json* cpus = find_member(value, "cpus")) {
        if (expect_array(*cpus, path + "/cpus", "an array of core numbers such as [2, 3]", issues)) {
            for (std::size_t index = 0; index < cpus->size(); ++index) {
                if (auto core =
                        read_unsigned((*cpus)[index], path + "/cpus/" + std::to_string(index), 0, MAX_CPU, issues)) {
                    supervision.cpus.push_back(static_cast<std::uint32_t>(*core));
                }
            }
        }
    }
    if (const Json* nice = find_member(value, "nice")) {
        if (nice->is_number_integer() && nice->get<std::int64_t>() >= -20 && nice->get<std::int64_t>() <= 19) {
            supervision.nice = static_cast<int>(nice->get<std::int64_t>());
        } else {
            issues.push_back({path + "/nice", "expected a nice value from -20 to 19, found " + describe(*nice)});
        }
    }
}

}  // namespace

Isolation default_isolation(const std::string& plugin, Isolation graph_default) {
    // Python code runs in a process of its own unless its node says otherwise: its interpreter lock and the
    // interpreter itself stay out of the kernel's process, and a crash in a C extension ends only that process.
    return plugin == PYTHON_PLUGIN ? Isolation::Process : graph_default;
}

const std::vector<std::string> SUPERVISION_KEYS = {"isolation",        "restart",     "max_restarts",
                                                   "restart_period_s", "watchdog_ms", "limits"};

std::optional<Isolation> parse_isolation(const Json& entry, const std::string& path, Issues& issues) {
    const Json* value = find_member(entry, "isolation");
    if (value == nullptr) return std::nullopt;
    const auto index = read_choice(*value, path + "/isolation", ISOLATION_NAMES, issues);
    if (!index) return std::nullopt;
    return ISOLATION_VALUES[*index];
}

void parse_node_isolation(
    const Json& entry, const std::string& path, Isolation graph_default, NodeSpec& node, Issues& issues) {
    node.isolation = parse_isolation(entry, path, issues).value_or(default_isolation(node.plugin, graph_default));
    Supervision& supervision = node.supervision;
    if (const Json* restart = find_member(entry, "restart")) {
        node.supervision_given = true;
        if (auto index = read_choice(*restart, path + "/restart", RESTART_NAMES, issues)) {
            supervision.restart = RESTART_VALUES[*index];
        }
    }
    if (const Json* most = find_member(entry, "max_restarts")) {
        node.supervision_given = true;
        if (auto count = read_unsigned(*most, path + "/max_restarts", 0, Supervision::MAX_RESTARTS, issues)) {
            supervision.max_restarts = static_cast<std::uint32_t>(*count);
        }
    }
    if (const Json* period = find_member(entry, "restart_period_s")) {
        node.supervision_given = true;
        if (auto seconds = read_unsigned(*period, path + "/restart_period_s", 1, MAX_PERIOD_S, issues)) {
            supervision.restart_period_s = static_cast<std::uint32_t>(*seconds);
        }
    }
    if (const Json* watchdog = find_member(entry, "watchdog_ms")) {
        node.supervision_given = true;
        if (auto ms = read_unsigned(*watchdog, path + "/watchdog_ms", 0, MAX_WATCHDOG_MS, issues)) {
            // Below the host's beat period a healthy node could not show progress in time.
            if (*ms != 0 && *ms < 100) {
                issues.push_back({path + "/watchdog_ms",
                                  "expected 0 (no watchdog) or at least 100 ms, found " + std::to_string(*ms)});
            } else {
                supervision.watchdog_ms = static_cast<std::uint32_t>(*ms);
            }
        }
    }
    if (const Json* limits = find_member(entry, "limits")) {
        node.supervision_given = true;
        parse_limits(*limits, path + "/limits", supervision, issues);
    }
}

}  // namespace detail
}  // namespace dhub::graph
