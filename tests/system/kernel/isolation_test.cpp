// SPDX-License-Identifier: Apache-2.0
// Crash isolation in dhub-kernel: nodes with "isolation": "process" run in dhub-node-host processes that the
// kernel supervises. A stage that segfaults every 20 frames is restarted 100 times while the rest of the graph
// runs on, and its lossless downstream still sees every frame once; abort, exit(3), a hang, a memory hog under a
// limit and a create() that fails each end as the node's policy says; a SIGKILLed kernel takes its hosts with
// it; everything a plugin does in a thread works in a host. Without isolation the same crash kills the kernel.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "dhub/base/heap_policy.hpp"
#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

/// A sanitizer catches SIGSEGV itself and exits (code 66): these tests are about the signal, so the processes
/// they start (kernel and hosts inherit the environment) leave SIGSEGV to the OS. No effect without a sanitizer.
class DefaultSegv {
public:
    DefaultSegv() {
        for (const char* variable : {"ASAN_OPTIONS", "TSAN_OPTIONS"}) {
            const char* before = std::getenv(variable);
            saved_.emplace_back(variable, before != nullptr ? std::optional<std::string>(before) : std::nullopt);
            const std::string options = before != nullptr && *before != '\0' ? std::string(before) + ":" : "";
            ::setenv(variable, (options + "handle_segv=0").c_str(), 1);
        }
    }
    ~DefaultSegv() {
        for (const auto& [variable, value] : saved_) {
            if (value) {
                ::setenv(variable, value->c_str(), 1);
            } else {
                ::unsetenv(variable);
            }
        }
    }
    DefaultSegv(const DefaultSegv&) = delete;
    DefaultSegv& operator=(const DefaultSegv&) = delete;

private:
    std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

json read_json_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) return json();
    return json::parse(in, nullptr, false);
}

json lossless(const std::string& name, std::uint64_t slot_count = 8) {
    return {{"name", name}, {"slot_bytes", 64}, {"slot_count", slot_count}, {"sync", "every_reader"}};
}

json node(const std::string& id,
          const std::string& plugin,
          const std::string& component,
          json params = json::object()) {
    return {{"id", id}, {"plugin", plugin}, {"component", component}, {"params", std::move(params)}};
}

/// tick_frames -> raw -> crashy stage (isolated, `stage` merged in) -> out -> sequence_check writing dir/seq.json.
json crash_graph(const TempDir& dir, std::uint64_t frames, json stage_params, json stage_settings) {
    json source = node("src", "test_gate", "test.source.tick_frames", {{"count", frames}});
    source["outputs"] = {"raw"};
    json stage = node("stage", "test_crash", "test.stage.crashy", std::move(stage_params));
    stage["inputs"] = {"raw"};
    stage["outputs"] = {"out"};
    stage["isolation"] = "process";
    stage.update(stage_settings);
    json sink = node("sink", "test_crash", "test.sink.sequence_check", {{"file", dir.file("seq.json")}});
    sink["inputs"] = {"out"};
    return {{"schema_version", 1}, {"channels", {lossless("raw"), lossless("out")}}, {"nodes", {source, stage, sink}}};
}

TEST(Isolation, TheKernelAndItsNodeHostsKeepTheHeapTheyFreeForReuse) {
#ifdef DHUB_SANITIZER_RUNTIME
    GTEST_SKIP() << "a sanitizer's allocator ignores mallopt";
#endif
    if (const std::string setting = malloc_threshold_in_environment(); !setting.empty()) {
        GTEST_SKIP() << setting << " sets malloc thresholds: the kernel leaves them alone";
    }
    TempDir dir;
    const KernelRun run = run_kernel(dir, write_graph(dir, crash_graph(dir, 50, json::object(), json::object())),
                                     {"--log-level", "debug"});
    ASSERT_EQ(run.status.code, 0) << run.output;
    // dhub/base/heap_policy.hpp: one line from dhub-kernel, one from the stage's dhub-node-host.
    std::size_t lines = 0;
    for (std::size_t at = run.output.find("freed heap kept for reuse"); at != std::string::npos;
         at = run.output.find("freed heap kept for reuse", at + 1)) {
        ++lines;
    }
    EXPECT_EQ(lines, 2u) << run.output;
}

