// SPDX-License-Identifier: Apache-2.0
// The broker's rules without sockets: the Registry is fed messages and a fake clock.
#include "dhub/broker/registry.hpp"

#include <gtest/gtest.h>

#include "support/broker_test_support.hpp"

namespace dhub::broker {
namespace {

using nlohmann::json;
using namespace dhub::broker::testing;

constexpr std::uint64_t MS = 1'000'000;
constexpr std::uint64_t DEAD_AFTER_MS = 2000;

class Registry_test : public ::testing::Test {
protected:
    Registry_test() : sut_(config(), nullptr) {}

    static RegistryConfig config() {
        RegistryConfig config;
        config.heartbeat_ms = 500;
        config.dead_after_ms = DEAD_AFTER_MS;
        config.limits.max_parked_per_session = 2;
        config.limits.max_channels = 4;
        return config;
    }

    std::vector<Outgoing> send(const std::string& peer, MessageType type, json body, std::uint64_t id = 1) {
        std::vector<Outgoing> out;
        sut_.handle(Peer{peer, {}}, Message{type, id, std::move(body)}, now_ns_, out);
        return out;
    }
    void hello(const std::string& peer) {
        const auto out = send(peer, MessageType::Hello, hello_body(peer));
        ASSERT_EQ(out.size(), 1u);
        ASSERT_EQ(out[0].message.type, MessageType::HelloAck);
    }
    std::vector<Outgoing> advance(std::uint64_t ms) {
        now_ns_ += ms * MS;
        std::vector<Outgoing> out;
        sut_.expire(now_ns_, out);
        return out;
    }

    Registry sut_;
    std::uint64_t now_ns_ = 1'000'000'000;
};

TEST_F(Registry_test, RequestsBeforeHelloAreAnsweredHelloRequired) {
    const auto out = send("p", MessageType::Discover, json{{"name", "cam0"}});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].message.type, MessageType::Error);
    EXPECT_EQ(out[0].message.body["code"], error_code::HELLO_REQUIRED);
}

TEST_F(Registry_test, HelloWithAnotherMajorIsVersionMismatch) {
    auto body = hello_body();
    body["protocol_major"] = 2;
    const auto out = send("p", MessageType::Hello, body, 77);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].message.body["code"], error_code::VERSION_MISMATCH);
    EXPECT_EQ(out[0].message.request_id, 77u);
}

TEST_F(Registry_test, DiscoverReturnsWhatWasRegisteredWithTheRequestId) {
    hello("prod");
    hello("cons");
    ASSERT_EQ(send("prod", MessageType::RegisterChannel, register_channel_body("cam0"))[0].message.type,
              MessageType::RegisterChannelAck);
    const auto out = send("cons", MessageType::Discover, json{{"name", "cam0"}}, 42);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].routing_id, "cons");
    EXPECT_EQ(out[0].message.type, MessageType::DiscoverAck);
    EXPECT_EQ(out[0].message.request_id, 42u);
    EXPECT_EQ(out[0].message.body["schema_hash"], SCHEMA_A);
    EXPECT_EQ(out[0].message.body["attach_secret"], SECRET);
    EXPECT_EQ(out[0].message.body["consumer_count"], 0);
}

TEST_F(Registry_test, DiscoverOfAnUnknownChannelIsNotFound) {
    hello("cons");
    const auto out = send("cons", MessageType::Discover, json{{"name", "nope"}});
    EXPECT_EQ(out[0].message.body["code"], error_code::NOT_FOUND);
}

TEST_F(Registry_test, ParkedDiscoverIsAnsweredWhenTheChannelRegisters) {
    hello("cons");
    hello("prod");
    EXPECT_TRUE(send("cons", MessageType::Discover, json{{"name", "cam0"}, {"wait_ms", 5000}}, 9).empty());
    const auto out = send("prod", MessageType::RegisterChannel, register_channel_body("cam0"));
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1].routing_id, "cons");
    EXPECT_EQ(out[1].message.type, MessageType::DiscoverAck);
    EXPECT_EQ(out[1].message.request_id, 9u);
    EXPECT_EQ(sut_.stats().parked, 0u);
}

