// SPDX-License-Identifier: Apache-2.0
// Two hosts simulated on one machine: each kernel runs with a /dev/shm of its own (unshare --mount, a fresh
// tmpfs), so neither can map the other's segments, as on two machines. A dhub-broker process and both kernels
// talk over loopback TCP with CURVE keys. The analysis kernel's graph reads "broker:cam0" exactly as it would
// on the instrument's host; the instrument kernel exports its channels ("broker": {"export": ...}), and the
// analysis kernel receives cam0 through the zmq transport the broker named. Any start order, the producer
// killed and restarted, the broker killed and restarted, the receiving kernel killed and restarted.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dhub/base/process_identity.hpp"
#include "dhub/broker/broker_client.hpp"
#include "dhub/broker/keys.hpp"
#include "kernel_pair_fixture.hpp"
#include "kernel_support.hpp"
#include "support/loopback_port.hpp"
#include "transport_graphs.hpp"

namespace dhub::testing {
namespace {

class CrossHost_test : public KernelPair {
protected:
    void SetUp() override {
        if (const std::string why = private_shm_unavailable(); !why.empty()) {
            GTEST_SKIP() << "two hosts are simulated with a private /dev/shm per kernel, which this machine does not "
                            "permit: "
                         << why;
        }
        KernelPair::SetUp();
        if (HasFatalFailure()) return;
        export_port_ = restartable_loopback_ports(3);  // cam0, and channels tests add (two ids, a live add)
        export_ = {{"host", "127.0.0.1"}, {"port", export_port_}, {"allowlist", (keys_ / "allow.json").string()}};
        producer_own_host_ = true;
        consumer_own_host_ = true;
    }

    std::string export_endpoint() const { return "tcp://127.0.0.1:" + std::to_string(export_port_); }

    /// The input_attached events of the analysis kernel in dir, in order.
    static std::vector<nlohmann::json> attached_events(const TempDir& dir) {
        std::vector<nlohmann::json> attached;
        for (const nlohmann::json& event : read_events(dir)) {
            if (event["event"] == "input_attached") attached.push_back(event);
        }
        return attached;
    }

    /// Another analysis kernel in dir (the graph start_consumer wrote, recording into dir).
    void launch_second_consumer(std::optional<ChildProcess>& slot, const TempDir& dir, bool own_host) {
        nlohmann::json graph = nlohmann::json::parse(read_text_file((consumer_dir_ / "graph.json").string()));
        graph["nodes"][0]["params"]["path"] = (dir / "cam0.dhr").string();
        launch(slot, dir, graph, {"--log-level", "debug"}, own_host);
    }

    /// The frame counters of the recording, split into the frames a producer kernel wrote before `restarted_at`
    /// and those its successor wrote after (by the producer timestamps the transport carries): each part must be
    /// contiguous. Split by time, not by the counter going back: how many frames the new run sends before the
    /// receiver is welcomed again is timing.
    std::pair<std::vector<std::uint64_t>, std::vector<std::uint64_t>> runs_split_at(std::uint64_t restarted_at) const {
        const std::vector<std::uint64_t> frames = recorded_frames(recording());
        const Recording slots = read_recording(recording());
        std::pair<std::vector<std::uint64_t>, std::vector<std::uint64_t>> runs;
        for (std::size_t i = 0; i < frames.size() && i < slots.slots.size(); ++i)
            (slots.slots[i].timestamp_ns < restarted_at ? runs.first : runs.second).push_back(frames[i]);
        return runs;
    }