TEST(Isolation, StageCrashingEveryTwentyFramesIsRestartedHundredTimesAndDownstreamSeesEveryFrameOnce) {
    const DefaultSegv plain_segv;
    TempDir dir;
    // 101 processes of 20 frames each: the first 100 segfault on their 21st frame, the last sees the input close.
    json graph = crash_graph(dir, 2020, {{"after", 20}, {"how", "segv"}},
                             {{"restart", "transient"}, {"max_restarts", 1000}, {"restart_period_s", 60}});
    // A branch beside it, in the kernel's process: it must not notice the crashes.
    json ticker = node("ticker", "test_gate", "test.source.tick_frames", {{"count", 3000}, {"rate_hz", 4000}});
    ticker["outputs"] = {"ticks"};
    json check = node("check", "test_crash", "test.sink.sequence_check", {{"file", dir.file("ticks.json")}});
    check["inputs"] = {"ticks"};
    graph["channels"].push_back(lossless("ticks", 64));
    graph["nodes"].push_back(ticker);
    graph["nodes"].push_back(check);
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    ASSERT_TRUE(run.status.exited) << run.output;
    EXPECT_EQ(run.status.code, 0) << run.output;

    const json seen = read_json_file(dir / "seq.json");
    EXPECT_EQ(seen["count"], 2020) << seen.dump();
    EXPECT_EQ(seen["duplicates"], 0) << seen.dump();
    EXPECT_EQ(seen["missing"], 0) << seen.dump();
    EXPECT_EQ(seen["last"], 2019) << seen.dump();
    const json beside = read_json_file(dir / "ticks.json");
    EXPECT_EQ(beside["count"], 3000) << beside.dump();
    EXPECT_EQ(beside["missing"], 0) << beside.dump();

    const json stage = run.node("stage");
    EXPECT_EQ(stage["isolation"], "process");
    ASSERT_EQ(stage["restarts"].size(), 100u) << stage.dump();
    EXPECT_EQ(stage["restarts"][0], "killed by SIGSEGV (signal 11)");
    EXPECT_EQ(stage["end_reason"], "input_closed") << stage.dump();
    EXPECT_EQ(count_events(dir, "node_restarted", {{"node", "stage"}}), 100u);
    EXPECT_EQ(count_events(dir, "node_process_started", {{"node", "stage"}}), 101u);
}

struct FailureCase {
    const char* label;
    json params;
    json settings;
    const char* end_reason;
    const char* cause;  ///< in the report's end_detail and the kernel's log
};

void PrintTo(const FailureCase& failure, std::ostream* out) {
    *out << failure.label;
}

class IsolatedFailure : public ::testing::TestWithParam<FailureCase> {};

TEST_P(IsolatedFailure, EndsAsItsPolicySaysAndTheGraphRunsOn) {
    const FailureCase& failure = GetParam();
#ifdef DHUB_SANITIZER_RUNTIME
    // A sanitizer reserves terabytes of address space for its shadow memory: no process starts under RLIMIT_AS.
    if (failure.settings.contains("limits")) GTEST_SKIP() << "an address-space limit and a sanitizer do not mix";
#endif
    TempDir dir;
    json settings = failure.settings;
    settings.update({{"restart", "transient"}, {"max_restarts", 2}, {"restart_period_s", 60}});
    const json graph = crash_graph(dir, 500, failure.params, settings);
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {}, 60s);
    ASSERT_TRUE(run.status.exited) << run.output;
    EXPECT_EQ(run.status.code, 0) << run.output;  // on_error is stop_node: the graph goes on without it
    const json stage = run.node("stage");
    EXPECT_EQ(stage["end_reason"], failure.end_reason) << stage.dump();
    EXPECT_NE(stage["end_detail"].get<std::string>().find(failure.cause), std::string::npos) << stage.dump();
    EXPECT_EQ(stage["restarts"].size(), 2u) << stage.dump();
    EXPECT_NE(run.output.find("[stage:test.stage.crashy:stage] restarting its process (restart 1): "),
              std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find("the rest of the graph keeps running without it"), std::string::npos) << run.output;
    // The source is not held back by the seat of a node that is gone: it writes everything and ends.
    EXPECT_EQ(run.node("src")["handled"], 500) << run.output;
    EXPECT_EQ(run.node("sink")["end_reason"], "input_closed");
}

