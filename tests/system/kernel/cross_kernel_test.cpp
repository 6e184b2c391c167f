// SPDX-License-Identifier: Apache-2.0
// Two dhub-kernel processes and a dhub-broker process, all real, with CURVE keys made by dhub-keygen: an
// instrument kernel publishes "cam0", an analysis kernel records "broker:cam0". The producer is killed and
// restarted, the broker is killed and restarted, a stranger's key and a wrong schema are refused.
#include <gtest/gtest.h>

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dhub/shm/inspect.hpp"
#include "kernel_pair_fixture.hpp"
#include "kernel_support.hpp"
#include "support/loopback_port.hpp"

namespace dhub::testing {
namespace {

class CrossKernel_test : public KernelPair {};

TEST_F(CrossKernel_test, AConsumerStartedFirstAttachesWhenTheProducerAppearsAndGetsEveryFrame) {
    start_broker();
    start_consumer();
    ASSERT_TRUE(wait_until([&] { return waiting_for("not_published"); }, 10s)) << consumer_log();
    start_producer();
    ASSERT_TRUE(wait_until([&] { return attachments() == 1; }, 10s)) << consumer_log();
    ASSERT_TRUE(wait_until([&] { return recorded() >= 200; }, 10s)) << consumer_log();
    // The segment's name carries 64 random bits, and the broker handed out the secret that opened it.
    for (const nlohmann::json& event : read_events(consumer_dir_)) {
        if (event["event"] != "input_attached") continue;
        const std::string segment = event["segment"];
        EXPECT_EQ(segment.rfind("instrument-", 0), 0u) << segment;
        EXPECT_GT(segment.size(), std::string("instrument-<pid>-").size() + 16) << "no random part: " << segment;
    }
    stop(producer_, producer_log());
    ASSERT_TRUE(wait_until(
        [&] {
            return consumer_events("input_lost", {{"node", "rec"}, {"cause", "closed"}}) == 1;
        },
        10s))
        << consumer_log();
    stop(consumer_, consumer_log());

    const Recording recording = read_recording(this->recording());
    ASSERT_TRUE(recording.error.empty()) << recording.error;
    ASSERT_GE(recording.slots.size(), 200u);
    for (std::size_t i = 1; i < recording.slots.size(); ++i) {
        ASSERT_EQ(recording.slots[i].sequence, recording.slots[i - 1].sequence + 1) << "frame " << i;
    }
}

TEST_F(CrossKernel_test, DhubCtlListsTheKernelsAndChannelsTheBrokerKnows) {
    ASSERT_NO_FATAL_FAILURE(start_published_producer());
    const auto as = [&](const std::string& client, std::vector<std::string> arguments) {
        arguments.insert(arguments.end(), {"--broker", endpoint_, "--server-key", (keys_ / "broker.pub").string(),
                                           "--key", (keys_ / (client + ".key")).string()});
        return ctl(keys_, arguments);
    };
    const CtlRun kernels = as("analysis", {"kernels", "--json"});
    ASSERT_EQ(kernels.code, 0) << kernels.err;
    ASSERT_EQ(kernels.value.size(), 1u) << kernels.out;
    EXPECT_EQ(kernels.value[0]["graph"], "instrument");
    EXPECT_EQ(kernels.value[0]["pid"], producer_->pid());
    EXPECT_EQ(kernels.value[0]["channels"], nlohmann::json({"cam0"}));
    const CtlRun channels = as("analysis", {"channels", "--json"});
    ASSERT_EQ(channels.code, 0) << channels.err;
    ASSERT_EQ(channels.value.size(), 1u);
    EXPECT_EQ(channels.value[0]["name"], "cam0");
    EXPECT_EQ(channels.value[0].count("attach_secret"), 0u) << "a listing never carries a channel's secret";
    const CtlRun both = as("analysis", {});
    EXPECT_EQ(both.code, 0) << both.err;
    EXPECT_NE(both.out.find("instrument"), std::string::npos) << both.out;

    const CtlRun stranger = as("stranger", {"kernels"});
    EXPECT_EQ(stranger.code, 1);
    EXPECT_NE(stranger.err.find("in its allowlist?"), std::string::npos) << stranger.err;
    EXPECT_EQ(ctl(keys_, {"--broker", endpoint_, "nodes"}).code, 2) << "--broker lists kernels and channels only";
    stop(producer_, producer_log());
}

TEST_F(CrossKernel_test, ProducerKernelKilledThenRestartedTheConsumerIsToldWaitsAndResumes) {
    start_broker();
    start_producer();
    start_consumer();
    ASSERT_TRUE(wait_until([&] { return attachments() == 1 && recorded() >= 100; }, 15s)) << consumer_log();

    kill_producer();
    const std::uint64_t killed_at = monotonic_now_ns();
    // The broker declares it dead after DEAD_AFTER_MS and tells the consumer kernel, which detaches and waits.
    ASSERT_TRUE(wait_until(
        [&] {
            return consumer_events("broker_notice", {{"notice", "producer_died"}, {"channel", "cam0"}}) == 1;
        },
        10s))
        << consumer_log() << read_text_file(broker_log_);
    ASSERT_TRUE(wait_until([&] { return waiting_for("producer_lost"); }, 10s)) << consumer_log();
    // Still running (policy: wait).
    EXPECT_FALSE(consumer_->try_wait()) << "the consumer kernel ended although its policy is wait: " << consumer_log();

    const std::size_t before_restart = recorded();
    const std::uint64_t restarted_at = monotonic_now_ns();
    start_producer();
    ASSERT_TRUE(wait_until([&] { return attachments() == 2; }, 15s)) << consumer_log() << producer_log();
    ASSERT_TRUE(wait_until([&] { return recorded() >= before_restart + 100; }, 10s)) << consumer_log();
    stop(producer_, producer_log());
    stop(consumer_, consumer_log());

    const Recording recording = read_recording(this->recording());
    std::size_t after_restart = 0;
    for (const RecordedSlot& slot : recording.slots)
        after_restart += slot.timestamp_ns > restarted_at ? 1 : 0;
    EXPECT_GE(after_restart, 100u) << "frames of the restarted producer";
    EXPECT_GT(restarted_at, killed_at);
}

TEST_F(CrossKernel_test, ProducerKernelKilledTheConsumerStopsItsNodeWhenThePolicySaysSo) {
    on_producer_lost_ = "stop_node";
    start_broker();
    start_producer();
    start_consumer();
    ASSERT_TRUE(wait_until([&] { return attachments() == 1 && recorded() >= 50; }, 15s)) << consumer_log();
    kill_producer();
    // Its only node stopped, so the consumer kernel ends by itself, cleanly, and says why.
    const ExitStatus status = consumer_->wait(15s);
    consumer_.reset();
    ASSERT_TRUE(status.exited && status.code == 0) << consumer_log();
    const KernelRun run = collect(consumer_dir_, status);
    EXPECT_EQ(run.node("rec")["end_reason"], "producer_lost") << run.report.dump();
    EXPECT_NE(run.node("rec")["end_detail"].get<std::string>().find("on_producer_lost: stop_node"), std::string::npos)
        << run.report.dump();
}

TEST_F(CrossKernel_test, BrokerKilledAndRestartedBothKernelsRegisterAgainAndDataNeverStops) {
    start_broker(restartable_loopback_endpoint());
    start_producer();
    start_consumer();
    ASSERT_TRUE(wait_until([&] { return attachments() == 1 && recorded() >= 100; }, 15s)) << consumer_log();
    const std::string first_log = broker_log_;

    broker_->kill(SIGKILL);
    (void)broker_->wait(10s);
    broker_.reset();
    const std::uint64_t broker_down = monotonic_now_ns();
    std::this_thread::sleep_for(1500ms);
    const std::uint64_t broker_back = monotonic_now_ns();
    start_broker(endpoint_);  // the same port: clients reconnect to where it was
    // Each kernel re-registers on its own and says so once the new broker confirmed it.
    ASSERT_TRUE(wait_until(
        [&] {
            return count_events(producer_dir_, "registration_restored", {{"kind", "channel"}, {"key", "cam0"}}) >= 1 &&
                   consumer_events("registration_restored", {{"kind", "consumer"}}) >= 1;
        },
        15s))
        << producer_log() << consumer_log() << read_text_file(broker_log_);
    stop(producer_, producer_log());
    stop(consumer_, consumer_log());

    EXPECT_EQ(attachments(), 1u) << "the data plane never detached: " << consumer_log();
    const Recording recording = read_recording(this->recording());
    std::size_t while_down = 0;
    for (std::size_t i = 0; i < recording.slots.size(); ++i) {
        const auto stamp = recording.slots[i].timestamp_ns;
        while_down += stamp > broker_down && stamp < broker_back ? 1 : 0;
        if (i > 0) {
            ASSERT_EQ(recording.slots[i].sequence, recording.slots[i - 1].sequence + 1) << "frame " << i;
        }
    }
    // 1.5 s at RATE_HZ: the frames kept coming with the broker gone (at least half of them, for a slow CI).
    EXPECT_GE(while_down, static_cast<std::size_t>(RATE_HZ * 1.5 / 2)) << first_log;
}

TEST_F(CrossKernel_test, TheBrokerCanRunInsideTheProducerKernel) {
    // No dhub-broker process: the instrument kernel embeds it (no CURVE here, loopback only), on a port the
    // system picks; the analysis kernel is pointed at it once the instrument kernel has said where it is.
    const nlohmann::json embedded = {{"endpoint", "tcp://127.0.0.1:0"}, {"embedded", true}};
    const nlohmann::json producer_graph = instrument_graph(embedded);
    nlohmann::json consumer_graph = {{"schema_version", 1},
                                     {"name", "analysis"},
                                     {"channels", nlohmann::json::array()},
                                     {"nodes",
                                      {{{"id", "rec"},
                                        {"plugin", "recorder"},
                                        {"params", {{"path", recording().string()}, {"flush_every", 1}}},
                                        {"inputs", {"broker:cam0"}}}}}};
    launch(producer_, producer_dir_, producer_graph);
    ASSERT_TRUE(wait_until([&] { return count_events(producer_dir_, "broker_listening") == 1; }, 10s))
        << producer_log();
    for (const nlohmann::json& event : read_events(producer_dir_)) {
        if (event["event"] == "broker_listening") endpoint_ = event["endpoint"];
    }
    consumer_graph["broker"] = {{"endpoint", endpoint_}};
    launch(consumer_, consumer_dir_, consumer_graph);
    ASSERT_TRUE(wait_until([&] { return attachments() == 1 && recorded() >= 100; }, 15s))
        << consumer_log() << producer_log();
    EXPECT_EQ(endpoint_.rfind("tcp://127.0.0.1:", 0), 0u) << endpoint_;
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());
}

TEST_F(CrossKernel_test, AConsumerInAnotherKernelGetsExactlyTheSlotsTheChannelsValidatorsAccepted) {
    // The instrument kernel's validator rejects frame n when n % 10 == 3, before publication: the analysis
    // kernel, attached through the (embedded) broker, records every other frame from the one it joined at.
    const nlohmann::json producer_graph = {{"schema_version", 1},
                                           {"name", "instrument"},
                                           {"broker", {{"endpoint", "tcp://127.0.0.1:0"}, {"embedded", true}}},
                                           {"channels",
                                            {{{"name", "ticks"},
                                              {"slot_bytes", 64},
                                              {"slot_count", 64},
                                              {"sync", "every_reader"},
                                              {"validators",
                                               {{{"name", "tenth"},
                                                 {"plugin", "test_gate"},
                                                 {"component", "test.validator.every_nth"},
                                                 {"params", {{"every", 10}, {"phase", 3}}}}}}}}},
                                           {"nodes",
                                            {{{"id", "src"},
                                              {"plugin", "test_gate"},
                                              {"component", "test.source.tick_frames"},
                                              {"params", {{"rate_hz", 2000}}},
                                              {"outputs", {"ticks"}}}}}};
    launch(producer_, producer_dir_, producer_graph);
    ASSERT_TRUE(wait_until([&] { return count_events(producer_dir_, "broker_listening") == 1; }, 10s))
        << producer_log();
    for (const nlohmann::json& event : read_events(producer_dir_)) {
        if (event["event"] == "broker_listening") endpoint_ = event["endpoint"];
    }
    const nlohmann::json consumer_graph = {{"schema_version", 1},
                                           {"name", "analysis"},
                                           {"broker", {{"endpoint", endpoint_}}},
                                           {"channels", nlohmann::json::array()},
                                           {"nodes",
                                            {{{"id", "rec"},
                                              {"plugin", "recorder"},
                                              {"params", {{"path", recording().string()}, {"flush_every", 1}}},
                                              {"inputs", {"broker:ticks"}}}}}};
    launch(consumer_, consumer_dir_, consumer_graph);
    ASSERT_TRUE(wait_until([&] { return attachments() == 1 && recorded() >= 300; }, 20s))
        << consumer_log() << producer_log();
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());

