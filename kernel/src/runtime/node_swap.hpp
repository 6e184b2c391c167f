// SPDX-License-Identifier: Apache-2.0
// What a swap (dhub-ctl swap, docs/control.md) hands a running node, and what the node answers. The runner
// checks the new component against the graph and loads its plugin; the node's thread replaces the instance
// between two steps, so the node's seats and its place in every ring stay as they are: the old instance handled
// every slot up to the fence, the new one reads the next.
#pragma once

#include <cstdint>
#include <future>
#include <string>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"
#include "dhub/plugin/component_info.hpp"
#include "dhub/sdk/abi.h"

namespace dhub::runtime {

/// A new component for a node, checked and loaded (its plugin initialised) by the runner.
struct SwapPlan {
    plugin::ComponentInfo component;
    dhub_component_descriptor descriptor{};
    nlohmann::json params;    ///< validated, defaults applied
    std::string plugin_file;  ///< for messages
};

/// A swap done: where the fence was, and what it cost.
struct SwapOutcome {
    static constexpr std::uint64_t NO_SEQUENCE = ~0ULL;
    std::string replaced;                         ///< the old component's id
    std::uint64_t input_sequence = NO_SEQUENCE;   ///< the first input slot the new instance reads (input 0)
    std::uint64_t output_sequence = NO_SEQUENCE;  ///< the first output slot it writes (output 0)
    std::uint64_t waited_ns = 0;                  ///< from the request until the old instance's step ended
    /// From the old instance's last step to the new one's first: its create, the old one's stop, its start, the
    /// old one's destroy. No slot moves through the node meanwhile.
    std::uint64_t pause_ns = 0;
};

/// A live parameter change asked of a node's thread (dhub-ctl params set), answered through done with
/// {"node", "name", "from", "to"}.
struct ParamRequest {
    std::string name;
    nlohmann::json value;
    std::promise<Result<nlohmann::json>> done;
};

/// {"from", "input_sequence", "output_sequence" (null: none), "waited_ns", "pause_ns"}: the answer and the event.
nlohmann::json to_json(const SwapOutcome& outcome);

/// A swap asked of a node's thread, answered through done.
struct SwapRequest {
    SwapPlan plan;
    std::uint64_t asked_ns = 0;
    std::promise<Result<SwapOutcome>> done;
};

}  // namespace dhub::runtime
