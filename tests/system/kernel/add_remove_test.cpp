// SPDX-License-Identifier: Apache-2.0
// dhub-ctl add and remove on a running dhub-kernel (docs/control.md, "add" and "remove"): a recorder attached for a
// while sees every slot from its first on and, removed, gives its seat back; a stage added with its own channel
// feeds a sink added after it, and they leave in order, the channel with them; an id comes back; every add that
// cannot be (bad spec, unknown plugin, a name taken, a create or start that fails) leaves nothing behind, and the
// graph runs on.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

CtlRun add(const TempDir& dir, const std::string& pid, const json& spec, const json& channels = nullptr) {
    std::vector<std::string> arguments = {"add", spec.dump(), "--json", "--kernel", pid};
    if (!channels.is_null()) arguments.insert(arguments.end(), {"--channels", channels.dump()});
    return ctl(dir, arguments);
}

CtlRun remove(const TempDir& dir, const std::string& pid, const std::string& node) {
    return ctl(dir, {"remove", node, "--json", "--kernel", pid});
}

/// The readers holding a seat on channel `name`, as `dhub-ctl channels --json` lists them from its segment; null
/// when the channel is not listed (a failure when dhub-ctl could not list the channels at all).
json readers_of(const TempDir& dir, const std::string& pid, const std::string& name) {
    const json channels = ctl(dir, {"channels", "--json", "--kernel", pid}).value;
    EXPECT_TRUE(channels.is_array()) << "dhub-ctl channels failed: is the kernel still there?";
    if (!channels.is_array()) return nullptr;
    for (const json& channel : channels) {
        if (channel.value("name", "") == name) return channel.value("consumers", json::array());
    }
    return nullptr;
}

/// Whether `dhub-ctl nodes` lists node `id` (a failure when it could not list the nodes at all).
bool lists_node(const TempDir& dir, const std::string& pid, const std::string& id) {
    const json nodes = ctl(dir, {"nodes", "--json", "--kernel", pid}).value;
    EXPECT_TRUE(nodes.is_array()) << "dhub-ctl nodes failed: is the kernel still there?";
    return !node_named(nodes, id).is_null();
}

bool lists_reader(const json& readers, const std::string& node) {
    if (!readers.is_array()) return false;
    for (const json& reader : readers) {
        if (reader.value("name", "") == node) return true;
    }
    return false;
}

TEST(AddRemove_test, ARecorderAttachedForAWhileSeesEverySlotFromItsFirstOnAndGivesItsSeatBack) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, recorded_waveform_graph("attach", dir)));
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "rec", 20);
    // rec has taken every frame so far: the first the new reader sees comes after these.
    const std::uint64_t taken_before = slots_in(dir, pid, "rec");

    const CtlRun added = add(dir, pid,
                             {{"id", "rec2"},
                              {"plugin", "recorder"},
                              {"params", {{"path", (dir / "rec2.dhr").string()}}},
                              {"inputs", {"raw"}}});
    ASSERT_EQ(added.code, 0) << added.err;
    EXPECT_EQ(added.value["state"], "running");
    EXPECT_EQ(added.value["component"], "dhub.sink.recorder");
    EXPECT_EQ(added.value["inputs"], json::array({"raw"}));
    EXPECT_TRUE(lists_reader(readers_of(dir, pid, "raw"), "rec2"));
    wait_flowing(dir, pid, "rec2", 300);

    const CtlRun removed = remove(dir, pid, "rec2");
    ASSERT_EQ(removed.code, 0) << removed.err;
    const json& report = removed.value["report"];
    EXPECT_EQ(report["end_reason"], "removed");
    EXPECT_EQ(report["errors"], 0);
    // Its seat went back: the lossless channel no longer lists it, and the source, which it could hold back, goes on.
    EXPECT_FALSE(lists_reader(readers_of(dir, pid, "raw"), "rec2"));
    EXPECT_FALSE(lists_node(dir, pid, "rec2")) << "a removed node leaves the counters' views";
    const std::uint64_t rec_before = slots_in(dir, pid, "rec");
    wait_flowing(dir, pid, "rec", rec_before + 200);

    // Every frame from the first it saw, none twice, none missing: it read the lossless channel as its producer
    // wrote it, and everything it took is in its recording.
    const std::vector<std::uint64_t> frames = recorded_frames(dir / "rec2.dhr");
    ASSERT_GT(frames.size(), 300U);
    EXPECT_GE(frames[0], taken_before) << "it reads from the newest slot on, not from the ring's oldest";
    EXPECT_EQ(frames.size(), report["slots_in"].get<std::uint64_t>());
    for (std::size_t index = 1; index < frames.size(); ++index)
        ASSERT_EQ(frames[index], frames[0] + index) << "frame " << index << " of the attached recorder";

    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(30), SIGINT));
    ASSERT_EQ(run.status.code, 0) << run.output;
    // The run's report keeps the node that left, with why.
    EXPECT_EQ(run.node("rec2")["end_reason"], "removed");
    EXPECT_EQ(run.node("rec2")["slots_in"], report["slots_in"]);
    EXPECT_EQ(count_events(dir, "node_added", {{"node", "rec2"}}), 1U);
    EXPECT_EQ(count_events(dir, "node_removed", {{"node", "rec2"}}), 1U);
    EXPECT_EQ(count_events(dir, "control", {{"command", "add"}, {"node", "rec2"}, {"ok", true}}), 1U);
}