TEST_F(Registry_test, ParkedDiscoverTimesOutAsNotFound) {
    hello("cons");
    EXPECT_TRUE(send("cons", MessageType::Discover, json{{"name", "cam0"}, {"wait_ms", 300}}, 9).empty());
    EXPECT_TRUE(advance(200).empty());
    send("cons", MessageType::Heartbeat, json::object());
    const auto out = advance(150);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].message.request_id, 9u);
    EXPECT_EQ(out[0].message.body["code"], error_code::NOT_FOUND);
}

TEST_F(Registry_test, ParkedDiscoversPerClientAreBounded) {
    hello("cons");
    EXPECT_TRUE(send("cons", MessageType::Discover, json{{"name", "a"}, {"wait_ms", 5000}}).empty());
    EXPECT_TRUE(send("cons", MessageType::Discover, json{{"name", "b"}, {"wait_ms", 5000}}).empty());
    const auto out = send("cons", MessageType::Discover, json{{"name", "c"}, {"wait_ms", 5000}});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].message.body["code"], error_code::LIMIT_EXCEEDED);
}

TEST_F(Registry_test, ChannelsAreBounded) {
    hello("prod");
    for (int i = 0; i < 4; ++i)
        send("prod", MessageType::RegisterChannel, register_channel_body("c" + std::to_string(i)));
    const auto out = send("prod", MessageType::RegisterChannel, register_channel_body("c4"));
    EXPECT_EQ(out[0].message.body["code"], error_code::LIMIT_EXCEEDED);
}

TEST_F(Registry_test, ConsumerWithAnotherSchemaGetsSchemaMismatchNamingBothHashes) {
    hello("prod");
    hello("cons");
    send("prod", MessageType::RegisterChannel, register_channel_body("cam0", SCHEMA_A));
    const auto out = send("cons", MessageType::RegisterConsumer,
                          json{{"channel", "cam0"}, {"consumer", identity(7)}, {"expected_schema_hash", SCHEMA_B}});
    ASSERT_EQ(out.size(), 1u);
    const auto& body = out[0].message.body;
    EXPECT_EQ(body["code"], error_code::SCHEMA_MISMATCH);
    EXPECT_NE(body["message"].get<std::string>().find(SCHEMA_A), std::string::npos);
    EXPECT_NE(body["message"].get<std::string>().find(SCHEMA_B), std::string::npos);
    EXPECT_EQ(body["expected_schema_hash"], SCHEMA_B);
    EXPECT_EQ(body["channel_schema_hash"], SCHEMA_A);
}

/// lab.thermo at `version`: version 1's three fields, then humidity from version 2 on; version 3 narrows celsius.
json thermo(int version) {
    json fields = json::array({{{"name", "timestamp_ns"}, {"dtype", "<u8"}},
                               {{"name", "box_id"}, {"dtype", "<u2"}},
                               {{"name", "celsius"}, {"dtype", version == 3 ? "<f4" : "<f8"}, {"shape", {4}}}});
    if (version == 2) fields.push_back({{"name", "humidity"}, {"dtype", "<f4"}});
    return {{"name", "lab.thermo"}, {"version", version}, {"fields", fields}};
}

/// "prod" registers cam0 (hash SCHEMA_A) with the document of lab.thermo@`version` (none for 0); "cons" is
/// connected too.
class RegistrySchemas_test : public Registry_test {
protected:
    void register_thermo(int version) {
        hello("prod");
        hello("cons");
        json channel = register_channel_body("cam0", SCHEMA_A);
        if (version != 0) channel["schema"] = thermo(version);
        send("prod", MessageType::RegisterChannel, channel);
    }
    /// A reader of lab.thermo@1 (hash SCHEMA_B) registers on cam0.
    std::vector<Outgoing> register_version1_reader() {
        return send("cons", MessageType::RegisterConsumer,
                    json{{"channel", "cam0"},
                         {"consumer", identity(7)},
                         {"expected_schema_hash", SCHEMA_B},
                         {"expected_schema", thermo(1)}});
    }
};