    const Recording recording = read_recording(this->recording());
    ASSERT_TRUE(recording.error.empty()) << recording.error;
    ASSERT_GE(recording.slots.size(), 300u);
    const auto number_of = [](const RecordedSlot& slot) {
        std::uint64_t number = 0;
        std::memcpy(&number, slot.bytes.data(), std::min(slot.bytes.size(), sizeof number));
        return number;
    };
    for (std::size_t i = 0; i < recording.slots.size(); ++i) {
        const std::uint64_t number = number_of(recording.slots[i]);
        ASSERT_NE(number % 10, 3u) << "rejected frame " << number << " reached the other kernel";
        if (i == 0) continue;
        // The next accepted frame after the previous one: none lost, none rejected.
        std::uint64_t next = number_of(recording.slots[i - 1]) + 1;
        if (next % 10 == 3) ++next;
        ASSERT_EQ(number, next) << "recorded slot " << i;
    }
    EXPECT_EQ(recording.gaps, 0u);
}

TEST_F(CrossKernel_test, AnUnreadableKeyFileEndsTheRunBeforeAnyNodeStartsAndNamesTheSetting) {
    nlohmann::json broker = broker_section("analysis");
    broker["endpoint"] = "tcp://127.0.0.1:1";  // never reached: the key is read first
    broker["client_key"] = (keys_ / "missing.key").string();
    const nlohmann::json graph = {{"schema_version", 1},
                                  {"name", "analysis"},
                                  {"broker", broker},
                                  {"channels", nlohmann::json::array()},
                                  {"nodes", {{{"id", "rec"}, {"plugin", "stats"}, {"inputs", {"broker:cam0"}}}}}};
    const KernelRun run = run_kernel(consumer_dir_, write_graph(consumer_dir_, graph), {}, 20s);
    EXPECT_TRUE(run.status.exited && run.status.code == 4) << run.output;
    EXPECT_NE(run.output.find("/broker/client_key"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("missing.key"), std::string::npos) << run.output;
}

TEST_F(CrossKernel_test, AKernelWithAnUnknownKeyIsRefusedAndLearnsNothing) {
    start_broker();
    start_producer();
    start_consumer("recorder", "stranger");
    // The handshake fails silently for the client (CURVE tells it nothing): its requests time out, and the
    // kernel says what to check.
    ASSERT_TRUE(wait_until(
        [&] {
            for (const nlohmann::json& event : read_events(consumer_dir_)) {
                if (event["event"] == "input_waiting" && event["reason"] == "discover_failed" &&
                    event["detail"].get<std::string>().find("is this client's key in its allowlist?") !=
                        std::string::npos)
                    return true;
            }
            return false;
        },
        10s))
        << consumer_log();
    EXPECT_EQ(attachments(), 0u) << consumer_log();
    EXPECT_EQ(consumer_log().find("instrument-"), std::string::npos) << "a refused client must not learn segment names";
    EXPECT_GE(count_events_in(broker_events(), "client_refused", {{"key", key("stranger.pub")}}), 1u)
        << read_text_file(broker_log_);
    stop(consumer_, consumer_log());
}

TEST_F(CrossKernel_test, AnEmbeddedBrokerRefusesAnUnknownKeyAndItsKernelReportsIt) {
    // The instrument kernel embeds a CURVE broker with the allowlist; a kernel with a key not in it is
    // refused, and the refusal is an event of the embedding kernel.
    nlohmann::json embedded = broker_section("instrument");
    embedded["endpoint"] = "tcp://127.0.0.1:0";
    embedded["embedded"] = true;
    embedded["secret_key"] = (keys_ / "broker.key").string();
    embedded["allow"] = (keys_ / "allow.json").string();
    const nlohmann::json producer_graph = instrument_graph(embedded);
    launch(producer_, producer_dir_, producer_graph);
    ASSERT_TRUE(wait_until(
        [&] {
            return count_events(producer_dir_, "channel_published", {{"channel", "cam0"}}) == 1;
        },
        10s))
        << producer_log();
    for (const nlohmann::json& event : read_events(producer_dir_)) {
        if (event["event"] == "broker_listening") endpoint_ = event["endpoint"];
    }
    start_consumer("recorder", "stranger");
    ASSERT_TRUE(wait_until(
        [&] {
            return count_events(producer_dir_, "client_refused", {{"key", key("stranger.pub")}}) >= 1;
        },
        10s))
        << producer_log();
    EXPECT_EQ(attachments(), 0u) << consumer_log();
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());
}