    int export_port_ = 0;
};

TEST_F(CrossHost_test, AConsumerOnAnotherHostStartedFirstReceivesEveryFrameThroughTheEndpointTheBrokerNamed) {
    start_broker();
    start_consumer();
    ASSERT_TRUE(wait_until([&] { return waiting_for("not_published"); }, 10s)) << consumer_log();
    start_producer();
    ASSERT_TRUE(wait_until([&] { return attachments() == 1 && recorded() >= 300; }, 20s))
        << consumer_log() << producer_log();

    const std::vector<nlohmann::json> attached = attached_events(consumer_dir_);
    ASSERT_EQ(attached.size(), 1u);
    EXPECT_EQ(attached[0].value("via", ""), export_endpoint()) << attached[0].dump();
    EXPECT_EQ(attached[0]["segment"].get<std::string>().rfind("analysis-", 0), 0u)
        << "read from a local channel of the analysis kernel: " << attached[0].dump();
    EXPECT_EQ(consumer_events("channel_imported", {{"channel", "cam0"}, {"endpoint", export_endpoint()}}), 1u);

    stop(producer_, producer_log());
    // The producer's end reaches the other host after its last frame; the broker tells the input it is gone.
    ASSERT_TRUE(wait_until(
        [&] {
            return consumer_events("input_lost", {{"node", "rec"}}) == 1;
        },
        10s))
        << consumer_log();
    const KernelRun producer = collect(producer_dir_, {});
    const std::uint64_t produced = count_of(producer.node("sim"), "handled");
    // Every frame from the first one the receiver was welcomed at to the last one the producer wrote.
    ASSERT_TRUE(wait_until([&] { return recorded_frames(recording()).back() + 1 == produced; }, 10s))
        << produced << " produced: " << consumer_log();

    // The producer's kernel ends and starts again: the same receiver follows it into the new run.
    const std::size_t first_run = recorded();
    const std::uint64_t restarted_at = monotonic_now_ns();
    start_producer();
    ASSERT_TRUE(wait_until([&] { return recorded() >= first_run + 200; }, 20s)) << consumer_log() << producer_log();
    stop(producer_, producer_log());
    stop(consumer_, consumer_log());
    EXPECT_EQ(consumer_events("channel_imported"), 1u) << consumer_log();

    const auto [first, second] = runs_split_at(restarted_at);
    ASSERT_GE(first.size(), 300u);
    ASSERT_GE(second.size(), 200u);
    expect_contiguous(first, "the first run's frames on the other host");
    expect_contiguous(second, "the second run's frames on the other host");
}

TEST_F(CrossHost_test, AProducerStartedFirstIsReadThroughItsSegmentOnItsHostAndThroughTheTransportElsewhere) {
    producer_own_host_ = false;  // on this test's own /dev/shm, with the second consumer
    ASSERT_NO_FATAL_FAILURE(start_published_producer());
    start_consumer();
    TempDir local_dir;
    std::optional<ChildProcess> local;
    launch_second_consumer(local, local_dir, /*own_host=*/false);
    ASSERT_TRUE(wait_until([&] { return recorded() >= 200; }, 20s)) << consumer_log();
    ASSERT_TRUE(wait_until([&] { return read_recording(local_dir / "cam0.dhr").slots.size() >= 200; }, 20s))
        << read_text_file((local_dir / "kernel.log").string());
    stop(local, read_text_file((local_dir / "kernel.log").string()));
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());