INSTANTIATE_TEST_SUITE_P(
    Isolation,
    IsolatedFailure,
    ::testing::Values(
        FailureCase{"abort", {{"after", 5}, {"how", "abort"}}, json::object(), "crashed", "killed by SIGABRT"},
        FailureCase{"exit3", {{"after", 5}, {"how", "exit"}}, json::object(), "crashed", "exit code 3"},
        FailureCase{"hang",
                    {{"after", 5}, {"how", "hang"}},
                    {{"watchdog_ms", 300}},
                    "watchdog",
                    "watchdog: no progress for 300 ms"},
        FailureCase{
            "hog", {{"after", 5}, {"how", "hog"}}, {{"limits", {{"memory_mb", 512}}}}, "crashed", "killed by SIGABRT"}),
    [](const ::testing::TestParamInfo<FailureCase>& param_info) { return std::string(param_info.param.label); });

TEST(Isolation, ANodeItsProcessCannotCreateStopsTheGraphAsInAThread) {
    // A component that refuses to be created (bad params, a module that does not import) would refuse again:
    // no restart, whatever the policy allows, and the kernel exits as for a component refusing to start in a
    // thread (exit 3), not as for a crash the graph survives.
    TempDir dir;
    const json graph = crash_graph(dir, 500, {{"fail_create", true}},
                                   {{"restart", "permanent"}, {"max_restarts", 5}, {"restart_period_s", 60}});
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {}, 60s);
    ASSERT_TRUE(run.status.exited) << run.output;
    EXPECT_EQ(run.status.code, 3) << run.output;
    const json stage = run.node("stage");
    EXPECT_EQ(stage["end_reason"], "start_failed") << stage.dump();
    EXPECT_NE(stage["end_detail"].get<std::string>().find("create failed"), std::string::npos) << stage.dump();
    EXPECT_EQ(stage["restarts"].size(), 0u) << stage.dump();
    EXPECT_NE(run.output.find("node 'stage' could not be created in its process: "), std::string::npos) << run.output;
    EXPECT_EQ(count_events(dir, "node_restarted", {{"node", "stage"}}), 0u);
}

TEST(Isolation, APausedIsolatedNodeIsNotHungAndARestartedOneComesBackPaused) {
    TempDir dir;
    ChildProcess kernel = start_kernel(
        dir, write_graph(dir, crash_graph(dir, 0, json::object(), {{"watchdog_ms", 300}, {"restart", "permanent"}})));
    const std::string pid = std::to_string(kernel.pid());
    const auto stage = [&] { return node_named(ctl(dir, {"nodes", "--json", "--kernel", pid}).value, "stage"); };
    const auto sink_in = [&] {
        const json sink = node_named(ctl(dir, {"nodes", "--json", "--kernel", pid}).value, "sink");
        return sink.is_object() ? sink["slots_in"].get<std::uint64_t>() : 0;
    };
    ASSERT_TRUE(wait_until([&] { return sink_in() > 100; }, 30s));

    ASSERT_EQ(ctl(dir, {"pause", "stage", "--kernel", pid}).code, 0);
    EXPECT_EQ(stage()["state"], "paused");
    std::this_thread::sleep_for(300ms);  // what the host had in hand when it paused reaches the sink
    const std::uint64_t held = sink_in();
    std::this_thread::sleep_for(900ms);  // three watchdog periods
    EXPECT_EQ(sink_in(), held) << "a paused node takes no slot";
    EXPECT_EQ(stage()["restarts"], 0) << "a paused node is asleep, not hung";

    // Its process dies while paused: the new one is paused as soon as it is ready.
    const auto host = stage()["process_pid"].get<pid_t>();
    ASSERT_GT(host, 0);
    ::kill(host, SIGKILL);
    ASSERT_TRUE(wait_until([&] { return stage()["restarts"] == 1 && stage()["state"] == "paused"; }, 30s))
        << stage().dump();
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(sink_in(), held) << "the restarted process came back paused";
    EXPECT_EQ(count_events(dir, "node_state", {{"node", "stage"}, {"reason", "restarted_paused"}}), 1u);

    ASSERT_EQ(ctl(dir, {"resume", "stage", "--kernel", pid}).code, 0);
    ASSERT_TRUE(wait_until([&] { return sink_in() > held + 100; }, 30s));
    // Paused again, then stopped: a paused node drains like any other.
    ASSERT_EQ(ctl(dir, {"pause", "stage", "--kernel", pid}).code, 0);
    const KernelRun run = collect(dir, kernel.stop(30s, SIGINT));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    const json seq = read_json_file(dir / "seq.json");
    EXPECT_EQ(seq["duplicates"], 0) << seq;
    EXPECT_EQ(seq["missing"], 0) << seq;
}