TEST_F(RegistrySchemas_test, AConsumerOfAnOlderVersionIsAcceptedWhenTheNewerOnlyAppendedFields) {
    register_thermo(2);
    const auto out = register_version1_reader();
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out[0].message.type, MessageType::RegisterConsumerAck) << out[0].message.body.dump();
}

TEST_F(RegistrySchemas_test, AConsumerOfAnIncompatibleVersionIsRefusedNamingTheFieldThatDiffers) {
    register_thermo(3);
    const auto out = register_version1_reader();
    ASSERT_EQ(out.size(), 1u);
    const auto& body = out[0].message.body;
    EXPECT_EQ(body["code"], error_code::SCHEMA_MISMATCH);
    const std::string message = body["message"].get<std::string>();
    for (const char* part : {"lab.thermo@3", "lab.thermo@1", "\"celsius\" <f4"})
        EXPECT_NE(message.find(part), std::string::npos) << part << " in " << message;
}

TEST_F(RegistrySchemas_test, WithoutTheProducersDocumentADifferentHashIsRefusedAsBefore) {
    register_thermo(0);
    const auto out = register_version1_reader();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].message.body["code"], error_code::SCHEMA_MISMATCH);
}

TEST_F(RegistrySchemas_test, AGarbageSchemaDocumentIsRefusedSayingWhoseItIs) {
    // Documents come from other processes: a malformed one is a refusal naming it, never a crash.
    hello("prod");
    hello("cons");
    json channel = register_channel_body("cam0", SCHEMA_A);
    channel["schema"] = {{"name", 5}, {"fields", {{"dtype", {1, 2}}}}};
    send("prod", MessageType::RegisterChannel, channel);
    const auto out = register_version1_reader();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].message.body["code"], error_code::SCHEMA_MISMATCH);
    EXPECT_NE(out[0].message.body["message"].get<std::string>().find("the writer's schema document is malformed"),
              std::string::npos)
        << out[0].message.body.dump();
}

TEST_F(RegistrySchemas_test, DiscoveryHandsOutTheProducersSchemaDocument) {
    register_thermo(2);
    const auto out = send("cons", MessageType::Discover, json{{"name", "cam0"}});
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].message.type, MessageType::DiscoverAck);
    EXPECT_EQ(out[0].message.body["schema"], thermo(2));
}

TEST_F(Registry_test, SecondProducerIsRefusedAndTheFirstIsToldOfTheSchemaClash) {
    hello("prod1");
    hello("prod2");
    send("prod1", MessageType::RegisterChannel, register_channel_body("cam0", SCHEMA_A, 100));
    const auto out = send("prod2", MessageType::RegisterChannel, register_channel_body("cam0", SCHEMA_B, 200));
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].routing_id, "prod1");
    EXPECT_EQ(out[0].message.body["event"], notice_event::CHANNEL_ERROR);
    EXPECT_EQ(out[1].routing_id, "prod2");
    EXPECT_EQ(out[1].message.body["code"], error_code::ALREADY_REGISTERED);
}

TEST_F(Registry_test, SameProducerProcessOnANewConnectionTakesItsChannelOver) {
    hello("old");
    send("old", MessageType::RegisterChannel, register_channel_body("cam0", SCHEMA_A, 100));
    hello("new");
    const auto out = send("new", MessageType::RegisterChannel, register_channel_body("cam0", SCHEMA_A, 100));
    EXPECT_EQ(out[0].message.type, MessageType::RegisterChannelAck);
    send("new", MessageType::Heartbeat, json::object());
    advance(DEAD_AFTER_MS - 1);
    send("new", MessageType::Heartbeat, json::object());
    advance(2);  // "old" expires; the channel belongs to "new" now and survives
    EXPECT_EQ(sut_.stats().channels, 1u);
}