    const std::vector<nlohmann::json> remote_attached = attached_events(consumer_dir_);
    ASSERT_EQ(remote_attached.size(), 1u);
    EXPECT_EQ(remote_attached[0].value("via", ""), export_endpoint());
    const std::vector<nlohmann::json> local_attached = attached_events(local_dir);
    ASSERT_EQ(local_attached.size(), 1u);
    EXPECT_FALSE(local_attached[0].contains("via")) << "same host, same segment: " << local_attached[0].dump();
    EXPECT_EQ(local_attached[0]["segment"].get<std::string>().rfind("instrument-", 0), 0u) << local_attached[0].dump();
    EXPECT_EQ(count_events(local_dir, "channel_imported"), 0u);
    expect_contiguous(recorded_frames(recording()), "the other host");
    expect_contiguous(recorded_frames(local_dir / "cam0.dhr"), "the producer's host");
}

TEST_F(CrossHost_test, ProducerKernelKilledAndRestartedTheOtherHostResumesWithTheNewRun) {
    start_broker();
    start_producer();
    start_consumer();
    ASSERT_TRUE(wait_until([&] { return recorded() >= 200; }, 20s)) << consumer_log() << producer_log();
    kill_producer();
    ASSERT_TRUE(wait_until([&] { return waiting_for("producer_lost"); }, 10s)) << consumer_log();
    EXPECT_FALSE(consumer_->try_wait()) << consumer_log();

    const std::size_t before_restart = recorded();
    const std::uint64_t restarted_at = monotonic_now_ns();
    start_producer();
    ASSERT_TRUE(wait_until([&] { return recorded() >= before_restart + 200; }, 20s))
        << consumer_log() << producer_log();
    EXPECT_EQ(attachments(), 2u) << consumer_log();
    // The receiver outlived the producer: the analysis kernel imported the channel once.
    EXPECT_EQ(consumer_events("channel_imported"), 1u) << consumer_log();
    stop(producer_, producer_log());
    ASSERT_TRUE(wait_until(
        [&] {
            return consumer_events("input_lost", {{"node", "rec"}}) == 2;
        },
        10s))
        << consumer_log();
    stop(consumer_, consumer_log());
    EXPECT_EQ(consumer_events("channel_imported"), 1u) << consumer_log();
    const auto [killed, restarted] = runs_split_at(restarted_at);
    expect_contiguous(killed, "the killed producer's frames");
    expect_contiguous(restarted, "the restarted producer's frames");
    EXPECT_GE(restarted.size(), 200u);
}

TEST_F(CrossHost_test, BrokerKilledAndRestartedFramesKeepCrossingAndANewHostDiscoversTheChannelAgain) {
    start_broker(restartable_loopback_endpoint());
    start_producer();
    start_consumer();
    ASSERT_TRUE(wait_until([&] { return recorded() >= 100; }, 20s)) << consumer_log() << producer_log();

    broker_->kill(SIGKILL);
    (void)broker_->wait(10s);
    broker_.reset();
    const std::size_t broker_down = recorded();
    // The data plane does not need the broker: frames keep arriving on the other host.
    ASSERT_TRUE(wait_until([&] { return recorded() >= broker_down + 300; }, 20s)) << consumer_log();
    start_broker(endpoint_);
    ASSERT_TRUE(wait_until(
        [&] {
            return count_events(producer_dir_, "registration_restored", {{"kind", "channel"}, {"key", "cam0"}}) >= 1;
        },
        15s))
        << producer_log() << read_text_file(broker_log_);
    // A third host that starts now finds the channel, and its endpoint, through the restarted broker.
    TempDir third_dir;
    std::optional<ChildProcess> third;
    launch_second_consumer(third, third_dir, /*own_host=*/true);
    ASSERT_TRUE(wait_until([&] { return read_recording(third_dir / "cam0.dhr").slots.size() >= 100; }, 20s))
        << read_text_file((third_dir / "kernel.log").string());
    stop(third, read_text_file((third_dir / "kernel.log").string()));
    stop(producer_, producer_log());
    stop(consumer_, consumer_log());

    EXPECT_EQ(attachments(), 1u) << "the first host never detached: " << consumer_log();
    expect_contiguous(recorded_frames(recording()), "the first host, across the broker's restart");
    expect_contiguous(recorded_frames(third_dir / "cam0.dhr"), "the host that came after the restart");
}

TEST_F(CrossHost_test, ReceivingKernelKilledAndRestartedGetsTheStreamAgainAndTheProducerGoesOn) {
    start_broker();
    start_producer();
    start_consumer();
    ASSERT_TRUE(wait_until([&] { return recorded() >= 200; }, 20s)) << consumer_log() << producer_log();
    consumer_->kill(SIGKILL);
    (void)consumer_->wait(10s);
    consumer_.reset();
    const std::vector<std::uint64_t> before = recorded_frames(recording());
    ASSERT_FALSE(before.empty());
    expect_contiguous(before, "the killed kernel's frames");
    std::filesystem::remove(recording());
    std::filesystem::remove(recording().string() + ".idx");

    start_consumer();
    ASSERT_TRUE(wait_until([&] { return recorded() >= 200; }, 20s)) << consumer_log() << producer_log();
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());