json ticker_sink(const std::string& id, const std::string& input) {
    return {{"id", id},
            {"plugin", "test_ticker"},
            {"component", "test.sink.ticker"},
            {"params", {{"join_late", true}}},
            {"inputs", {input}}};
}

TEST(AddRemove_test, AStageAddedWithItsChannelFeedsASinkAddedAfterItAndTheyLeaveInOrder) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, ticker_graph("stage")));
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "sink", 10);

    const json copy = {{"id", "copy"},
                       {"plugin", "test_swappable"},
                       {"component", "test.stage.tick_copy"},
                       {"inputs", {"ticks"}},
                       {"outputs", {"copied"}}};
    const json copied = json::array({{{"name", "copied"}, {"slot_bytes", 64}, {"slot_count", 8}}});
    const CtlRun stage = add(dir, pid, copy, copied);
    ASSERT_EQ(stage.code, 0) << stage.err;
    EXPECT_EQ(stage.value["channels"], json::array({"copied"}));
    const CtlRun sink = add(dir, pid, ticker_sink("late", "copied"));
    ASSERT_EQ(sink.code, 0) << sink.err;
    wait_flowing(dir, pid, "late", 1000);
    const std::string segment =
        "/dev/shm/dhub1." +
        ctl(dir, {"status", "--json", "--kernel", pid}).value.value("segment_prefix", std::string()) + ".copied";
    ASSERT_TRUE(std::filesystem::exists(segment)) << segment;

    // The stage's channel has a reader: the stage stays until that reader goes.
    const CtlRun refused = remove(dir, pid, "copy");
    EXPECT_EQ(refused.code, 1);
    EXPECT_NE(refused.err.find("remove 'late' first"), std::string::npos) << refused.err;
    ASSERT_EQ(remove(dir, pid, "late").code, 0);
    const CtlRun gone = remove(dir, pid, "copy");
    ASSERT_EQ(gone.code, 0) << gone.err;
    EXPECT_EQ(gone.value["channels"], json::array({"copied"}));
    EXPECT_TRUE(readers_of(dir, pid, "copied").is_null()) << "the channel left with its producer";
    EXPECT_FALSE(std::filesystem::exists(segment)) << segment << ": removed with its channel, not at the end";

    // The id comes back, on another channel, and is listed once.
    ASSERT_EQ(add(dir, pid, ticker_sink("late", "ticks")).code, 0);
    wait_flowing(dir, pid, "late", 1000);
    const json nodes = ctl(dir, {"nodes", "--json", "--kernel", pid}).value;
    EXPECT_EQ(std::count_if(nodes.begin(), nodes.end(), [](const json& node) { return node["id"] == "late"; }), 1);

    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(30), SIGINT));
    ASSERT_EQ(run.status.code, 0) << run.output;
    // Every sink, the one that left too, saw its ticks in order.
    for (const json& node : run.report["nodes"]) {
        EXPECT_EQ(node["errors"], 0) << node.dump();
    }
    EXPECT_FALSE(std::filesystem::exists(segment)) << segment;
}