TEST_F(Registry_test, SilentProducerIsDeclaredDeadAndItsConsumersAreTold) {
    hello("prod");
    hello("cons");
    send("prod", MessageType::RegisterChannel, register_channel_body("cam0"));
    send("cons", MessageType::RegisterConsumer,
         json{{"channel", "cam0"}, {"consumer", identity(7)}, {"expected_schema_hash", SCHEMA_A}});
    EXPECT_TRUE(advance(DEAD_AFTER_MS / 2).empty());
    send("cons", MessageType::Heartbeat, json::object());  // only the consumer keeps beating
    const auto out = advance(DEAD_AFTER_MS / 2 + 1);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].routing_id, "cons");
    EXPECT_EQ(out[0].message.type, MessageType::Notice);
    EXPECT_EQ(out[0].message.request_id, NOTICE_REQUEST_ID);
    EXPECT_EQ(out[0].message.body["event"], notice_event::PRODUCER_DIED);
    EXPECT_EQ(out[0].message.body["channel"], "cam0");
    EXPECT_EQ(sut_.stats().channels, 0u);
}

// A broker that did not run for a while (its host paused, the machine overloaded) heard nobody in that
// time; waking up, it must not declare every client dead for its own silence.
TEST_F(Registry_test, AStallOfTheBrokerItselfIsNotCountedAgainstItsClients) {
    hello("prod");
    send("prod", MessageType::RegisterChannel, register_channel_body("cam0"));
    now_ns_ += 3 * DEAD_AFTER_MS * MS;  // the broker was stalled this long
    sut_.forgive_stall(3 * DEAD_AFTER_MS * MS);
    EXPECT_TRUE(advance(DEAD_AFTER_MS / 2).empty());
    EXPECT_EQ(sut_.stats().channels, 1u);
    (void)advance(DEAD_AFTER_MS / 2 + 1);  // still silent a whole dead_after after the stall: dead as before
    EXPECT_EQ(sut_.stats().channels, 0u);
}

TEST_F(Registry_test, SilentConsumerIsDeclaredDeadAndTheProducerIsTold) {
    hello("prod");
    hello("cons");
    send("prod", MessageType::RegisterChannel, register_channel_body("cam0"));
    send("cons", MessageType::RegisterConsumer,
         json{{"channel", "cam0"}, {"consumer", identity(7)}, {"expected_schema_hash", SCHEMA_A}});
    advance(DEAD_AFTER_MS / 2);
    send("prod", MessageType::Heartbeat, json::object());
    const auto out = advance(DEAD_AFTER_MS / 2 + 1);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].routing_id, "prod");
    EXPECT_EQ(out[0].message.body["event"], notice_event::CONSUMER_DIED);
    EXPECT_EQ(out[0].message.body["consumer"]["pid"], 7);
}

TEST_F(Registry_test, DeregisteredChannelClosesForItsConsumers) {
    hello("prod");
    hello("cons");
    send("prod", MessageType::RegisterChannel, register_channel_body("cam0"));
    send("cons", MessageType::RegisterConsumer,
         json{{"channel", "cam0"}, {"consumer", identity(7)}, {"expected_schema_hash", SCHEMA_A}});
    EXPECT_EQ(send("cons", MessageType::DeregisterChannel, json{{"name", "cam0"}})[0].message.body["code"],
              error_code::NOT_OWNER);
    const auto out = send("prod", MessageType::DeregisterChannel, json{{"name", "cam0"}});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].message.body["event"], notice_event::CHANNEL_CLOSED);
    EXPECT_EQ(out[1].message.type, MessageType::DeregisterChannelAck);
}

