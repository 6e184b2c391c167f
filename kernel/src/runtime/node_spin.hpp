// SPDX-License-Identifier: Apache-2.0
// How long a node thread busy-waits for a slot or for room before it sleeps on the channel's futex.
//
// Spinning first saves a wake-up (a few microseconds) when the awaited slot comes soon, which it does when
// every waiting thread has a CPU of its own. When node threads outnumber the CPUs, a spinning thread holds the
// CPU that the thread it waits for needs: a source sharing a CPU with its stage spun away a sixth of it, and
// sleeping at once took source -> stage -> sink at 4 KiB from 61 % to 83 % of source -> sink on two CPUs
// (dhub-bench --filter stage_path; docs/kernel.md, "Waiting").
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace dhub::runtime {

/// The spin of a node thread that has a CPU of its own.
inline constexpr std::chrono::nanoseconds SPIN_WITH_A_CPU_EACH{std::chrono::microseconds(20)};

struct NodeSpin {
    std::chrono::nanoseconds spin{};
    std::string reason;  ///< for the log and the node_wait event
};

/// The spin for a graph of `nodes` nodes on `cpus` CPUs: SPIN_WITH_A_CPU_EACH while every node can have a CPU,
/// none once they outnumber them; `chosen` (dhub-kernel --spin-us) wins over both.
NodeSpin decide_node_spin(std::size_t nodes, std::size_t cpus, std::optional<std::chrono::nanoseconds> chosen);

/// The CPUs this process may run on (its main thread's affinity mask, whichever thread asks: a container's cpuset or
/// taskset counts, a node's "cpu" pin does not), at least 1.
std::size_t usable_cpus() noexcept;

}  // namespace dhub::runtime