    const std::vector<std::uint64_t> after = recorded_frames(recording());
    expect_contiguous(after, "the restarted kernel's frames");
    ASSERT_FALSE(after.empty());
    // It starts where the sender's window starts: with the killed receiver still remembered (its peer timeout),
    // at the first slot that one had not committed, so it may get a few frames the killed kernel recorded too.
    EXPECT_GT(after.back(), before.back()) << "the restarted kernel gets the frames produced since";
    // The sender forgot the dead receiver and discarded what nobody was there to receive: the producer ran on.
    const KernelRun producer = collect(producer_dir_, {});
    EXPECT_GE(count_of(producer.node("sim"), "handled"), after.back() + 1) << producer.report.dump();
    EXPECT_EQ(producer.node("export-cam0")["end_reason"], "end_of_stream") << producer.report.dump();
}

TEST_F(CrossHost_test, WithoutAnExportTheConsumerOnAnotherHostWaitsAndSaysWhatIsMissing) {
    export_ = nullptr;
    start_broker();
    start_producer();
    start_consumer();
    ASSERT_TRUE(wait_until([&] { return waiting_for("no_transport"); }, 15s)) << consumer_log();
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());
    bool named = false;
    for (const nlohmann::json& event : read_events(consumer_dir_)) {
        if (event["event"] == "input_waiting" && event["reason"] == "no_transport") {
            named = event["detail"].get<std::string>().find("\"export\"") != std::string::npos;
        }
    }
    EXPECT_TRUE(named) << consumer_log();
    EXPECT_EQ(attachments(), 0u);
}