TEST(AddRemove_test, AnAddThatCannotBeLeavesNothingBehindAndTheGraphRunsOn) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, ticker_graph("refused")));
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "sink", 10);

    const auto refused_because = [&](const json& spec, const json& channels, const std::string& because) {
        const CtlRun run = add(dir, pid, spec, channels);
        EXPECT_EQ(run.code, 1) << spec.dump();
        EXPECT_NE(run.err.find(because), std::string::npos) << run.err;
        const std::string id = spec.value("id", "");
        if (!id.empty() && id != "sink") {
            EXPECT_FALSE(lists_node(dir, pid, id)) << spec.dump();
        }
    };
    refused_because({{"id", "x"}, {"plugin", "no_such_plugin"}, {"inputs", {"ticks"}}}, nullptr,
                    "plugin 'no_such_plugin' could not be loaded");
    refused_because(ticker_sink("sink", "ticks"), nullptr, "the graph has a node 'sink' already");
    refused_because(ticker_sink("x", "no_channel"), nullptr, "no channel 'no_channel' is declared");
    refused_because({{"id", "x"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"bogus", 1}}, nullptr,
                    "bogus");
    refused_because(ticker_sink("x", "ticks"), json::array({{{"name", "ticks"}}}),
                    "the graph has a channel 'ticks' already");
    refused_because(ticker_sink("x", "ticks"), json::array({{{"name", "spare"}}}), "'spare' has no producer");
    json isolated = ticker_sink("x", "ticks");
    isolated["isolation"] = "process";
    refused_because(isolated, nullptr, "process of its own");
    // Its plugin refuses to create it, or its start() fails: its seat and its records go again.
    json creates = {{"id", "x"},
                    {"plugin", "test_swappable"},
                    {"component", "test.stage.tick_copy"},
                    {"params", {{"fail_create", true}}},
                    {"inputs", {"ticks"}},
                    {"outputs", {"copied"}}};
    const json copied = json::array({{{"name", "copied"}, {"slot_bytes", 64}, {"slot_count", 8}}});
    refused_because(creates, copied, "create failed");
    creates["params"] = {{"fail_start", true}};
    // Not held against an on_error that would stop the graph at the first error: it never joined the graph.
    creates["on_error"] = {{"action", "stop_graph"}, {"max_consecutive", 1}};
    refused_because(creates, copied, "did not start (start() failed)");
    creates.erase("on_error");
    EXPECT_FALSE(lists_reader(readers_of(dir, pid, "ticks"), "x"));
    EXPECT_TRUE(readers_of(dir, pid, "copied").is_null());

    // A spec without an id is the graph's business to refuse, not the kernel's to trip over.
    refused_because({{"plugin", "test_ticker"}, {"inputs", {"ticks"}}}, nullptr, "/request/spec");
    EXPECT_EQ(remove(dir, pid, "nobody").code, 1);
    const CtlRun source = remove(dir, pid, "tick");
    EXPECT_EQ(source.code, 1);
    EXPECT_NE(source.err.find("remove 'sink' first"), std::string::npos) << source.err;

    // After all that, the graph took what it was given and nothing else, and still runs.
    const std::uint64_t before = slots_in(dir, pid, "sink");
    wait_flowing(dir, pid, "sink", before + 1000);
    creates["params"] = json::object();
    const CtlRun again = add(dir, pid, creates, copied);
    ASSERT_EQ(again.code, 0) << "the names an add that failed took are free again: " << again.err;

    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(30), SIGINT));
    ASSERT_EQ(run.status.code, 0) << run.output;
    EXPECT_EQ(run.node("sink")["errors"], 0);
    EXPECT_EQ(count_events(dir, "node_added"), 1U) << "the one that could be added";
    EXPECT_EQ(std::count_if(run.report["nodes"].begin(), run.report["nodes"].end(),
                            [](const json& node) { return node["id"] == "x"; }),
              1)
        << "the adds that failed left nothing in the report";
}

