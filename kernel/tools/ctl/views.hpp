// SPDX-License-Identifier: Apache-2.0
// What dhub-ctl prints for each read-only command, as JSON (--json) and as text for people. The facts come from
// the kernel's counters page and, for a channel's fill and each reader's lag, from the channel's own segment:
// both are shared memory, so every view works while the kernel is wedged or stopped with SIGSTOP.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "discovery.hpp"

namespace dhub::ctl {

nlohmann::json kernels_json(const std::vector<FoundKernel>& kernels);
std::string kernels_text(const std::vector<FoundKernel>& kernels);

nlohmann::json status_json(const counters::KernelCounters& kernel);
std::string status_text(const counters::KernelCounters& kernel);

nlohmann::json nodes_json(const counters::KernelCounters& kernel);
std::string nodes_text(const counters::KernelCounters& kernel);

/// Every channel with its ring's fill, each reader's lag and skipped slots (read from its segment), and the
/// loss ledger of the nodes that read it.
nlohmann::json channels_json(const counters::KernelCounters& kernel);
std::string channels_text(const nlohmann::json& channels);

/// The "status" reply of a kernel asked over its control endpoint (dhub-ctl --endpoint status): its graph, state
/// and each node's report as --report writes it.
std::string remote_status_text(const nlohmann::json& status);

/// A swap's answer (docs/control.md, "swap"): which component replaced which, at which sequences, how long the
/// node paused.
std::string swap_text(const nlohmann::json& answer);
/// An add's answer (docs/control.md, "add"): the node, what it reads and writes, its state.
std::string added_text(const nlohmann::json& answer);
/// A remove's answer: the node's final counts and the channels that went with it.
std::string removed_text(const nlohmann::json& answer);

}  // namespace dhub::ctl