TEST_F(CrossHost_test, AnExportWhosePortIsTakenIsNotAdvertisedAndTheOtherHostSaysWhyWhileTheProducerRunsOn) {
    // Another program of the instrument's host listens on the export port already.
    const int taken = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(taken, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(export_port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(taken, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
    ASSERT_EQ(::listen(taken, 4), 0);
    start_broker();
    start_producer();
    start_consumer();
    ASSERT_TRUE(wait_until(
        [&] {
            return count_events(producer_dir_, "export_unavailable",
                                {{"channel", "cam0"}, {"node", "export-cam0"}, {"bind", export_endpoint()}}) == 1;
        },
        15s))
        << producer_log();
    ASSERT_TRUE(wait_until([&] { return waiting_for("no_transport"); }, 15s)) << consumer_log();
    EXPECT_FALSE(producer_->try_wait()) << "the producer's own graph goes on: " << producer_log();
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());
    ::close(taken);
    EXPECT_EQ(consumer_events("channel_imported"), 0u) << consumer_log();
    EXPECT_EQ(attachments(), 0u);
    const KernelRun producer = collect(producer_dir_, {});
    EXPECT_GT(count_of(producer.node("sim"), "handled"), 0u);
}

TEST_F(CrossHost_test, AnExportSenderRemovedFromTheRunningGraphIsNoLongerAdvertised) {
    producer_own_host_ = false;  // dhub-ctl reaches it on this test's /dev/shm
    ASSERT_NO_FATAL_FAILURE(start_published_producer());
    const CtlRun removed =
        ctl(producer_dir_, {"remove", "export-cam0", "--json", "--kernel", std::to_string(producer_->pid())});
    ASSERT_EQ(removed.code, 0) << removed.out << removed.err;
    ASSERT_TRUE(wait_until(
        [&] {
            return count_events(producer_dir_, "export_unavailable", {{"channel", "cam0"}, {"node", "export-cam0"}}) ==
                   1;
        },
        10s))
        << producer_log();
    // Registered again without the endpoint: a host that discovers the channel now is told why it cannot read it.
    ASSERT_TRUE(wait_until(
        [&] {
            return count_events(producer_dir_, "channel_published", {{"channel", "cam0"}}) == 2;
        },
        10s))
        << producer_log();
    start_consumer();
    ASSERT_TRUE(wait_until([&] { return waiting_for("no_transport"); }, 15s)) << consumer_log();
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());
    EXPECT_EQ(consumer_events("channel_imported"), 0u) << consumer_log();
}

TEST_F(CrossHost_test, ChannelsWhoseNodeIdsWouldMeetEachCrossWithASenderAndAReceiverOfTheirOwn) {
    // "cam.0" and "cam_0" both give "export-cam_0" and "import-cam_0" with the dots as '_'.
    start_broker();
    nlohmann::json broker = broker_section("instrument");
    broker["export"] = export_;
    nlohmann::json producer = instrument_graph(broker, 64);
    producer["channels"][0]["name"] = "cam.0";
    producer["channels"].push_back(producer["channels"][0]);
    producer["channels"][1]["name"] = "cam_0";
    producer["nodes"][0]["outputs"] = {"cam.0"};
    producer["nodes"].push_back(producer["nodes"][0]);
    producer["nodes"][1]["id"] = "sim2";
    producer["nodes"][1]["outputs"] = {"cam_0"};
    nlohmann::json consumer = {{"schema_version", 1},
                               {"name", "analysis"},
                               {"broker", broker_section("analysis")},
                               {"channels", nlohmann::json::array()}};
    consumer["nodes"] = nlohmann::json::array();
    for (const char* channel : {"cam.0", "cam_0"}) {
        consumer["nodes"].push_back(
            {{"id", std::string("rec-") + (channel[3] == '.' ? "dot" : "underscore")},
             {"plugin", "recorder"},
             {"params", {{"path", (consumer_dir_ / (std::string(channel) + ".dhr")).string()}, {"flush_every", 1}}},
             {"inputs", {std::string("broker:") + channel}}});
    }
    launch(producer_, producer_dir_, producer, {"--log-level", "debug"}, /*own_host=*/true);
    launch(consumer_, consumer_dir_, consumer, {"--log-level", "debug"}, /*own_host=*/true);
    const auto recorded_of = [&](const char* channel) {
        return read_recording(consumer_dir_ / (std::string(channel) + ".dhr")).slots.size();
    };
    ASSERT_TRUE(wait_until([&] { return recorded_of("cam.0") >= 100 && recorded_of("cam_0") >= 100; }, 20s))
        << consumer_log() << producer_log();
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());
    EXPECT_EQ(consumer_events("channel_imported", {{"channel", "cam.0"}}), 1u) << consumer_log();
    EXPECT_EQ(consumer_events("channel_imported", {{"channel", "cam_0"}}), 1u) << consumer_log();
    EXPECT_EQ(consumer_events("channel_imported", {{"node", "import-cam_0"}}), 1u) << consumer_log();
    EXPECT_EQ(consumer_events("channel_imported", {{"node", "import-cam_0-2"}}), 1u) << consumer_log();
    expect_contiguous(recorded_frames(consumer_dir_ / "cam.0.dhr"), "cam.0");
    expect_contiguous(recorded_frames(consumer_dir_ / "cam_0.dhr"), "cam_0");
}

