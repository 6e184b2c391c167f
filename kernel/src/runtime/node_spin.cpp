// SPDX-License-Identifier: Apache-2.0
#include "node_spin.hpp"

#include <sched.h>
#include <unistd.h>

#include <thread>

namespace dhub::runtime {

namespace {

/// "20 us", "2.5 us", "0 us".
std::string microseconds(std::chrono::nanoseconds spin) {
    const auto ns = spin.count();
    std::string text = std::to_string(ns / 1000);
    if (ns % 1000 != 0) {
        std::string fraction = std::to_string(1000 + ns % 1000).substr(1);
        while (fraction.back() == '0')
            fraction.pop_back();
        text += "." + fraction;
    }
    return text + " us";
}

}  // namespace

NodeSpin decide_node_spin(std::size_t nodes,
                          std::size_t cpus,
                          std::optional<std::chrono::nanoseconds> chosen,
                          bool chosen_yields) {
    const std::string shape = std::to_string(nodes) + (nodes == 1 ? " node" : " nodes") + " on " +
                              std::to_string(cpus) + (cpus == 1 ? " CPU" : " CPUs");
    const auto yielding = [&](std::chrono::nanoseconds spin, const char* why) {
        return NodeSpin{spin, true,
                        shape +
                            ": a waiting node lets any thread ready to run on its CPU run first, looking again each " +
                            "time, for " + microseconds(spin) + " before it sleeps" + why};
    };
    if (chosen && chosen_yields) return yielding(*chosen, " (as its kernel decided)");
    if (chosen) {
        return {*chosen, false,
                shape + ": a waiting node spins " + microseconds(*chosen) + " before it sleeps (--spin-us)"};
    }
    if (nodes > cpus * YIELDING_NODES_PER_CPU) {
        return {std::chrono::nanoseconds(0), false,
                shape + ": a waiting node sleeps at once (more than " + std::to_string(YIELDING_NODES_PER_CPU) +
                    " nodes per CPU: their spins would add up)"};
    }
    if (nodes > cpus) return yielding(NODE_SPIN, "");
    return {NODE_SPIN, false, shape + ": a waiting node spins " + microseconds(NODE_SPIN) + " before it sleeps"};
}

std::size_t usable_cpus() noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    // The process's mask, which its main thread keeps: 0 would be the calling thread's, and a node thread that
    // adds a node (a broker: input's receiver) may have pinned itself to one CPU with "cpu".
    if (::sched_getaffinity(::getpid(), sizeof set, &set) == 0) {
        const int count = CPU_COUNT(&set);
        if (count > 0) return static_cast<std::size_t>(count);
    }
    const unsigned hardware = std::thread::hardware_concurrency();
    return hardware > 0 ? hardware : 1;
}

}  // namespace dhub::runtime