TEST(Isolation, AProducerHeldBackBySlowReadersIsNotHung) {
    // The sink takes 400 ms per frame on a 2-slot ring: the isolated source waits for room far longer than its
    // 200 ms watchdog, slot by slot and (second run) in bursts. Waiting for readers is not hanging.
    for (const int burst : {1, 32}) {
        TempDir dir;
        json graph = crash_graph(dir, 0, json::object(), json::object());
        graph["channels"] = {{{"name", "raw"}, {"slot_bytes", 64}, {"slot_count", 2}, {"sync", "every_reader"}}};
        graph["nodes"][0].update({{"isolation", "process"}, {"watchdog_ms", 200}, {"burst", burst}});
        graph["nodes"][0]["params"]["count"] = 5;
        json sink =
            node("sink", "test_crash", "test.sink.sequence_check", {{"file", dir.file("seq.json")}, {"delay_ms", 400}});
        sink["inputs"] = {"raw"};
        graph["nodes"] = {graph["nodes"][0], sink};
        const KernelRun run = run_kernel(dir, write_graph(dir, graph));
        ASSERT_EQ(run.status.code, 0) << run.output;
        EXPECT_EQ(run.node("src")["restarts"].size(), 0u) << "burst " << burst << ": " << run.output;
        EXPECT_EQ(run.node("src")["end_reason"], "end_of_stream") << run.output;
        EXPECT_EQ(read_json_file(dir / "seq.json")["count"], 5) << run.output;
    }
}