TEST_F(CrossHost_test, AReaderOfAnotherHostsChannelAddedLiveIsAnsweredAtOnceAndGetsTheFrames) {
    // The add holds the graph's edit lock until it answers; the receiver the node's input needs is added under
    // that lock too. The answer must not wait for the input (it used to wait out its 5 s start fence).
    consumer_own_host_ = false;  // dhub-ctl reaches it on this test's /dev/shm
    start_broker();
    start_producer();
    nlohmann::json analysis = instrument_graph(broker_section("analysis"));
    analysis["name"] = "analysis";
    analysis["channels"][0]["name"] = "local";
    analysis["nodes"][0]["outputs"] = {"local"};
    launch(consumer_, consumer_dir_, analysis, {"--log-level", "debug"}, /*own_host=*/false);
    ASSERT_TRUE(wait_until(
        [&] {
            return count_events(consumer_dir_, "node_state", {{"node", "sim"}, {"to", "running"}}) > 0;
        },
        10s))
        << consumer_log();
    const nlohmann::json spec = {{"id", "rec"},
                                 {"plugin", "recorder"},
                                 {"params", {{"path", recording().string()}, {"flush_every", 1}}},
                                 {"inputs", {"broker:cam0"}}};
    const auto asked = std::chrono::steady_clock::now();
    const CtlRun added =
        ctl(consumer_dir_, {"add", spec.dump(), "--json", "--kernel", std::to_string(consumer_->pid())});
    const auto answered = std::chrono::steady_clock::now();
    ASSERT_EQ(added.code, 0) << added.out << added.err << consumer_log();
    // Not a speed check: before, the answer came when the 5 s start fence ran out, every time.
    EXPECT_LT(answered - asked, std::chrono::seconds(5)) << "the add waited out its start fence";
    EXPECT_EQ(added.value["state"], "starting") << added.out;
    EXPECT_EQ(added.value["waiting_for"], nlohmann::json::array({"broker:cam0"})) << added.out;
    ASSERT_TRUE(wait_until([&] { return recorded() >= 100; }, 20s)) << consumer_log() << producer_log();
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());
    EXPECT_EQ(consumer_events("channel_imported", {{"channel", "cam0"}}), 1u) << consumer_log();
    expect_contiguous(recorded_frames(recording()), "the frames of the reader added live");
}

TEST_F(CrossHost_test, AChannelAddedToTheRunningProducerIsExportedAndItsSenderGoesWithItsWriter) {
    producer_own_host_ = false;  // dhub-ctl reaches it on this test's /dev/shm
    ASSERT_NO_FATAL_FAILURE(start_published_producer());
    const std::string pid = std::to_string(producer_->pid());
    const nlohmann::json stage = {{"id", "gain"}, {"plugin", "scale"}, {"inputs", {"cam0"}}, {"outputs", {"cam1"}}};
    const nlohmann::json channel = {
        {"name", "cam1"}, {"slot_bytes", 4096}, {"slot_count", 64}, {"sync", "every_reader"}};
    // Adds the stage and its channel; the answer names the sender the kernel added, serving on `endpoint`.
    const auto add_expecting_export_on = [&](const std::string& endpoint) {
        const CtlRun added = ctl(producer_dir_, {"add", stage.dump(), "--channels",
                                                 nlohmann::json::array({channel}).dump(), "--json", "--kernel", pid});
        ASSERT_EQ(added.code, 0) << added.out << added.err << producer_log();
        EXPECT_EQ(added.value["exported"],
                  nlohmann::json::array({{{"channel", "cam1"}, {"node", "export-cam1"}, {"endpoint", endpoint}}}))
            << added.out;
    };
    // cam0 is served on the export's port, so the added channel on the next one.
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(export_port_ + 1);
    ASSERT_NO_FATAL_FAILURE(add_expecting_export_on(endpoint));
    start_consumer("recorder", "analysis", "cam1");
    ASSERT_TRUE(wait_until([&] { return recorded() >= 100; }, 20s)) << consumer_log() << producer_log();
    EXPECT_EQ(consumer_events("channel_imported", {{"channel", "cam1"}, {"endpoint", endpoint}}), 1u) << consumer_log();

    // Removing the stage takes the sender the kernel added for its channel along.
    const CtlRun removed = ctl(producer_dir_, {"remove", "gain", "--json", "--kernel", pid});
    ASSERT_EQ(removed.code, 0) << removed.out << removed.err << producer_log();
    EXPECT_EQ(removed.value["also_removed"], nlohmann::json::array({"export-cam1"})) << removed.out;
    ASSERT_TRUE(wait_until(
        [&] {
            return consumer_events("input_lost", {{"node", "rec"}}) == 1;
        },
        10s))
        << consumer_log();
    expect_contiguous(recorded_frames(recording()), "the added channel on the other host");

    // Added again: served anew on the next port (never the dead one), and the other host follows it there.
    const std::size_t first_run = recorded();
    const std::string next = "tcp://127.0.0.1:" + std::to_string(export_port_ + 2);
    ASSERT_NO_FATAL_FAILURE(add_expecting_export_on(next));
    ASSERT_TRUE(wait_until([&] { return recorded() >= first_run + 100; }, 20s)) << consumer_log() << producer_log();
    EXPECT_EQ(consumer_events("channel_imported", {{"channel", "cam1"}, {"endpoint", next}}), 1u) << consumer_log();
    stop(consumer_, consumer_log());
    stop(producer_, producer_log());
}