TEST_F(Registry_test, MalformedFloodGetsAtMostOneErrorPerInterval) {
    constexpr int FLOOD = 1000;
    std::size_t replies = 0;
    for (int i = 0; i < FLOOD; ++i) {
        std::vector<Outgoing> out;
        sut_.handle_malformed(Peer{"bad", {}}, DecodeError{DecodeFailure::BadHeader, "x", {}}, now_ns_, out);
        replies += out.size();
        now_ns_ += MS / 10;  // 1000 messages over 100 ms
    }
    EXPECT_LE(replies, 2u);
    EXPECT_EQ(sut_.stats().malformed, static_cast<std::uint64_t>(FLOOD));
    EXPECT_GE(sut_.stats().errors_suppressed, static_cast<std::uint64_t>(FLOOD - 2));
}

TEST_F(Registry_test, ClientToBrokerOnlyTypesAreRefused) {
    hello("p");
    const auto out = send("p", MessageType::Notice, json{{"event", "x"}, {"channel", "c"}});
    EXPECT_EQ(out[0].message.body["code"], error_code::UNKNOWN_TYPE);
}

TEST_F(Registry_test, ListNeverShowsTheAttachSecret) {
    hello("prod");
    send("prod", MessageType::RegisterChannel, register_channel_body("cam0"));
    const auto out = send("prod", MessageType::List, json::object());
    ASSERT_EQ(out[0].message.body["channels"].size(), 1u);
    EXPECT_FALSE(out[0].message.body["channels"][0].contains("attach_secret"));
}

class Registry_allowlist_test : public ::testing::Test {
protected:
    static std::shared_ptr<const Allowlist> allowlist() {
        const std::string text = R"({"clients": [
            {"public_key": ")" + std::string(KEY_CAM) +
                                 R"(", "name": "cam", "produce": ["cam*"], "consume": []},
            {"public_key": ")" + std::string(KEY_VIEW) +
                                 R"(", "name": "viewer", "consume": ["cam0"]}]})";
        auto parsed = Allowlist::parse(text);
        EXPECT_TRUE(parsed.ok()) << parsed.error().message;
        return std::make_shared<const Allowlist>(std::move(*parsed));
    }
    static constexpr const char* KEY_CAM = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    static constexpr const char* KEY_VIEW = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";

    std::vector<Outgoing> send(const char* key, const std::string& peer, MessageType type, json body) {
        std::vector<Outgoing> out;
        sut_.handle(Peer{peer, key}, Message{type, 1, std::move(body)}, 1, out);
        return out;
    }
    Registry sut_{RegistryConfig{}, allowlist()};
};

TEST_F(Registry_allowlist_test, RolesAndGlobsDecideWhatAClientMayDo) {
    send(KEY_CAM, "cam", MessageType::Hello, hello_body("cam"));
    send(KEY_VIEW, "view", MessageType::Hello, hello_body("view"));
    EXPECT_EQ(send(KEY_CAM, "cam", MessageType::RegisterChannel, register_channel_body("cam0"))[0].message.type,
              MessageType::RegisterChannelAck);
    EXPECT_EQ(send(KEY_CAM, "cam", MessageType::RegisterChannel, register_channel_body("mic0"))[0].message.body["code"],
              error_code::NOT_AUTHORIZED);
    EXPECT_EQ(
        send(KEY_VIEW, "view", MessageType::RegisterChannel, register_channel_body("cam1"))[0].message.body["code"],
        error_code::NOT_AUTHORIZED);
    EXPECT_EQ(send(KEY_VIEW, "view", MessageType::Discover, json{{"name", "cam0"}})[0].message.type,
              MessageType::DiscoverAck);
    EXPECT_EQ(send(KEY_CAM, "cam", MessageType::Discover, json{{"name", "cam0"}})[0].message.body["code"],
              error_code::NOT_AUTHORIZED);
    EXPECT_EQ(send(KEY_VIEW, "view", MessageType::RegisterConsumer,
                   json{{"channel", "cam0"}, {"consumer", identity(3)}, {"expected_schema_hash", SCHEMA_A}})[0]
                  .message.type,
              MessageType::RegisterConsumerAck);
}

}  // namespace
}  // namespace dhub::broker