TEST(Isolation, APacedSourceWaitingForItsNextTickIsNotHungAndReportsItsTicks) {
    // "pacing" at 4 Hz: 250 ms between calls, longer than the 200 ms watchdog; the kernel's wait for a tick
    // counts as alive, as a source's own sleep_until does. The ticks come back in the report from the host.
    TempDir dir;
    json source = node("src", "test_ticker", "test.source.ticker", {{"count", 3}});
    source.update({{"outputs", {"raw"}},
                   {"isolation", "process"},
                   {"watchdog_ms", 200},
                   {"pacing", {{"rate_hz", 4}, {"late", "skip"}}}});
    json sink = node("sink", "stats", "dhub.sink.stats");
    sink["inputs"] = {"raw"};
    const json graph = {{"schema_version", 1}, {"channels", {lossless("raw")}}, {"nodes", {source, sink}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    ASSERT_EQ(run.status.code, 0) << run.output;
    const json src = run.node("src");
    EXPECT_EQ(src["restarts"].size(), 0u) << run.output;
    EXPECT_EQ(src["end_reason"], "end_of_stream") << src.dump();
    EXPECT_EQ(src["slots_out"], 3) << src.dump();
    // Three calls, and the one that found the count reached: ticks are calls, end of stream included.
    EXPECT_EQ(src["pacing"]["rate_hz"], 4.0) << src.dump();
    EXPECT_EQ(src["pacing"]["ticks"], 4) << src.dump();
    EXPECT_TRUE(run.node("sink")["pacing"].is_null());
}

TEST(Isolation, OnErrorStopGraphStopsTheGraphWhenTheRestartsRunOut) {
    TempDir dir;
    json graph = crash_graph(dir, 0, {{"after", 5}, {"how", "abort"}},
                             {{"max_restarts", 1}, {"on_error", {{"action", "stop_graph"}}}});
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {}, 60s);
    ASSERT_TRUE(run.status.exited) << run.output;
    EXPECT_EQ(run.status.code, 4) << run.output;
    EXPECT_NE(run.output.find("node 'stage' ended: killed by SIGABRT"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("(on_error: stop_graph)"), std::string::npos) << run.output;
}

TEST(Isolation, TemporaryIsNeverRestartedAndPermanentIsRestartedAfterANormalEnd) {
    TempDir dir;
    json graph = crash_graph(dir, 300, {{"after", 5}, {"how", "exit"}}, {{"restart", "temporary"}});
    KernelRun run = run_kernel(dir, write_graph(dir, graph));
    EXPECT_EQ(run.node("stage")["restarts"].size(), 0u) << run.output;
    EXPECT_EQ(run.node("stage")["end_reason"], "crashed");

    // A source that ends by itself (end of stream) is started again under permanent: 3 runs of 100 frames.
    TempDir second;
    json source = node("src", "test_gate", "test.source.tick_frames", {{"count", 100}});
    source["outputs"] = {"raw"};
    source.update({{"isolation", "process"}, {"restart", "permanent"}, {"max_restarts", 2}});
    json sink = node("sink", "test_crash", "test.sink.sequence_check", {{"file", second.file("seq.json")}});
    sink["inputs"] = {"raw"};
    const json permanent = {{"schema_version", 1}, {"channels", {lossless("raw")}}, {"nodes", {source, sink}}};
    run = run_kernel(second, write_graph(second, permanent));
    EXPECT_EQ(run.status.code, 0) << run.output;
    EXPECT_EQ(run.node("src")["restarts"].size(), 2u) << run.output;
    EXPECT_EQ(run.node("src")["handled"], 300) << run.output;
    EXPECT_EQ(run.node("src")["end_reason"], "end_of_stream");
    // Each run numbers its frames from 0 again: the sink sees 300 frames, 0..99 three times.
    EXPECT_EQ(read_json_file(second / "seq.json")["count"], 300);
}

TEST(Isolation, EverythingAThreadCanDoWorksIsolated) {
    TempDir dir;
    json source = node("src", "test_gate", "test.source.tick_frames", {{"count", 2000}});
    source["outputs"] = {"raw"};
    json stage = node("stage", "test_crash", "test.stage.crashy", {{"message_every", 100}, {"flex", true}});
    stage["inputs"] = {"raw"};
    stage["outputs"] = {"out"};
    json sink = node("sink", "test_crash", "test.sink.sequence_check", {{"file", dir.file("seq.json")}});
    sink["inputs"] = {"out"};
    json rejected = node("rejected", "test_crash", "test.sink.sequence_check", {{"file", dir.file("rejected.json")}});
    rejected["inputs"] = {"rej"};
    json ticker = node("ticker", "test_ticker", "test.source.ticker", {{"count", 1000}});
    ticker["outputs"] = {"ticks"};
    json relay = node("relay", "test_ticker", "test.stage.ticker_relay");  // queue mode: run()
    relay["inputs"] = {"ticks"};
    relay["outputs"] = {"relayed"};
    json ticks_sink = node("tsink", "test_ticker", "test.sink.ticker");  // in bursts
    ticks_sink["inputs"] = {"relayed"};
    json tee = node("tee", "fanout", "dhub.stage.tee");  // several ports: process_ports
    tee["inputs"] = {"out"};
    tee["outputs"] = {{"out", {"copy1", "copy2"}}};
    json copy1 = node("copy1", "test_crash", "test.sink.sequence_check", {{"file", dir.file("copy1.json")}});
    copy1["inputs"] = {"copy1"};
    json copy2 = node("copy2", "test_crash", "test.sink.sequence_check", {{"file", dir.file("copy2.json")}});
    copy2["inputs"] = {"copy2"};
    for (json* isolated : {&source, &stage, &rejected, &relay, &ticks_sink, &tee, &copy2})
        (*isolated)["isolation"] = "process";
    json raw = lossless("raw");
    raw["validators"] = {{{"name", "tenth"},
                          {"plugin", "test_gate"},
                          {"component", "test.validator.every_nth"},
                          {"params", {{"every", 10}, {"phase", 3}}},
                          {"on_reject", "quarantine"},
                          {"quarantine", "rej"}}};
    json out = lossless("out");
    out["flex_zone_bytes"] = 64;
    const json graph = {
        {"schema_version", 1},
        {"channels",
         {raw, lossless("rej"), out, lossless("ticks"), lossless("relayed"), lossless("copy1"), lossless("copy2")}},
        {"nodes", {source, stage, sink, rejected, ticker, relay, ticks_sink, tee, copy1, copy2}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    ASSERT_EQ(run.status.code, 0) << run.output;
    const json seen = read_json_file(dir / "seq.json");
    EXPECT_EQ(seen["count"], 1800) << seen.dump();  // the validator in the source's host took 200 out
    EXPECT_EQ(seen["duplicates"], 0);
    EXPECT_EQ(seen["messages"], 20) << seen.dump();  // peer messages from the stage's host: frames 0, 100, ...
    EXPECT_EQ(seen["flex"], 2000) << seen.dump();    // the flex zone the stage's host wrote
    EXPECT_EQ(read_json_file(dir / "rejected.json")["count"], 200);
    for (const char* copy : {"copy1.json", "copy2.json"}) {
        const json copied = read_json_file(dir / copy);
        EXPECT_EQ(copied["count"], 1800) << copy << copied.dump();
        EXPECT_EQ(copied["missing"], 200) << copy << copied.dump();  // what the validator kept from "raw"
        EXPECT_EQ(copied["duplicates"], 0) << copy << copied.dump();
    }
    // Counts come back from the hosts into --report, validators' too.
    EXPECT_EQ(run.node("src")["handled"], 2000);
    EXPECT_GT(run.node("src")["burst_calls"], 0);
    EXPECT_EQ(run.node("stage")["handled"], 1800);
    EXPECT_EQ(run.node("relay")["handled"], 1000);
    EXPECT_EQ(run.node("relay")["end_reason"], "end_of_stream") << run.node("relay").dump();
    EXPECT_EQ(run.node("tsink")["handled"], 1000);
    ASSERT_EQ(run.report["validators"].size(), 1u) << run.report.dump();
    EXPECT_EQ(run.report["validators"][0]["judged"], 2000);
    EXPECT_EQ(run.report["validators"][0]["rejected"], 200);
    // A plugin's log lines from its host reach the kernel's log, with the node's prefix.
    EXPECT_NE(run.output.find("[sink:test.sink.ticker:tsink] saw 1000 ticks"), std::string::npos) << run.output;
}

bool process_gone(pid_t pid) {
    // Reparented to init (or a subreaper) and reaped there: no such process, or a zombie about to go.
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    if (!status) return true;
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("State:")) return line.find('Z') != std::string::npos;
    }
    return true;
}

TEST(Isolation, SigkillOfTheKernelEndsItsHostsAndGcRemovesTheSegments) {
    TempDir dir;
    json graph = crash_graph(dir, 0, {{"pid_file", dir.file("stage.pid")}}, {{"limits", {{"cpus", {0}}, {"nice", 3}}}});
    graph["nodes"][0]["params"]["rate_hz"] = 1000;
    graph["name"] = "isokill";
    ChildProcess kernel = start_kernel(dir, write_graph(dir, graph));
    ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir / "stage.pid"); }, 10s));
    pid_t host = 0;
    ASSERT_TRUE(wait_until([&] {
        std::ifstream(dir / "stage.pid") >> host;
        return host > 0;
    }));
    // A process group of its own: a Ctrl-C in the kernel's terminal is the kernel's to act on.
    std::ifstream stat("/proc/" + std::to_string(host) + "/stat");
    std::vector<std::string> fields;
    for (std::string field; stat >> field;)
        fields.push_back(field);
    ASSERT_GE(fields.size(), 19u);
    EXPECT_EQ(fields[3], std::to_string(kernel.pid()));  // its parent
    EXPECT_EQ(fields[4], std::to_string(host));          // its process group
    EXPECT_EQ(fields[18], "3");                          // "limits": {"nice": 3}
    std::ifstream status("/proc/" + std::to_string(host) + "/status");
    std::string cpus;
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("Cpus_allowed_list:")) cpus = line;
    }
    EXPECT_EQ(cpus, "Cpus_allowed_list:\t0");  // "cpus": [0]
    kernel.kill(SIGKILL);
    (void)kernel.wait();
    EXPECT_TRUE(wait_until([&] { return process_gone(host); }, 5s)) << "host " << host << " outlived its kernel";

    const std::string prefix = "dhub1.isokill-" + std::to_string(kernel.pid()) + ".";
    auto left = [&] {
        std::size_t count = 0;
        for (const auto& entry : std::filesystem::directory_iterator("/dev/shm"))
            count += entry.path().filename().string().starts_with(prefix) ? 1 : 0;
        return count;
    };
    EXPECT_EQ(left(), 2u);  // raw and out, left behind by a kernel that could not clean up
    const std::string page = "/dev/shm/dhubctr1.isokill-" + std::to_string(kernel.pid());
    EXPECT_TRUE(std::filesystem::exists(page)) << "and its counters page";
    ChildProcess gc = ChildProcess::spawn(DHUB_SHM_CLI, {"gc"}, dir.file("gc.log"));
    EXPECT_EQ(gc.wait().code, 0);
    EXPECT_EQ(left(), 0u);
    EXPECT_FALSE(std::filesystem::exists(page)) << "dhub-shm gc removes a dead kernel's counters page";
}