TEST_F(CrossHost_test, AGarbledTransportInARegistrationIsRefusedNamingTheFieldAndTheKernelGoesOn) {
    // A client of the broker (the instrument's key) registers cam0 as if from another host, with transports no
    // kernel should use: the consumer kernel refuses each, naming the field, and keeps running.
    consumer_own_host_ = false;
    start_broker();
    start_consumer();
    broker::ClientConfig config;
    config.endpoint = endpoint_;
    config.server_public_key = key("broker.pub");
    auto secret = broker::read_key_file((keys_ / "instrument.key").string(), broker::KeyKind::Secret);
    ASSERT_TRUE(secret) << secret.error().message;
    config.client_keys = {broker::public_key_of(secret.value()).value(), secret.value()};
    broker::BrokerClient client(config);
    ASSERT_TRUE(client.start());
    const ProcessIdentity self = ProcessIdentity::self();
    broker::ChannelRegistration registration;
    registration.name = "cam0";
    registration.segment = "nowhere";
    registration.layout_version = 1;
    registration.schema_hash = std::string(64, '0');
    registration.producer = {self.pid, self.start_ticks, "garbler"};
    registration.slot_bytes = 4096;
    registration.slot_count = 8;
    registration.attach_secret = std::string(64, '1');
    registration.shm_domain = std::string(32, 'f');  // never this machine's
    const auto refused_naming = [&](const std::string& field) {
        return wait_until(
            [&] {
                for (const nlohmann::json& event : read_events(consumer_dir_)) {
                    if (event["event"] == "input_waiting" && event["reason"] == "import_failed" &&
                        event["detail"].get<std::string>().find(field) != std::string::npos)
                        return true;
                }
                return false;
            },
            15s);
    };
    registration.transport = {{"kind", 5}, {"endpoint", "tcp://127.0.0.1:1"}};
    ASSERT_TRUE(wait_until([&] { return static_cast<bool>(client.register_channel(registration)); }, 10s));
    EXPECT_TRUE(refused_naming("\"kind\"")) << consumer_log();
    ASSERT_TRUE(client.deregister_channel("cam0"));
    registration.transport = {{"kind", "zmq"}, {"endpoint", "tcp://127.0.0.1:1"}, {"server_key", "/dev/zero"}};
    ASSERT_TRUE(client.register_channel(registration));
    EXPECT_TRUE(refused_naming("\"server_key\"")) << consumer_log();
    ASSERT_TRUE(client.deregister_channel("cam0"));
    registration.transport = {{"kind", "zmq"}, {"endpoint", "tcp://127.0.0.1:1"}};
    registration.slot_bytes = std::uint64_t{1} << 40;  // a ring no /dev/shm holds
    ASSERT_TRUE(client.register_channel(registration));
    EXPECT_TRUE(refused_naming("does not fit")) << consumer_log();
    ASSERT_TRUE(client.deregister_channel("cam0"));
    registration.slot_bytes = 4096;
    registration.slot_count = 0;  // no channel has no slots: named as the import's channel, not as a request
    ASSERT_TRUE(client.register_channel(registration));
    EXPECT_TRUE(refused_naming("channel 'import.cam0' /slot_count")) << consumer_log();
    for (const nlohmann::json& event : read_events(consumer_dir_)) {
        if (event["event"] == "input_waiting") {
            EXPECT_EQ(event["detail"].get<std::string>().find("/request"), std::string::npos) << event.dump();
        }
    }
    client.stop();
    EXPECT_FALSE(consumer_->try_wait()) << "the consumer kernel must go on: " << consumer_log();
    EXPECT_EQ(count_events(consumer_dir_, "channel_imported"), 0u);
    stop(consumer_, consumer_log());
}

}  // namespace
}  // namespace dhub::testing
