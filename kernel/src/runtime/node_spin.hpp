// SPDX-License-Identifier: Apache-2.0
// How a node thread waits for a slot or for room before it sleeps on the channel's futex.
//
// Spinning first saves a wake-up (a few microseconds, the waker's system call and the sleeper's trip through the
// scheduler) when the awaited slot comes soon, which it does when every waiting thread has a CPU of its own. When
// node threads outnumber the CPUs, a busy spin holds the CPU that the thread it waits for needs: a source sharing
// a CPU with its stage spun away a sixth of it. So there the spin yields: between two looks the waiter lets any
// thread that is ready to run on its CPU run first. A waiter whose CPU has nothing else to run (a sink alone on
// its CPU) still sees its slot at once and costs its producer no wake-up, and one that shares gets out of the
// way. On two CPUs, source -> stage -> sink at 4 KiB ran at 50 % of source -> sink spinning busily and at about
// 70 % sleeping at once or yielding, and yielding halved the context switches (dhub-bench --filter stage_path;
// docs/kernel.md, "Waiting"). With more than twice as many nodes as CPUs a node sleeps at once: a spin that finds
// nothing else to run on its CPU still burns it, and many waiting nodes' spins (paced sources' readers, say) would
// add up to CPU time that the work, or other programs, need.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace dhub::runtime {

/// How long a node thread looks for its slot before it sleeps, busily or yielding.
inline constexpr std::chrono::nanoseconds NODE_SPIN{std::chrono::microseconds(20)};
/// Up to this many nodes per CPU the spin yields; beyond, a node sleeps at once.
inline constexpr std::size_t YIELDING_NODES_PER_CPU = 2;

struct NodeSpin {
    std::chrono::nanoseconds spin{};
    bool yield = false;  ///< shm::WaitOptions::yield
    std::string reason;  ///< for the log and the node_wait event
};

/// The wait for a graph of `nodes` nodes on `cpus` CPUs: a busy spin of NODE_SPIN while every node can have a CPU,
/// a yielding one once they outnumber them, none (sleep at once) beyond YIELDING_NODES_PER_CPU nodes per CPU.
/// `chosen` (dhub-kernel --spin-us; a node host's --spin-ns) wins over all three, yielding or not as
/// `chosen_yields` says.
NodeSpin decide_node_spin(std::size_t nodes,
                          std::size_t cpus,
                          std::optional<std::chrono::nanoseconds> chosen,
                          bool chosen_yields = false);

/// The CPUs this process may run on (its main thread's affinity mask, whichever thread asks: a container's cpuset or
/// taskset counts, a node's "cpu" pin does not), at least 1.
std::size_t usable_cpus() noexcept;

}  // namespace dhub::runtime