TEST(Isolation, WithoutIsolationTheSameCrashTakesTheKernelDown) {
    const DefaultSegv plain_segv;
    TempDir dir;
    json graph = crash_graph(dir, 500, {{"after", 5}, {"how", "segv"}}, json::object());
    graph["nodes"][1].erase("isolation");
    graph["name"] = "inproc";
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    EXPECT_TRUE(run.status.signalled) << run.output;
    EXPECT_EQ(run.status.signal, SIGSEGV);
    // --validate says so beforehand.
    const KernelRun validated = run_kernel(dir, dir / "graph.json", {"--validate"});
    EXPECT_EQ(validated.status.code, 0);
    EXPECT_NE(validated.output.find("/nodes/1/plugin: node 'stage' runs plugin 'test_crash' in the kernel's process"),
              std::string::npos)
        << validated.output;
    EXPECT_NE(validated.output.find("/nodes/0/plugin: node 'src' runs plugin 'test_gate' in the kernel's process"),
              std::string::npos)
        << validated.output;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
        if (entry.path().filename().string().starts_with("dhub1.inproc-")) std::filesystem::remove(entry.path());
    }
}

TEST(Isolation, SupervisionKeysNeedIsolationAndBrokerInputsStayInTheKernel) {
    TempDir dir;
    json graph = crash_graph(dir, 10, json::object(), json::object());
    graph["nodes"][1].erase("isolation");
    graph["nodes"][1]["watchdog_ms"] = 500;
    graph["nodes"][2]["isolation"] = "process";
    graph["nodes"][2]["inputs"] = {"broker:elsewhere"};
    graph["broker"] = {{"endpoint", "tcp://127.0.0.1:1"}};
    graph["isolation"] = "sideways";
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {"--validate"});
    EXPECT_EQ(run.status.code, 1) << run.output;
    EXPECT_NE(run.output.find("/isolation: expected one of"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("/nodes/1: node 'stage': restart, max_restarts, restart_period_s, watchdog_ms and "
                              "limits supervise a node's own process"),
              std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find("/nodes/2/inputs/0: node 'sink' reads 'broker:elsewhere' from another kernel"),
              std::string::npos)
        << run.output;
}