TEST_F(CrossKernel_test, AConsumerExpectingAnotherSchemaIsRefusedWithAClearError) {
    start_broker();
    // A ticker channel (test.tick@1) read by scale, which expects dhub.waveform.f64@1.
    const nlohmann::json graph = {
        {"schema_version", 1},
        {"name", "instrument"},
        {"broker", broker_section("instrument")},
        {"channels", {{{"name", "cam0"}, {"slot_bytes", 64}, {"sync", "every_reader"}}}},
        {"nodes",
         {{{"id", "tick"}, {"plugin", "test_ticker"}, {"component", "test.source.ticker"}, {"outputs", {"cam0"}}}}}};
    launch(producer_, producer_dir_, graph);
    start_consumer("scale");
    ASSERT_TRUE(rec_ended_with_schema_mismatch()) << consumer_log();
    EXPECT_EQ(attachments(), 0u) << consumer_log();
    stop(consumer_, consumer_log());
    const KernelRun run = collect(consumer_dir_, {});
    EXPECT_EQ(run.node("rec")["end_reason"], "schema_mismatch") << run.report.dump();
    EXPECT_NE(run.node("rec")["end_detail"].get<std::string>().find("expects dhub.waveform.f64@1"), std::string::npos)
        << run.report.dump();
}

// Schema evolution across kernels. The instrument kernel writes lab.thermo@2 (version 1 and a humidity
// appended) or lab.thermo@3 (celsius narrowed to float), declared in its graph and by its plugin; the analysis
// kernel reads cam_thermo with a sink built for lab.thermo@1, which only its plugin declares. The hashes differ
// in both cases: the documents decide, in the consumer kernel (broker's copy, then the segment's) and at the
// broker.
class CrossKernelSchema_test : public CrossKernel_test {
protected:
    void start_thermo_producer(const std::string& component, const nlohmann::json& schema) {
        const nlohmann::json graph = {
            {"schema_version", 1},
            {"name", "instrument"},
            {"broker", broker_section("instrument")},
            {"schemas", {schema}},
            {"channels", {{{"name", "cam_thermo"}, {"slot_bytes", 64}, {"sync", "every_reader"}}}},
            {"nodes",
             {{{"id", "thermo"},
               {"plugin", "test_thermo"},
               {"component", component},
               {"params", {{"count", 1'000'000'000}}},  // until the test stops it
               {"outputs", {"cam_thermo"}}}}}};
        launch(producer_, producer_dir_, graph);
    }
    /// Slots the readers of the thermo producer's channel have read so far (0 before it runs).
    std::uint64_t thermo_reads() const {
        std::string prefix;
        for (const nlohmann::json& event : read_events(producer_dir_)) {
            if (event["event"] == "graph_started") prefix = event["segment_prefix"].get<std::string>();
        }
        if (prefix.empty()) return 0;
        const auto info = shm::inspect_channel(prefix + ".cam_thermo");
        if (!info) return 0;
        std::uint64_t reads = 0;
        for (const shm::ConsumerInfo& consumer : info->consumers)
            reads += consumer.reads;
        return reads;
    }

    void start_thermo_consumer() {
        const nlohmann::json graph = {{"schema_version", 1},
                                      {"name", "analysis"},
                                      {"broker", broker_section("analysis")},
                                      {"channels", nlohmann::json::array()},
                                      {"nodes",
                                       {{{"id", "rec"},
                                         {"plugin", "test_thermo"},
                                         {"component", "test.sink.thermo1"},
                                         {"inputs", {"broker:cam_thermo"}}}}}};
        launch(consumer_, consumer_dir_, graph, {"--log-level", "debug"});
    }
};

TEST_F(CrossKernelSchema_test, AReaderOfVersion1ReadsAProducerOfVersion2ThatOnlyAppendedAField) {
    start_broker();
    start_thermo_producer("test.source.thermo2", std::string(DHUB_CONFIG_DIR) + "/schemas/lab.thermo@2.json");
    start_thermo_consumer();
    // The kernel emits consumer_registered just before input_attached: wait for both, not the first alone.
    ASSERT_TRUE(wait_until(
        [&] {
            return consumer_events("consumer_registered", {{"node", "rec"}}) >= 1 && attachments() >= 1;
        },
        15s))
        << "the broker must take the registration too\n"
        << consumer_log();
    EXPECT_EQ(attachments(), 1u) << consumer_log();
    // Readings flow, not only the registration (a fixed 300 ms was once not enough on a loaded machine).
    EXPECT_TRUE(wait_until([&] { return thermo_reads() >= 10; }, 15s)) << consumer_log();
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());
    const KernelRun run = collect(consumer_dir_, {});
    EXPECT_GT(run.node("rec")["handled"].get<std::uint64_t>(), 0u) << run.report.dump();
    EXPECT_EQ(run.node("rec")["errors"], 0) << consumer_log();
}

TEST_F(CrossKernelSchema_test, AReaderOfVersion1RefusesAProducerThatChangedAFieldAndSaysWhich) {
    start_broker();
    const nlohmann::json version3 = {{"name", "lab.thermo"},
                                     {"version", 3},
                                     {"fields",
                                      {{{"name", "timestamp_ns"}, {"dtype", "<u8"}},
                                       {{"name", "box_id"}, {"dtype", "<u2"}},
                                       {{"name", "celsius"}, {"dtype", "<f4"}, {"shape", {4}}}}}};
    start_thermo_producer("test.source.thermo3", version3);
    start_thermo_consumer();
    ASSERT_TRUE(rec_ended_with_schema_mismatch()) << consumer_log();
    EXPECT_EQ(attachments(), 0u) << consumer_log();
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());
    const KernelRun run = collect(consumer_dir_, {});
    const std::string detail = run.node("rec")["end_detail"].get<std::string>();
    for (const char* part : {"lab.thermo@3", "lab.thermo@1", "\"celsius\" <f4"})
        EXPECT_NE(detail.find(part), std::string::npos) << part << " in " << detail;
}

TEST_F(CrossKernel_test, SigintWhileAnInputIsBeingDiscoveredStopsTheKernelAtOnce) {
    // A parked DISCOVER used to be waited out (up to half a second, more if the broker was slow): the node is
    // asked to stop, and the call it is in is cancelled.
    start_broker();
    for (const auto delay : {0ms, 170ms, 330ms}) {
        start_consumer();
        ASSERT_TRUE(wait_until([&] { return waiting_for("not_published"); }, 10s)) << consumer_log();
        std::this_thread::sleep_for(delay);  // somewhere else in the parked DISCOVER each round
        const auto signalled = std::chrono::steady_clock::now();
        consumer_->kill(SIGINT);
        const ExitStatus status = consumer_->wait(20s);
        const auto took = std::chrono::steady_clock::now() - signalled;
        consumer_.reset();
        ASSERT_TRUE(status.exited && status.code == 0) << consumer_log();
        EXPECT_LT(took, 400ms) << "stopping took "
                               << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n"
                               << consumer_log();
    }
}

// The latest-only guarantee across kernels: a source filling 64 KiB counter frames as fast as it can into a
// double buffer, read in another kernel by slow sinks (slot by slot and in bursts) and a slow stage. Every
// frame that reaches a sink is whole.
TEST_F(CrossKernel_test, LatestOnlyFramesReadByAnotherKernelAreAlwaysWhole) {
    start_broker();
    constexpr std::uint64_t FRAME_BYTES = 64 * 1024;
    auto frames_node = [](const std::string& id, const std::string& component) {
        return nlohmann::json{
            {"id", id}, {"plugin", "test_frames"}, {"component", component}, {"on_error", {{"action", "continue"}}}};
    };
    nlohmann::json source = frames_node("src", "test.source.counter_frames");
    source["outputs"] = {"cam0"};
    const nlohmann::json producer_graph = {
        {"schema_version", 1},
        {"name", "instrument"},
        {"broker", broker_section("instrument")},
        {"channels", {{{"name", "cam0"}, {"slot_bytes", FRAME_BYTES}, {"slot_count", 2}, {"sync", "latest_only"}}}},
        {"nodes", {source}}};
    launch(producer_, producer_dir_, producer_graph);

    nlohmann::json by_slot = frames_node("check_slots", "test.sink.whole_frames");
    by_slot["inputs"] = {"broker:cam0"};
    by_slot["burst"] = 1;
    by_slot["params"] = {{"delay_us", 40}};
    nlohmann::json by_burst = frames_node("check_bursts", "test.sink.whole_frames");
    by_burst["inputs"] = {"broker:cam0"};
    by_burst["params"] = {{"delay_us", 40}};
    nlohmann::json copy = frames_node("copy", "test.stage.copy_in_halves");
    copy["inputs"] = {"broker:cam0"};
    copy["outputs"] = {"copied"};
    copy["params"] = {{"delay_us", 40}};
    nlohmann::json copied = frames_node("check_copied", "test.sink.whole_frames");
    copied["inputs"] = {"copied"};
    copied["params"] = {{"delay_us", 0}};
    const nlohmann::json consumer_graph = {
        {"schema_version", 1},
        {"name", "analysis"},
        {"broker", broker_section("analysis")},
        {"channels", {{{"name", "copied"}, {"slot_bytes", FRAME_BYTES}, {"slot_count", 8}, {"sync", "every_reader"}}}},
        {"nodes", {by_slot, by_burst, copy, copied}}};
    launch(consumer_, consumer_dir_, consumer_graph, {"--duration", "3"});
    const ExitStatus status = consumer_->wait(30s);
    consumer_.reset();
    ASSERT_TRUE(status.exited && status.code == 0) << consumer_log();
    const KernelRun run = collect(consumer_dir_, status);
    for (const char* node : {"check_slots", "check_bursts", "copy", "check_copied"}) {
        const nlohmann::json report = run.node(node);
        ASSERT_FALSE(report.is_null()) << node << "\n" << run.report.dump();
        EXPECT_GE(report["handled"].get<std::uint64_t>(), 100u) << node << "\n" << run.report.dump();
        EXPECT_EQ(report["errors"], 0) << node << ": torn frames\n" << consumer_log();
        EXPECT_EQ(report["overwritten"], 0) << node << "\n" << run.report.dump();
    }
    EXPECT_GT(run.node("check_bursts")["burst_calls"].get<std::uint64_t>(), 0u) << run.report.dump();
    stop(producer_, producer_log());
}

}  // namespace
}  // namespace dhub::testing
