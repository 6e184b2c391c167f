// SPDX-License-Identifier: Apache-2.0
// The fixture of the tests that run an instrument kernel publishing "cam0" and an analysis kernel recording
// "broker:cam0", with a dhub-broker process between them and CURVE keys made by dhub-keygen
// (cross_kernel_test.cpp on one host, cross_host_test.cpp on two simulated ones).
#pragma once

#include <gtest/gtest.h>

#include <signal.h>
#include <time.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "kernel_support.hpp"

namespace dhub::testing {

using namespace std::chrono_literals;

using namespace std::chrono_literals;

inline constexpr int HEARTBEAT_MS = 100;
inline constexpr int DEAD_AFTER_MS = 600;
inline constexpr int RATE_HZ = 500;

inline std::uint64_t monotonic_now_ns() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(now.tv_nsec);
}

class KernelPair : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* name : {"broker", "instrument", "analysis", "stranger"}) {
            auto keygen = ChildProcess::spawn(DHUB_KEYGEN_BIN, {"--dir", keys_.path().string(), name},
                                              (keys_ / "keygen.log").string());
            const auto status = keygen.wait(10s);
            ASSERT_TRUE(status.exited && status.code == 0) << read_text_file((keys_ / "keygen.log").string());
        }
        // Per channel and role: the instrument may only produce cam*, the analysis kernel only consume it.
        std::ofstream(keys_ / "allow.json") << R"({"clients": [)"
                                            << R"({"public_key": ")" << key("instrument.pub")
                                            << R"(", "name": "instrument", "produce": ["cam*"], "consume": []},)"
                                            << R"({"public_key": ")" << key("analysis.pub")
                                            << R"(", "name": "analysis", "produce": [], "consume": ["cam*"]}]})";
    }

    void TearDown() override {
        for (auto* process : {&consumer_, &producer_, &broker_}) {
            if (*process) {
                (void)(*process)->stop(10s, SIGKILL);
            }
        }
        // A SIGKILLed kernel cannot remove its segments nor its counters page: remove what every kernel of this
        // test left behind.
        for (const pid_t pid : kernel_pids_) {
            for (const char* graph : {"instrument", "analysis"}) {
                for (const char* kind : {"dhub1.", "dhubctr1."}) {
                    const std::string prefix = kind + std::string(graph) + "-" + std::to_string(pid) + "-";
                    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
                        if (entry.path().filename().string().starts_with(prefix)) std::filesystem::remove(entry.path());
                    }
                }
            }
        }
    }

    /// Starts dhub-kernel and remembers its pid for the segment clean-up.
    void launch(std::optional<ChildProcess>& slot,
                const TempDir& dir,
                const nlohmann::json& graph,
                const std::vector<std::string>& arguments = {},
                bool own_host = false) {
        slot.emplace(start_kernel(dir, write_graph(dir, graph), arguments,
                                  own_host ? private_shm_launcher() : std::vector<std::string>{}));
        kernel_pids_.push_back(slot->pid());
    }

    std::string key(const std::string& file) const {
        std::string text = read_text_file((keys_ / file).string());
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
            text.pop_back();
        return text;
    }

    void start_broker(const std::string& endpoint = "tcp://127.0.0.1:0") {
        const auto endpoint_file = keys_ / "endpoint";
        std::filesystem::remove(endpoint_file);
        broker_log_ = (keys_ / ("broker-" + std::to_string(++broker_starts_) + ".log")).string();
        broker_.emplace(ChildProcess::spawn(
            DHUB_BROKER_BIN,
            {"--endpoint", endpoint, "--endpoint-file", endpoint_file.string(), "--secret-key-file",
             (keys_ / "broker.key").string(), "--allow", (keys_ / "allow.json").string(), "--heartbeat-ms",
             std::to_string(HEARTBEAT_MS), "--dead-after-ms", std::to_string(DEAD_AFTER_MS), "--events",
             broker_events().string(), "--log-level", "debug"},
            broker_log_));
        ASSERT_TRUE(wait_until([&] { return !read_text_file(endpoint_file.string()).empty(); }, 10s))
            << read_text_file(broker_log_);
        endpoint_ = read_text_file(endpoint_file.string());
        while (!endpoint_.empty() && endpoint_.back() == '\n')
            endpoint_.pop_back();
    }

    /// The standalone broker's --events (of its latest start).
    std::filesystem::path broker_events() const {
        return keys_ / ("broker-" + std::to_string(broker_starts_) + ".events");
    }

    nlohmann::json broker_section(const std::string& client) const {
        return {{"endpoint", endpoint_},
                {"server_key", (keys_ / "broker.pub").string()},
                {"client_key", (keys_ / (client + ".key")).string()},
                {"heartbeat_ms", HEARTBEAT_MS},
                {"dead_after_ms", DEAD_AFTER_MS}};
    }

    /// The instrument kernel's graph: a counter sim_source on every_reader channel cam0, with this broker section.
    static nlohmann::json instrument_graph(const nlohmann::json& broker, std::uint32_t slot_count = 8) {
        return {{"schema_version", 1},
                {"name", "instrument"},
                {"broker", broker},
                {"channels",
                 {{{"name", "cam0"}, {"slot_bytes", 4096}, {"slot_count", slot_count}, {"sync", "every_reader"}}}},
                {"nodes",
                 {{{"id", "sim"},
                   {"plugin", "sim_source"},
                   {"params",
                    {{"waveform", "counter"}, {"channels", 1}, {"samples_per_channel", 64}, {"rate_hz", RATE_HZ}}},
                   {"outputs", {"cam0"}}}}}};
    }

    void start_producer() {
        nlohmann::json broker = broker_section("instrument");
        if (!export_.is_null()) broker["export"] = export_;
        launch(producer_, producer_dir_, instrument_graph(broker, 64), {"--log-level", "debug"}, producer_own_host_);
    }

    /// Starts the broker and the instrument kernel, and waits until the broker took its channel cam0.
    void start_published_producer() {
        start_broker();
        start_producer();
        ASSERT_TRUE(wait_until(
            [&] {
                return count_events(producer_dir_, "channel_published", {{"channel", "cam0"}}) == 1;
            },
            10s))
            << producer_log();
    }

    /// A consumer kernel whose one node "rec" reads broker:<channel> (a recorder writes recording()).
    void start_consumer(const std::string& plugin = "recorder",
                        const std::string& client = "analysis",
                        const std::string& channel = "cam0") {
        nlohmann::json node = {{"id", "rec"}, {"plugin", plugin}, {"inputs", {"broker:" + channel}}};
        nlohmann::json channels = nlohmann::json::array();
        if (plugin == "recorder") node["params"] = {{"path", recording().string()}, {"flush_every", 1}};
        if (plugin == "scale") {  // expects dhub.waveform.f64@1
            channels.push_back({{"name", "scaled"}, {"slot_bytes", 4096}});
            node["outputs"] = {"scaled"};
        }
        nlohmann::json broker = broker_section(client);
        broker["on_producer_lost"] = on_producer_lost_;
        nlohmann::json graph = {
            {"schema_version", 1}, {"name", "analysis"}, {"broker", broker}, {"channels", channels}, {"nodes", {node}}};
        launch(consumer_, consumer_dir_, graph, {"--log-level", "debug"}, consumer_own_host_);
    }

    std::filesystem::path recording() const { return consumer_dir_ / "cam0.dhr"; }
    std::string consumer_log() const { return read_text_file((consumer_dir_ / "kernel.log").string()); }
    std::string producer_log() const { return read_text_file((producer_dir_ / "kernel.log").string()); }
    /// The consumer kernel's events (--events): what the tests wait on, never its log text.
    std::size_t consumer_events(const std::string& event,
                                const nlohmann::json& fields = nlohmann::json::object()) const {
        return count_events(consumer_dir_, event, fields);
    }
    std::size_t attachments() const { return consumer_events("input_attached", {{"node", "rec"}}); }
    /// Waits for the consumer kernel's node "rec" to end refusing its input's schema.
    bool rec_ended_with_schema_mismatch() const {
        return wait_until(
            [&] {
                return consumer_events("node_finished", {{"node", "rec"}, {"end_reason", "schema_mismatch"}}) == 1;
            },
            15s);
    }
    bool waiting_for(const std::string& reason) const {
        return consumer_events("input_waiting", {{"node", "rec"}, {"reason", reason}}) > 0;
    }
    std::size_t recorded() const { return read_recording(recording()).slots.size(); }

    /// SIGKILL: no deregistration, no clean close; only the broker's heartbeat check notices.
    void kill_producer() {
        producer_->kill(SIGKILL);
        (void)producer_->wait(10s);
        producer_.reset();
    }

    /// SIGINT and a clean exit.
    static void stop(std::optional<ChildProcess>& process, const std::string& log) {
        ASSERT_TRUE(process);
        const auto status = process->stop(20s, SIGINT);
        EXPECT_TRUE(status.exited && status.code == 0) << log;
        process.reset();
    }

    TempDir keys_;
    TempDir producer_dir_;
    TempDir consumer_dir_;
    std::optional<ChildProcess> broker_;
    std::optional<ChildProcess> producer_;
    std::optional<ChildProcess> consumer_;
    std::string endpoint_;
    std::string broker_log_;
    int broker_starts_ = 0;
    std::string on_producer_lost_ = "wait";
    /// Cross-host tests: the instrument kernel's broker "export" (null: none), and which kernels run with a
    /// /dev/shm of their own (another host, as far as shared memory goes).
    nlohmann::json export_;
    bool producer_own_host_ = false;
    bool consumer_own_host_ = false;
    std::vector<pid_t> kernel_pids_;
};

}  // namespace dhub::testing