TEST(Isolation, IsolatedNodesRunInAGraphWithABrokerAndValidatorsSharingAQuarantine) {
    TempDir dir;
    // With a broker every channel has an attach secret: the host gets it from its kernel to read its input.
    json graph = crash_graph(dir, 1000, json::object(), json::object());
    graph["broker"] = {{"endpoint", "tcp://127.0.0.1:0"}, {"embedded", true}};
    graph["nodes"][0]["isolation"] = "process";
    json every_third = {{"name", "third"},
                        {"plugin", "test_gate"},
                        {"component", "test.validator.every_nth"},
                        {"params", {{"every", 3}, {"phase", 1}}},
                        {"on_reject", "quarantine"},
                        {"quarantine", "rej"}};
    json every_fifth = every_third;
    every_fifth["name"] = "fifth";
    every_fifth["params"] = {{"every", 5}, {"phase", 2}};
    graph["channels"][0]["validators"] = {every_third, every_fifth};
    graph["channels"].push_back(lossless("rej"));
    json rejected = node("rejected", "test_crash", "test.sink.sequence_check", {{"file", dir.file("rejected.json")}});
    rejected["inputs"] = {"rej"};
    graph["nodes"].push_back(rejected);
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    ASSERT_EQ(run.status.code, 0) << run.output;
    // Frames 0..999: 333 have n % 3 == 1; of the rest, those with n % 5 == 2 (the fifth judges what third passed).
    std::uint64_t third = 0;
    std::uint64_t fifth = 0;
    for (std::uint64_t n = 0; n < 1000; ++n) {
        if (n % 3 == 1) {
            ++third;
        } else if (n % 5 == 2) {
            ++fifth;
        }
    }
    EXPECT_EQ(read_json_file(dir / "seq.json")["count"], 1000 - third - fifth) << run.output;
    EXPECT_EQ(read_json_file(dir / "rejected.json")["count"], third + fifth) << run.output;
    EXPECT_EQ(run.node("stage")["end_reason"], "input_closed") << run.output;
}