TEST(AddRemove_test, ARemoveThatWouldLeaveAGraphThatCannotRunIsRefused) {
    TempDir dir;
    json graph = ticker_graph("rest");
    graph["channels"][0]["sync"] = "single_reader";
    ChildProcess kernel = start_kernel(dir, write_graph(dir, graph));
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "sink", 10);
    json peek = ticker_sink("peek", "ticks");
    peek["inputs"] = json::array({{{"channel", "ticks"}, {"delivery", "latest"}}});
    const CtlRun added = add(dir, pid, peek);
    ASSERT_EQ(added.code, 0) << added.err;

    // Without its one lossless reader, the single_reader channel's producer would wait for one that never comes.
    const CtlRun refused = remove(dir, pid, "sink");
    EXPECT_EQ(refused.code, 1);
    EXPECT_NE(refused.err.find("the graph without node 'sink' would not be valid"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("single_reader"), std::string::npos) << refused.err;
    EXPECT_EQ(remove(dir, pid, "peek").code, 0);
    EXPECT_EQ(remove(dir, pid, "sink").code, 0) << "a channel nobody reads is a graph that runs";
    const CtlRun last = remove(dir, pid, "tick");
    EXPECT_EQ(last.code, 1);
    EXPECT_NE(last.err.find("the graph's last"), std::string::npos) << last.err;

    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(30), SIGINT));
    EXPECT_EQ(run.status.code, 0) << run.output;
}

TEST(AddRemove_test, AnAddedNodeKeepsTheGraphsDefaultIsolation) {
    TempDir dir;
    json graph = ticker_graph("isolated");
    graph["isolation"] = "process";
    graph["nodes"][1]["restart"] = "permanent";  // restarted whenever it ends, unless it was removed
    ChildProcess kernel = start_kernel(dir, write_graph(dir, graph));
    const std::string pid = std::to_string(kernel.pid());
    wait_flowing(dir, pid, "sink", 10);
    const CtlRun refused = add(dir, pid, ticker_sink("late", "ticks"));
    EXPECT_EQ(refused.code, 1);
    EXPECT_NE(refused.err.find("process of its own"), std::string::npos)
        << "the graph isolates its nodes, so an added one would be isolated too: " << refused.err;
    json in_thread = ticker_sink("late", "ticks");
    in_thread["isolation"] = "thread";
    EXPECT_EQ(add(dir, pid, in_thread).code, 0) << "a node that asks for a thread gets one";
    // A node in a process of its own leaves the same way: its host ends, it is not restarted, its seat goes back.
    const std::uint32_t host = node_of(dir, pid, "sink").value("process_pid", 0U);
    EXPECT_NE(host, 0U);
    const CtlRun removed = remove(dir, pid, "sink");
    ASSERT_EQ(removed.code, 0) << removed.err;
    EXPECT_EQ(removed.value["report"]["end_reason"], "removed");
    EXPECT_EQ(removed.value["report"]["isolation"], "process");
    EXPECT_TRUE(wait_until([&] { return ::kill(static_cast<pid_t>(host), 0) != 0; }, std::chrono::seconds(10)))
        << "its dhub-node-host ended";
    EXPECT_FALSE(lists_reader(readers_of(dir, pid, "ticks"), "sink"));
    const std::uint64_t late = slots_in(dir, pid, "late");
    wait_flowing(dir, pid, "late", late + 1000);
    EXPECT_EQ(count_events(dir, "node_restarted"), 0U);

    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(30), SIGINT));
    EXPECT_EQ(run.status.code, 0) << run.output;
}

}  // namespace
}  // namespace dhub::testing
