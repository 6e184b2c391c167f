// SPDX-License-Identifier: Apache-2.0
// How node threads spin before they sleep (docs/kernel.md, "Waiting"): 20 us busily while every node can have a
// CPU of its own, 20 us yielding the CPU between looks once the nodes outnumber the kernel's CPUs (taskset gives
// the kernel one or two here), not at all beyond two nodes per CPU (node_spin_test), busily as long as --spin-us
// says when it says it; a node added or removed while the
// graph runs changes it at once, and a node in a process of its own waits as its kernel decided.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

constexpr const char* TASKSET = "/usr/bin/taskset";

/// The CPUs this test may run on, in order.
std::vector<int> own_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
    return cpus;
}

/// A launcher that runs the kernel on the first `count` of the test's CPUs only (taskset execs it: the pid the
/// test holds is the kernel's); empty when there are fewer or no taskset.
std::vector<std::string> on_cpus(std::size_t count) {
    const std::vector<int> cpus = own_cpus();
    if (cpus.size() < count || ::access(TASKSET, X_OK) != 0) return {};
    std::string list;
    for (std::size_t index = 0; index < count; ++index)
        list += (index == 0 ? "" : ",") + std::to_string(cpus[index]);
    return {TASKSET, "-c", list};
}

/// Why on_cpus(count) gave no launcher.
std::string cannot_run_on(std::size_t count) {
    return "needs " + std::to_string(count) + " CPU(s) in the test's affinity mask and " + TASKSET;
}

/// The node_wait events so far, in order.
std::vector<json> node_waits(const TempDir& dir) {
    std::vector<json> waits;
    for (const json& event : read_events(dir)) {
        if (event["event"] == "node_wait") waits.push_back(event);
    }
    return waits;
}

/// Waits for the count-th node_wait event and returns it (null, and a failure with the kernel's log, when it did
/// not come).
json nth_node_wait(const TempDir& dir, std::size_t count) {
    if (!wait_until([&] { return node_waits(dir).size() >= count; })) {
        ADD_FAILURE() << "no node_wait event number " << count << ": " << read_text_file((dir / "kernel.log").string());
        return nullptr;
    }
    return node_waits(dir)[count - 1];
}

TEST(NodeWait, NodesThatOutnumberTheKernelsCpusYieldTheirCpuWhileTheySpin) {
    const std::vector<std::string> one_cpu = on_cpus(1);
    if (one_cpu.empty()) GTEST_SKIP() << cannot_run_on(1);
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, recorded_waveform_graph("crowded", dir)), {}, one_cpu);
    const json wait = nth_node_wait(dir, 1);
    ASSERT_FALSE(wait.is_null());
    EXPECT_EQ(wait["spin_ns"], 20'000);
    EXPECT_EQ(wait["yield"], true);
    EXPECT_EQ(wait["nodes"], 2);
    EXPECT_NE(wait["reason"].get<std::string>().find("2 nodes on 1 CPU"), std::string::npos) << wait.dump();
    // Spinning on the source's CPU loses nothing: the recorder keeps up with the source on the one CPU.
    wait_flowing(dir, std::to_string(kernel.pid()), "rec", 200);
    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(30), SIGINT));
    ASSERT_EQ(run.status.code, 0) << run.output;
    EXPECT_EQ(run.node("rec")["errors"], 0);
    EXPECT_EQ(run.node("rec")["slots_in"], run.node("sim")["slots_out"]) << "the lossless channel lost slots";
    EXPECT_NE(run.output.find("node threads: 2 nodes on 1 CPU: a waiting node lets any thread ready to run on its "
                              "CPU run first"),
              std::string::npos)
        << run.output;
}

TEST(NodeWait, NodesWithACpuEachSpinBusilyFirst) {
    const std::vector<std::string> two_cpus = on_cpus(2);
    if (two_cpus.empty()) GTEST_SKIP() << cannot_run_on(2);
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, recorded_waveform_graph("roomy", dir)), {}, two_cpus);
    const json wait = nth_node_wait(dir, 1);
    ASSERT_FALSE(wait.is_null());
    EXPECT_EQ(wait["spin_ns"], 20'000);
    EXPECT_EQ(wait["yield"], false);
    EXPECT_NE(wait["reason"].get<std::string>().find("2 nodes on 2 CPUs"), std::string::npos) << wait.dump();
    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(30), SIGINT));
    EXPECT_EQ(run.status.code, 0) << run.output;
}

TEST(NodeWait, SpinUsChoosesTheSpinWhateverTheNodesAndCpus) {
    const std::vector<std::string> one_cpu = on_cpus(1);
    if (one_cpu.empty()) GTEST_SKIP() << cannot_run_on(1);
    TempDir dir;
    ChildProcess kernel =
        start_kernel(dir, write_graph(dir, recorded_waveform_graph("chosen", dir)), {"--spin-us", "2.5"}, one_cpu);
    const json wait = nth_node_wait(dir, 1);
    ASSERT_FALSE(wait.is_null());
    EXPECT_EQ(wait["spin_ns"], 2'500);
    EXPECT_EQ(wait["yield"], false) << "--spin-us chooses a busy spin, even on a crowded CPU";
    EXPECT_NE(wait["reason"].get<std::string>().find("spins 2.5 us before it sleeps (--spin-us)"), std::string::npos)
        << wait.dump();
    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(30), SIGINT));
    EXPECT_EQ(run.status.code, 0) << run.output;
}

