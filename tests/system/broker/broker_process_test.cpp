// SPDX-License-Identifier: Apache-2.0
// dhub-broker as a real process with CURVE on: keys from dhub-keygen in a temporary directory, an allowlist,
// an ephemeral port reported through --endpoint-file. Bad input, a stranger's key, schema mismatch, a dead
// producer and a broker restart.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>

#include "dhub/broker/keys.hpp"
#include "support/broker_test_support.hpp"
#include "support/child_process.hpp"
#include "support/event_file.hpp"
#include "support/loopback_port.hpp"
#include "support/temp_dir.hpp"

namespace dhub::broker {
namespace {

using namespace std::chrono_literals;
using namespace dhub::broker::testing;
using dhub::testing::ChildProcess;
using dhub::testing::count_events_in;
using dhub::testing::read_text_file;
using dhub::testing::ReadySignal;
using dhub::testing::wait_until;

constexpr auto HEARTBEAT = 100ms;
constexpr auto DEAD_AFTER = 600ms;
constexpr int FLOOD_MESSAGES = 4000;
#ifdef DHUB_SANITIZED
constexpr int SEND_TIMEOUT_MS = 60'000;  // an instrumented broker parses garbage 10-20x slower
#else
constexpr int SEND_TIMEOUT_MS = 5'000;
#endif
#ifdef DHUB_SANITIZED
// ASan keeps freed memory in quarantine (256 MiB by default) and adds shadow memory.
constexpr long MAX_BROKER_RSS_KIB = 320 * 1024;
#else
constexpr long MAX_BROKER_RSS_KIB = 32 * 1024;  // about 10 MiB measured after the flood
#endif

/// VmRSS of a process in KiB (-1 if unreadable), and its state letter ('Z' for a zombie).
long rss_kib(pid_t pid, char& state) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    long rss = -1;
    state = '?';
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string label;
        fields >> label;
        if (label == "VmRSS:") fields >> rss;
        if (label == "State:") fields >> state;
    }
    return rss;
}

class BrokerProcess_test : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        scratch_ = std::make_unique<dhub::testing::TempDir>("dhub-broker-test");
        directory_ = scratch_->path().string();
        for (const char* name : {"broker", "member", "stranger"}) {
            auto keygen = ChildProcess::spawn(DHUB_KEYGEN_BIN, {"--dir", directory_, name}, directory_ + "/keygen.log");
            const auto status = keygen.wait(10s);
            ASSERT_TRUE(status.exited && status.code == 0) << read_text_file(directory_ + "/keygen.log");
        }
        std::ofstream(directory_ + "/allow.json")
            << R"({"clients": [{"public_key": ")" << key("member.pub") << R"(", "name": "member", )"
            << R"("produce": ["*"], "consume": ["*"]}]})";
    }
    static void TearDownTestSuite() { scratch_.reset(); }

    static std::string key(const std::string& file) {
        auto read = read_key_file(directory_ + "/" + file, file.ends_with(".key") ? KeyKind::Secret : KeyKind::Public);
        return read.ok() ? *read : std::string();
    }

    void start_broker(const std::string& endpoint = "tcp://127.0.0.1:0") {
        const std::string endpoint_file = directory_ + "/endpoint";
        std::filesystem::remove(endpoint_file);
        log_file_ = directory_ + "/broker-" + std::to_string(++broker_starts_) + ".log";
        events_file_ = directory_ + "/broker-" + std::to_string(broker_starts_) + ".events";
        broker_.emplace(ChildProcess::spawn(
            DHUB_BROKER_BIN,
            {"--endpoint", endpoint, "--endpoint-file", endpoint_file, "--secret-key-file", directory_ + "/broker.key",
             "--public-key-file", directory_ + "/broker.pub", "--allow", directory_ + "/allow.json", "--heartbeat-ms",
             std::to_string(HEARTBEAT.count()), "--dead-after-ms", std::to_string(DEAD_AFTER.count()), "--events",
             events_file_, "--log-level", "debug"},
            log_file_));
        ASSERT_TRUE(wait_until([&] { return !read_text_file(endpoint_file).empty(); }, 10s))
            << "dhub-broker did not report its endpoint: " << read_text_file(log_file_);
        endpoint_ = read_text_file(endpoint_file);
        while (!endpoint_.empty() && endpoint_.back() == '\n')
            endpoint_.pop_back();
    }

    ClientConfig client_config(const std::string& name, const std::string& keys = "member") const {
        ClientConfig config;
        config.endpoint = endpoint_;
        config.server_public_key = key("broker.pub");
        config.client_keys = CurveKeyPair{key(keys + ".pub"), key(keys + ".key")};
        config.name = name;
        config.heartbeat_interval = HEARTBEAT;
        config.dead_after = DEAD_AFTER;
        config.request_timeout = 2s;
        return config;
    }

    void TearDown() override {
        if (broker_) {
            const auto status = broker_->stop(10s);  // SIGTERM
            EXPECT_TRUE(status.exited && status.code == 0)
                << "dhub-broker did not stop cleanly on SIGTERM (exit " << status.code << ", signal " << status.signal
                << "); its log:\n"
                << read_text_file(log_file_);
        }
    }

    static inline std::unique_ptr<dhub::testing::TempDir> scratch_;
    static inline std::string directory_;
    static inline int broker_starts_ = 0;
    std::optional<ChildProcess> broker_;
    std::string endpoint_;
    std::string log_file_;
    std::string events_file_;  ///< --events: what the tests wait on instead of the log
};

