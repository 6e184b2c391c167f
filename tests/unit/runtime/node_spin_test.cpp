// SPDX-License-Identifier: Apache-2.0
// decide_node_spin: how node threads spin before they sleep, from the graph's nodes and the kernel's CPUs
// (docs/kernel.md, "Waiting"); usable_cpus: the CPUs of the affinity mask, not of the machine.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <utility>

#include "node_spin.hpp"

namespace dhub::runtime {
namespace {

using std::chrono::nanoseconds;

TEST(NodeSpin, NodesWithACpuEachSpinBusilyFirst) {
    for (const auto& [nodes, cpus] : {std::pair{1, 1}, std::pair{2, 2}, std::pair{3, 8}}) {
        const NodeSpin decided = decide_node_spin(nodes, cpus, std::nullopt);
        EXPECT_EQ(decided.spin, NODE_SPIN) << nodes << " nodes on " << cpus << " CPUs";
        EXPECT_FALSE(decided.yield) << nodes << " nodes on " << cpus << " CPUs";
    }
    EXPECT_EQ(decide_node_spin(2, 2, std::nullopt).reason,
              "2 nodes on 2 CPUs: a waiting node spins 20 us before it sleeps");
}

TEST(NodeSpin, NodesThatOutnumberTheCpusYieldTheirCpuWhileTheySpin) {
    for (const auto& [nodes, cpus] : {std::pair{3, 2}, std::pair{2, 1}, std::pair{8, 4}}) {
        const NodeSpin decided = decide_node_spin(nodes, cpus, std::nullopt);
        EXPECT_EQ(decided.spin, NODE_SPIN) << nodes << " nodes on " << cpus << " CPUs";
        EXPECT_TRUE(decided.yield) << nodes << " nodes on " << cpus << " CPUs";
    }
    EXPECT_EQ(decide_node_spin(2, 1, std::nullopt).reason,
              "2 nodes on 1 CPU: a waiting node lets any thread ready to run on its CPU run first, looking again each "
              "time, for 20 us before it sleeps");
}

TEST(NodeSpin, MoreThanTwoNodesPerCpuSleepAtOnce) {
    for (const auto& [nodes, cpus] : {std::pair{3, 1}, std::pair{5, 2}, std::pair{40, 4}}) {
        const NodeSpin decided = decide_node_spin(nodes, cpus, std::nullopt);
        EXPECT_EQ(decided.spin, nanoseconds(0)) << nodes << " nodes on " << cpus << " CPUs";
        EXPECT_FALSE(decided.yield) << nodes << " nodes on " << cpus << " CPUs";
    }
    EXPECT_EQ(decide_node_spin(5, 2, std::nullopt).reason,
              "5 nodes on 2 CPUs: a waiting node sleeps at once (more than 2 nodes per CPU: their spins would add up)");
}

TEST(NodeSpin, AChosenSpinWinsEitherWayAndSpinsBusily) {
    EXPECT_EQ(decide_node_spin(3, 2, nanoseconds(5'000)).spin, nanoseconds(5'000));
    EXPECT_FALSE(decide_node_spin(3, 2, nanoseconds(5'000)).yield);
    EXPECT_EQ(decide_node_spin(1, 4, nanoseconds(0)).spin, nanoseconds(0));
    EXPECT_EQ(decide_node_spin(1, 4, nanoseconds(0)).reason,
              "1 node on 4 CPUs: a waiting node spins 0 us before it sleeps (--spin-us)");
    EXPECT_EQ(decide_node_spin(3, 2, nanoseconds(2'500)).reason,
              "3 nodes on 2 CPUs: a waiting node spins 2.5 us before it sleeps (--spin-us)");
    EXPECT_EQ(decide_node_spin(3, 2, nanoseconds(1'001)).reason,
              "3 nodes on 2 CPUs: a waiting node spins 1.001 us before it sleeps (--spin-us)");
}

TEST(NodeSpin, AHostToldToYieldYieldsWhateverItsOwnNodesAndCpus) {
    // dhub-node-host runs one node, so by its own count it would spin busily: it must wait as its kernel said.
    const NodeSpin decided = decide_node_spin(1, 2, nanoseconds(20'000), true);
    EXPECT_EQ(decided.spin, nanoseconds(20'000));
    EXPECT_TRUE(decided.yield);
    EXPECT_NE(decided.reason.find("(as its kernel decided)"), std::string::npos) << decided.reason;
}

TEST(NodeSpin, UsableCpusCountsTheAffinityMaskNotTheMachine) {
    // In a child: its affinity is narrowed to one CPU, which must not leak into the other tests.
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        if (::sched_getaffinity(0, sizeof set, &set) != 0) ::_exit(3);
        int first = 0;
        while (!CPU_ISSET(first, &set))
            ++first;
        CPU_ZERO(&set);
        CPU_SET(first, &set);
        if (::sched_setaffinity(0, sizeof set, &set) != 0) ::_exit(4);
        ::_exit(usable_cpus() == 1 ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "usable_cpus() did not see the one CPU the child was given";
    EXPECT_GE(usable_cpus(), 1U);
}

TEST(NodeSpin, UsableCpusIsTheProcesssWhateverThreadAsksEvenOnePinnedToOneCpu) {
    // A node thread pinned with "cpu" may add a node (a broker: input's receiver): the spin it decides must count
    // the kernel's CPUs, not its own one.
    const std::size_t process_cpus = usable_cpus();
    if (process_cpus < 2) GTEST_SKIP() << "needs two CPUs in the affinity mask";
    std::size_t seen_by_pinned = 0;
    bool pinned = false;
    std::thread node([&] {
        cpu_set_t set;
        CPU_ZERO(&set);
        if (::sched_getaffinity(0, sizeof set, &set) != 0) return;
        int first = 0;
        while (!CPU_ISSET(first, &set))
            ++first;
        CPU_ZERO(&set);
        CPU_SET(first, &set);
        pinned = ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) == 0;
        seen_by_pinned = usable_cpus();
    });
    node.join();
    ASSERT_TRUE(pinned);
    EXPECT_EQ(seen_by_pinned, process_cpus);
}

}  // namespace
}  // namespace dhub::runtime