TEST(NodeWait, SpinUsOutOfRangeIsAUsageErrorThatSaysTheRange) {
    TempDir dir;
    const std::filesystem::path graph = write_graph(dir, recorded_waveform_graph("refused", dir));
    for (const std::string value : {"-1", "100001", "nan"}) {
        const KernelRun run = run_kernel(dir, graph, {"--spin-us", value});
        EXPECT_EQ(run.status.code, 2) << value << ": " << run.output;
        EXPECT_NE(run.output.find("--spin-us must be between 0 and 100000"), std::string::npos)
            << value << ": " << run.output;
        EXPECT_EQ(count_events(dir, "graph_started"), 0U) << value;
    }
}

TEST(NodeWait, ANodeAddedBeyondTheCpusMakesTheSpinYieldAtOnceAndItsRemovalMakesItBusyAgain) {
    const std::vector<std::string> one_cpu = on_cpus(1);
    if (one_cpu.empty()) GTEST_SKIP() << cannot_run_on(1);
    TempDir dir;
    json graph = recorded_waveform_graph("edited", dir);
    graph["nodes"].erase(1);  // the source alone: one node on one CPU
    // Latest-only: until the recorder is added the source writes on with no reader at all.
    graph["channels"][0]["sync"] = "latest_only";
    ChildProcess kernel = start_kernel(dir, write_graph(dir, graph), {}, one_cpu);
    const std::string pid = std::to_string(kernel.pid());
    const json alone = nth_node_wait(dir, 1);
    ASSERT_FALSE(alone.is_null());
    EXPECT_EQ(alone["spin_ns"], 20'000);
    EXPECT_EQ(alone["yield"], false);

    const json recorder = {
        {"id", "rec"}, {"plugin", "recorder"}, {"params", {{"path", (dir / "rec.dhr").string()}}}, {"inputs", {"raw"}}};
    const CtlRun added = ctl(dir, {"add", recorder.dump(), "--json", "--kernel", pid});
    ASSERT_EQ(added.code, 0) << added.err;
    const json crowded = nth_node_wait(dir, 2);
    ASSERT_FALSE(crowded.is_null());
    EXPECT_EQ(crowded["spin_ns"], 20'000);
    EXPECT_EQ(crowded["yield"], true);
    EXPECT_EQ(crowded["nodes"], 2);

    const CtlRun removed = ctl(dir, {"remove", "rec", "--json", "--kernel", pid});
    ASSERT_EQ(removed.code, 0) << removed.err;
    const json again = nth_node_wait(dir, 3);
    ASSERT_FALSE(again.is_null());
    EXPECT_EQ(again["spin_ns"], 20'000);
    EXPECT_EQ(again["yield"], false);
    EXPECT_EQ(again["nodes"], 1);
    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(30), SIGINT));
    EXPECT_EQ(run.status.code, 0) << run.output;
}

/// The arguments a process was started with, from /proc.
std::vector<std::string> command_line(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::vector<std::string> arguments;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t end = text.find('\0', start);
        arguments.push_back(text.substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return arguments;
}

/// The --spin-ns a kernel on `launcher`'s CPUs, with `arguments`, starts the host of an isolated recorder with, and
/// " yield" after it when it passes --spin-yield too.
std::string host_spin(const std::vector<std::string>& launcher, const std::vector<std::string>& arguments) {
    TempDir dir;
    json graph = recorded_waveform_graph("hosted", dir);
    graph["nodes"][1]["isolation"] = "process";
    ChildProcess kernel = start_kernel(dir, write_graph(dir, graph), arguments, launcher);
    const bool started = wait_until([&] { return count_events(dir, "node_process_started", {{"node", "rec"}}) == 1; });
    EXPECT_TRUE(started) << read_text_file((dir / "kernel.log").string());
    if (!started) return "(no host)";
    pid_t host = 0;
    for (const json& event : read_events(dir)) {
        if (event["event"] == "node_process_started") host = event["pid"].get<pid_t>();
    }
    // The host runs (it has exec'd, and its command line is its own) once its node takes slots.
    wait_flowing(dir, std::to_string(kernel.pid()), "rec", 100);
    const std::vector<std::string> host_arguments = command_line(host);
    const auto spin = std::find(host_arguments.begin(), host_arguments.end(), "--spin-ns");
    std::string value = "(not given)";
    if (spin != host_arguments.end() && spin + 1 != host_arguments.end()) value = *(spin + 1);
    if (std::find(host_arguments.begin(), host_arguments.end(), "--spin-yield") != host_arguments.end()) {
        value += " yield";
    }
    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(30), SIGINT));
    EXPECT_EQ(run.status.code, 0) << run.output;
    EXPECT_EQ(run.node("rec")["errors"], 0);
    return value;
}

TEST(NodeWait, ANodeInAProcessOfItsOwnWaitsAsItsKernelDecided) {
    const std::vector<std::string> one_cpu = on_cpus(1);
    if (one_cpu.empty()) GTEST_SKIP() << cannot_run_on(1);
    EXPECT_EQ(host_spin(one_cpu, {}), "20000 yield") << "two nodes on one CPU: the host's node must yield too";
    EXPECT_EQ(host_spin(one_cpu, {"--spin-us", "7"}), "7000");
    const std::vector<std::string> two_cpus = on_cpus(2);
    if (!two_cpus.empty()) {
        EXPECT_EQ(host_spin(two_cpus, {}), "20000") << "two nodes on two CPUs";
    }
}

}  // namespace
}  // namespace dhub::testing
