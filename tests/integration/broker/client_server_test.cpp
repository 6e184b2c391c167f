// SPDX-License-Identifier: Apache-2.0
// BrokerServer and BrokerClient in one process over loopback TCP (ephemeral ports), with and without CURVE.
#include <gtest/gtest.h>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <atomic>
#include <mutex>

#include "dhub/broker/broker_server.hpp"
#include "support/broker_test_support.hpp"
#include "support/child_process.hpp"
#include "support/loopback_port.hpp"

namespace dhub::broker {
namespace {

using namespace std::chrono_literals;
using namespace dhub::broker::testing;
using dhub::testing::wait_until;

constexpr auto EPHEMERAL = "tcp://127.0.0.1:0";

ClientConfig client_config(const BrokerServer& server, const std::string& name) {
    ClientConfig config;
    config.endpoint = server.bound_endpoint();
    config.name = name;
    config.heartbeat_interval = 50ms;
    config.dead_after = 400ms;
    config.request_timeout = 2000ms;
    return config;
}

BrokerConfig fast_broker() {
    BrokerConfig config;
    config.endpoint = EPHEMERAL;
    config.registry.heartbeat_ms = 50;
    config.registry.dead_after_ms = 400;
    return config;
}

TEST(ClientServer_test, EphemeralPortIsReportedAndClientRegistersAndDiscovers) {
    BrokerServer server(fast_broker());
    ASSERT_TRUE(server.start().ok());
    EXPECT_NE(server.bound_endpoint().find("tcp://127.0.0.1:"), std::string::npos);
    EXPECT_EQ(server.bound_endpoint().find(":0"), std::string::npos);

    BrokerClient producer(client_config(server, "producer"));
    BrokerClient consumer(client_config(server, "consumer"));
    ASSERT_TRUE(producer.start().ok());
    ASSERT_TRUE(consumer.start().ok());
    const auto registration = channel_registration("cam0");
    ASSERT_TRUE(producer.register_channel(registration).ok());
    auto info = consumer.discover("cam0");
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->registration.segment, registration.segment);
    EXPECT_EQ(info->registration.attach_secret, registration.attach_secret);
    EXPECT_EQ(info->registration.producer.pid, registration.producer.pid);
    // A refusal arrives as a code the runtime branches on, never as text it would have to parse.
    auto wrong_schema = consumer.register_consumer({"cam0", ProcessTag{7, 9, "viewer"}, SCHEMA_B, {}});
    ASSERT_FALSE(wrong_schema.ok());
    EXPECT_EQ(wrong_schema.error().code, ErrorCode::SchemaMismatch) << wrong_schema.error().message;
    ASSERT_TRUE(consumer.register_consumer({"cam0", ProcessTag{7, 8, "viewer"}, SCHEMA_A, {}}).ok());
    auto channels = consumer.list();
    ASSERT_TRUE(channels.ok());
    ASSERT_EQ(channels->size(), 1u);
    EXPECT_EQ((*channels)[0].consumer_count, 1u);
}

TEST(ClientServer_test, StartingOrderDoesNotMatter) {
    // The consumer asks first (parked DISCOVER), the producer registers later.
    BrokerServer server(fast_broker());
    ASSERT_TRUE(server.start().ok());
    BrokerClient consumer(client_config(server, "consumer"));
    ASSERT_TRUE(consumer.start().ok());
    std::atomic<bool> found{false};
    std::thread waiter([&] { found = consumer.discover("late", 5000ms).ok(); });
    ASSERT_TRUE(wait_until([&] { return server.stats().parked == 1; }, 5s));
    BrokerClient producer(client_config(server, "producer"));
    ASSERT_TRUE(producer.start().ok());
    ASSERT_TRUE(producer.register_channel(channel_registration("late")).ok());
    waiter.join();
    EXPECT_TRUE(found.load());
}

TEST(ClientServer_test, ClientStartedBeforeTheBrokerConnectsWhenItComes) {
    // Reserve a port by binding 0, then give it back and point the client at it first.
    BrokerServer probe(fast_broker());
    ASSERT_TRUE(probe.start().ok());
    const std::string endpoint = probe.bound_endpoint();
    probe.stop();
    ClientConfig config;
    config.endpoint = endpoint;
    config.heartbeat_interval = 50ms;
    config.dead_after = 400ms;
    BrokerClient client(config);
    ASSERT_TRUE(client.start().ok());
    auto broker_config = fast_broker();
    broker_config.endpoint = endpoint;
    BrokerServer server(broker_config);
    ASSERT_TRUE(server.start().ok());
    EXPECT_TRUE(client.wait_connected(5s));
}

TEST(ClientServer_test, NoticesNeverReachARequestAndRepliesNeverReachTheNoticeHandler) {
    BrokerServer server(fast_broker());
    ASSERT_TRUE(server.start().ok());
    NoticeLog log;
    BrokerClient consumer(client_config(server, "consumer"), log.handler());
    ASSERT_TRUE(consumer.start().ok());
    // Producers come and go while the consumer keeps asking: every answer must be a DISCOVER answer.
    for (int round = 0; round < 20; ++round) {
        BrokerClient producer(client_config(server, "producer"));
        ASSERT_TRUE(producer.start().ok());
        const std::string name = "ch" + std::to_string(round);
        ASSERT_TRUE(producer.register_channel(channel_registration(name)).ok());
        ASSERT_TRUE(consumer.register_consumer({name, ProcessTag{7, 8, "viewer"}, SCHEMA_A, {}}).ok());
        ASSERT_TRUE(producer.deregister_channel(name).ok());
        auto gone = consumer.discover(name);
        ASSERT_FALSE(gone.ok());
        EXPECT_EQ(gone.error().code, ErrorCode::NotFound) << gone.error().message;
    }
    EXPECT_TRUE(wait_until([&] { return log.has("channel_closed", "ch19"); }, 5s));
}

TEST(ClientServer_test, StoppedProducerIsReportedToItsConsumer) {
    BrokerServer server(fast_broker());
    ASSERT_TRUE(server.start().ok());
    NoticeLog log;
    BrokerClient consumer(client_config(server, "consumer"), log.handler());
    ASSERT_TRUE(consumer.start().ok());
    auto producer = std::make_unique<BrokerClient>(client_config(server, "producer"));
    ASSERT_TRUE(producer->start().ok());
    ASSERT_TRUE(producer->register_channel(channel_registration("cam0")).ok());
    ASSERT_TRUE(consumer.register_consumer({"cam0", ProcessTag{7, 8, "viewer"}, SCHEMA_A, {}}).ok());
    const auto stopped_at = std::chrono::steady_clock::now();
    producer.reset();  // stops beating without deregistering
    ASSERT_TRUE(wait_until([&] { return log.has("producer_died", "cam0"); }, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 400ms + 500ms);
}

TEST(ClientServer_test, ClientRegistersAgainAfterTheBrokerRestarts) {
    auto config = fast_broker();
    config.endpoint = dhub::testing::restartable_loopback_endpoint();
    auto server = std::make_unique<BrokerServer>(config);
    ASSERT_TRUE(server->start().ok());
    const std::string endpoint = server->bound_endpoint();
    BrokerClient producer(client_config(*server, "producer"));
    ASSERT_TRUE(producer.start().ok());
    ASSERT_TRUE(producer.register_channel(channel_registration("cam0")).ok());
    server.reset();
    config.endpoint = endpoint;
    server = std::make_unique<BrokerServer>(config);
    ASSERT_TRUE(server->start().ok());
    BrokerClient consumer(client_config(*server, "consumer"));
    ASSERT_TRUE(consumer.start().ok());
    ASSERT_TRUE(wait_until([&] { return server->stats().channels == 1; }, 5s));
    EXPECT_TRUE(consumer.discover("cam0").ok());
    EXPECT_GE(producer.resync_count(), 1u);
}

TEST(ClientServer_test, CurveClientWithAnAllowlistedKeyWorksAndAStrangerIsRefused) {
    auto broker_keys = generate_curve_keypair();
    auto member_keys = generate_curve_keypair();
    auto stranger_keys = generate_curve_keypair();
    ASSERT_TRUE(broker_keys.ok() && member_keys.ok() && stranger_keys.ok());
    auto allowlist = Allowlist::parse(R"({"clients": [{"public_key": ")" + member_keys->public_key +
                                      R"(", "name": "member", "produce": ["*"], "consume": ["*"]}]})");
    ASSERT_TRUE(allowlist.ok());
    auto config = fast_broker();
    config.secret_key = broker_keys->secret_key;
    config.allowlist = std::make_shared<const Allowlist>(std::move(*allowlist));
    BrokerServer server(config);
    ASSERT_TRUE(server.start().ok());

    auto member_config = client_config(server, "member");
    member_config.server_public_key = server.public_key();
    member_config.client_keys = *member_keys;
    BrokerClient member(member_config);
    ASSERT_TRUE(member.start().ok());
    EXPECT_TRUE(member.register_channel(channel_registration("cam0")).ok());

    auto stranger_config = member_config;
    stranger_config.name = "stranger";
    stranger_config.client_keys = *stranger_keys;
    stranger_config.request_timeout = 500ms;
    BrokerClient stranger(stranger_config);
    ASSERT_TRUE(stranger.start().ok());
    auto refused = stranger.discover("cam0");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::Timeout);
    EXPECT_GE(server.refused_handshakes(), 1u);
}

TEST(ClientServer_test, RequestWithAnotherProtocolMajorIsAnsweredVersionMismatch) {
    BrokerServer server(fast_broker());
    ASSERT_TRUE(server.start().ok());
    zmq::context_t context;
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::rcvtimeo, 3000);
    dealer.connect(server.bound_endpoint());
    auto frames = frames_of(Message{MessageType::Hello, 5, hello_body()});
    frames[0][4] = static_cast<char>(PROTOCOL_MAJOR + 1);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        dealer.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    std::vector<zmq::message_t> reply;
    ASSERT_TRUE(zmq::recv_multipart(dealer, std::back_inserter(reply)));
    std::vector<std::string> texts;
    for (auto& frame : reply)
        texts.push_back(frame.to_string());
    const Decoded decoded = decode_frames(texts);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded.message().type, MessageType::Error);
    EXPECT_EQ(decoded.message().request_id, 5u);
    EXPECT_EQ(decoded.message().body["code"], error_code::VERSION_MISMATCH);
}

}  // namespace
}  // namespace dhub::broker