TEST_F(BrokerProcess_test, SurvivesAFloodOfRandomAndMutatedFramesAndStillServes) {
#ifdef __SANITIZE_THREAD__
    // Under ThreadSanitizer the flood stalls in *this* process: the attacker's uninstrumented libzmq stops
    // moving frames to the broker after ~1000 (the broker sits idle at 0 % CPU waiting for them), with
    // blocking and with non-blocking sends alike. The TSan-built broker itself was checked against an
    // uninstrumented attacker: it survives the flood and serves, with no race reported.
    GTEST_SKIP() << "the attacker side stalls inside uninstrumented libzmq under ThreadSanitizer";
#endif
    start_broker();
    zmq::context_t context;
    zmq::socket_t attacker(context, zmq::socket_type::dealer);
    attacker.set(zmq::sockopt::linger, 0);
    attacker.set(zmq::sockopt::curve_serverkey, key("broker.pub"));
    attacker.set(zmq::sockopt::curve_publickey, key("member.pub"));
    attacker.set(zmq::sockopt::curve_secretkey, key("member.key"));
    attacker.set(zmq::sockopt::sndtimeo, SEND_TIMEOUT_MS);
    attacker.set(zmq::sockopt::rcvtimeo, SEND_TIMEOUT_MS);
    attacker.connect(endpoint_);
    auto send_frames = [&](const std::vector<std::string>& frames) {
        for (std::size_t f = 0; f < frames.size(); ++f) {
            const auto more = f + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
            if (!attacker.send(zmq::buffer(frames[f]), more)) return false;
        }
        return true;
    };
    // Waits for the reply carrying request_id, counting every reply on the way.
    std::size_t replies = 0;
    auto await_reply = [&](std::uint64_t request_id) {
        for (int received = 0; received < FLOOD_MESSAGES * 2; ++received) {
            std::vector<zmq::message_t> reply;
            if (!zmq::recv_multipart(attacker, std::back_inserter(reply))) return false;  // rcvtimeo
            ++replies;
            if (reply.size() == FRAME_COUNT && reply[2].size() == REQUEST_ID_BYTES &&
                get_u64_le(static_cast<const char*>(reply[2].data())) == request_id) {
                return true;
            }
        }
        return false;
    };
    // A session first, so that the flood meets every code path (with and without a session).
    constexpr std::uint64_t HELLO_ID = 1'000'001;
    constexpr std::uint64_t FINAL_ID = 1'000'002;
    ASSERT_TRUE(send_frames(frames_of(Message{MessageType::Hello, HELLO_ID, hello_body("attacker")})));
    ASSERT_TRUE(await_reply(HELLO_ID)) << "no HELLO_ACK: " << read_text_file(log_file_);
    char state_before = '?';
    const long rss_before = rss_kib(broker_->pid(), state_before);

    std::mt19937_64 random(4);
    const std::vector<std::vector<std::string>> valid = {
        frames_of(Message{MessageType::Hello, 1, hello_body("attacker")}),
        frames_of(Message{MessageType::RegisterChannel, 2, register_channel_body("flood")}),
        frames_of(Message{MessageType::Discover, 3, nlohmann::json{{"name", "flood"}, {"wait_ms", 100}}}),
        frames_of(Message{MessageType::List, 4, nlohmann::json::object()}),
    };
    replies = 0;
    for (int i = 0; i < FLOOD_MESSAGES; ++i) {
        std::vector<std::string> frames;
        if (i % 3 == 0) {
            frames.resize(random() % 7);
            for (auto& frame : frames) {
                frame.resize(random() % 64);
                for (char& c : frame)
                    c = static_cast<char>(random());
            }
        } else {
            frames = valid[random() % valid.size()];
            switch (random() % 6) {
                case 0:
                    frames[random() % frames.size()][0] ^= static_cast<char>(1 + random() % 255);
                    break;
                case 1:
                    frames.pop_back();
                    break;
                case 2:
                    frames.push_back("extra");
                    break;
                case 3:
                    frames[3] = std::string(60'000, '[');
                    break;
                case 4:
                    frames[3].resize(frames[3].size() / 2);
                    break;
                default:
                    break;  // valid: some get real answers
            }
        }
        if (frames.empty()) frames.emplace_back();
        ASSERT_TRUE(send_frames(frames)) << "the broker stopped reading at message " << i << "; its log:\n"
                                         << read_text_file(log_file_);
        zmq::message_t frame;
        while (attacker.recv(frame, zmq::recv_flags::dontwait)) {
            if (!frame.more()) ++replies;
        }
    }
    // Messages on one connection are handled in order: once this LIST is answered, the flood was read.
    ASSERT_TRUE(send_frames(frames_of(Message{MessageType::List, FINAL_ID, nlohmann::json::object()})));
    ASSERT_TRUE(await_reply(FINAL_ID)) << "the broker did not answer after the flood: " << read_text_file(log_file_);
    ::testing::Test::RecordProperty("flood_replies", static_cast<int>(replies));

    // The broker still serves a well-behaved client.
    BrokerClient producer(client_config("producer"));
    BrokerClient consumer(client_config("consumer"));
    ASSERT_TRUE(producer.start().ok());
    ASSERT_TRUE(consumer.start().ok());
    auto registered = producer.register_channel(channel_registration("cam0"));
    ASSERT_TRUE(registered.ok()) << registered.error().message;
    auto discovered = consumer.discover("cam0");
    ASSERT_TRUE(discovered.ok()) << discovered.error().message;
    // Garbage earns few answers: one ERROR per 100 ms at most (plus answers to the valid requests).
    EXPECT_LT(replies, static_cast<std::size_t>(FLOOD_MESSAGES / 2));
    char state = '?';
    const long rss = rss_kib(broker_->pid(), state);
    EXPECT_GT(rss, 0);
    EXPECT_LT(rss, MAX_BROKER_RSS_KIB);
    std::printf("broker RSS %ld KiB before the flood, %ld KiB after; %zu replies\n", rss_before, rss, replies);
    EXPECT_NE(state, 'Z') << "dhub-broker died: " << read_text_file(log_file_);
}

TEST_F(BrokerProcess_test, ClientWithAKeyNotInTheAllowlistIsRefusedAndLogged) {
    start_broker();
    auto config = client_config("stranger", "stranger");
    config.request_timeout = 500ms;
    BrokerClient stranger(config);
    ASSERT_TRUE(stranger.start().ok());
    auto refused = stranger.discover("anything");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::Timeout) << refused.error().message;
    EXPECT_FALSE(stranger.connected());
    EXPECT_TRUE(wait_until(
        [&] {
            return count_events_in(events_file_, "client_refused", {{"key", key("stranger.pub")}}) > 0;
        },
        5s))
        << read_text_file(log_file_);
    EXPECT_EQ(count_events_in(events_file_, "broker_listening", {{"endpoint", endpoint_}}), 1u);
}

TEST_F(BrokerProcess_test, ConsumerWithAnotherSchemaGetsSchemaMismatchNamingBothHashes) {
    start_broker();
    BrokerClient producer(client_config("producer"));
    BrokerClient consumer(client_config("consumer"));
    ASSERT_TRUE(producer.start().ok() && consumer.start().ok());
    ASSERT_TRUE(producer.register_channel(channel_registration("cam0", SCHEMA_A)).ok());
    auto refused = consumer.register_consumer({"cam0", ProcessTag{7, 8, "viewer"}, SCHEMA_B, {}});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::SchemaMismatch);
    EXPECT_NE(refused.error().message.find("SCHEMA_MISMATCH"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find(SCHEMA_A), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find(SCHEMA_B), std::string::npos) << refused.error().message;
}

TEST_F(BrokerProcess_test, KilledProducerIsReportedToItsConsumerWithinTheDeadline) {
    start_broker();
    ReadySignal registered;
    const auto config = client_config("producer");
    auto producer = ChildProcess::fork([&] {
        BrokerClient client(config);
        if (!client.start().ok() || !client.register_channel(channel_registration("cam0")).ok()) return 1;
        registered.notify();
        for (;;)
            ::pause();  // beats on its own thread until SIGKILLed
    });
    ASSERT_TRUE(registered.wait(10s));
    NoticeLog log;
    BrokerClient consumer(client_config("consumer"), log.handler());
    ASSERT_TRUE(consumer.start().ok());
    ASSERT_TRUE(consumer.register_consumer({"cam0", ProcessTag{7, 8, "viewer"}, SCHEMA_A, {}}).ok());

    const auto killed_at = std::chrono::steady_clock::now();
    producer.kill(SIGKILL);
    producer.wait(5s);
    ASSERT_TRUE(wait_until([&] { return log.has("producer_died", "cam0"); }, 5s));
    const auto took = std::chrono::steady_clock::now() - killed_at;
    EXPECT_LT(took, DEAD_AFTER + 500ms) << "producer_died came late";
    EXPECT_FALSE(consumer.discover("cam0").ok());
}

TEST_F(BrokerProcess_test, RestartedBrokerIsRepopulatedByItsClients) {
    start_broker(dhub::testing::restartable_loopback_endpoint());
    const std::string endpoint = endpoint_;
    BrokerClient producer(client_config("producer"));
    ASSERT_TRUE(producer.start().ok());
    ASSERT_TRUE(producer.register_channel(channel_registration("cam0")).ok());

    broker_->kill(SIGKILL);
    broker_->wait(5s);
    start_broker(endpoint);
    ASSERT_EQ(endpoint_, endpoint);

    BrokerClient consumer(client_config("consumer"));
    ASSERT_TRUE(consumer.start().ok());
    ASSERT_TRUE(consumer.wait_connected(5s));
    EXPECT_TRUE(wait_until([&] { return consumer.discover("cam0", 200ms).ok(); }, 10s)) << read_text_file(log_file_);
    EXPECT_GE(producer.resync_count(), 1u);
}

TEST_F(BrokerProcess_test, FrozenBrokerIsNoticedAndTheClientRegistersAgainWhenItResumes) {
    start_broker();
    BrokerClient producer(client_config("producer"));
    ASSERT_TRUE(producer.start().ok());
    ASSERT_TRUE(producer.register_channel(channel_registration("cam0")).ok());

    // The TCP connection stays up, but no heartbeat is answered: only the client's dead_after can tell.
    broker_->kill(SIGSTOP);
    const bool noticed = wait_until([&] { return !producer.connected(); }, 5s);
    broker_->kill(SIGCONT);
    ASSERT_TRUE(noticed) << "the client did not notice a silent broker";

    BrokerClient consumer(client_config("consumer"));
    ASSERT_TRUE(consumer.start().ok());
    EXPECT_TRUE(wait_until([&] { return producer.connected() && consumer.discover("cam0", 200ms).ok(); }, 10s))
        << read_text_file(log_file_);
    EXPECT_GE(producer.resync_count(), 1u);
}

}  // namespace
}  // namespace dhub::broker