/// A stand-in for dhub-node-host that speaks garbage on the control link (fd 3), then exits 3.
std::filesystem::path garbage_host(const TempDir& dir) {
    const std::filesystem::path script = dir / "garbage-host.sh";
    std::ofstream(script) << "#!/bin/sh\n"
                             "printf '{\"t\": \"beat\", \"sleeping\": \"yes\", \"report\": 5}' >&3\n"
                             "printf '\\377\\376 not json' >&3\n"
                             "printf '{\"t\": \"ready\"}' >&3\n"
                             "printf '{\"t\": \"broadcast\", \"channel\": 7}' >&3\n"
                             "printf '{\"t\": \"unheard-of\"}' >&3\n"
                             "exit 3\n";
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    return script;
}

TEST(Isolation, GarbageFromAHostNeverTakesTheKernelDown) {
    TempDir dir;
    ::setenv("DHUB_NODE_HOST", garbage_host(dir).c_str(), 1);
    json graph = crash_graph(dir, 300, json::object(), {{"max_restarts", 1}});
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    ::unsetenv("DHUB_NODE_HOST");
    ASSERT_TRUE(run.status.exited) << run.output;
    EXPECT_EQ(run.status.code, 0) << run.output;
    EXPECT_NE(run.output.find("ignored a message from its process"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("is not a message"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("unknown type 'unheard-of'"), std::string::npos) << run.output;
    EXPECT_EQ(run.node("stage")["end_reason"], "crashed");
    EXPECT_EQ(run.node("stage")["restarts"].size(), 1u);
    EXPECT_EQ(run.node("src")["handled"], 300);  // its seat was given back: the source was never held up
}

TEST(Isolation, MissingNodeHostStopsTheGraphAtSetUpNamingWhere) {
    TempDir dir;
    ::setenv("DHUB_NODE_HOST", "/nonexistent/dhub-node-host", 1);
    const KernelRun run = run_kernel(dir, write_graph(dir, crash_graph(dir, 10, json::object(), json::object())));
    ::unsetenv("DHUB_NODE_HOST");
    EXPECT_EQ(run.status.code, 3) << run.output;
    EXPECT_NE(run.output.find("node 'stage' (isolation process): cannot run /nonexistent/dhub-node-host"),
              std::string::npos)
        << run.output;
}

}  // namespace
}  // namespace dhub::testing
