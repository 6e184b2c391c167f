// SPDX-License-Identifier: Apache-2.0
// The graph's "broker" section and "broker:<channel>" inputs: parsed values, defaults, and every problem
// reported at its path.
#include <gtest/gtest.h>

#include "dhub/graph/graph_spec.hpp"
#include "fake_components.hpp"

namespace dhub::graph {
namespace {

using testing::check_document;
using testing::FakePlugins;
using testing::has_issue;
using testing::parse_issues;
using testing::valid_document;
using Json = nlohmann::json;

TEST(BrokerSection_test, IsAbsentByDefaultAndTakesItsDocumentedDefaults) {
    std::optional<GraphSpec> spec;
    ASSERT_TRUE(parse_issues(valid_document(), &spec).empty());
    EXPECT_FALSE(spec->broker.has_value());

    Json document = valid_document();
    document["broker"] = Json::object();
    ASSERT_TRUE(parse_issues(document, &spec).empty());
    ASSERT_TRUE(spec->broker.has_value());
    EXPECT_EQ(spec->broker->endpoint, "tcp://127.0.0.1:5570");
    EXPECT_FALSE(spec->broker->embedded);
    EXPECT_EQ(spec->broker->heartbeat_ms, 500u);
    EXPECT_EQ(spec->broker->dead_after_ms, 2000u);
    EXPECT_EQ(spec->broker->on_producer_lost, BrokerSpec::OnProducerLost::Wait);
}

TEST(BrokerSection_test, ReadsEveryKeyAndResolvesKeyFilesAgainstTheGraphFile) {
    Json document = valid_document();
    document["broker"] = {{"endpoint", "ipc:///tmp/dhub.sock"},
                          {"embedded", true},
                          {"server_key", "keys/broker.pub"},
                          {"client_key", "/abs/kernel.key"},
                          {"secret_key", "keys/broker.key"},
                          {"allow", "allow.json"},
                          {"heartbeat_ms", 100},
                          {"dead_after_ms", 300},
                          {"on_producer_lost", "stop_node"}};
    std::optional<GraphSpec> spec;
    const auto issues = parse_issues(document, &spec);
    ASSERT_TRUE(issues.empty()) << format_issues(issues, "");
    const BrokerSpec& broker = *spec->broker;
    EXPECT_EQ(broker.endpoint, "ipc:///tmp/dhub.sock");
    EXPECT_TRUE(broker.embedded);
    EXPECT_EQ(*broker.server_key, "/etc/dhub/graphs/keys/broker.pub");
    EXPECT_EQ(*broker.client_key, "/abs/kernel.key");
    EXPECT_EQ(*broker.secret_key, "/etc/dhub/graphs/keys/broker.key");
    EXPECT_EQ(*broker.allow, "/etc/dhub/graphs/allow.json");
    EXPECT_EQ(broker.heartbeat_ms, 100u);
    EXPECT_EQ(broker.dead_after_ms, 300u);
    EXPECT_EQ(broker.on_producer_lost, BrokerSpec::OnProducerLost::StopNode);
}

struct BrokerCase {
    const char* label;
    Json broker;
    const char* path;
    std::vector<std::string> substrings;
};

class BrokerSectionIssues_test : public ::testing::TestWithParam<BrokerCase> {};

TEST_P(BrokerSectionIssues_test, AreReportedAtTheirPath) {
    Json document = valid_document();
    document["broker"] = GetParam().broker;
    EXPECT_TRUE(has_issue(parse_issues(document), GetParam().path, GetParam().substrings));
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    BrokerSectionIssues_test,
    ::testing::Values(
        BrokerCase{"NotAnObject", Json("tcp://x"), "/broker", {"expected an object"}},
        BrokerCase{"UnknownKey", {{"endpiont", "tcp://127.0.0.1:1"}}, "/broker/endpiont", {"endpoint"}},
        BrokerCase{"EndpointScheme", {{"endpoint", "udp://x"}}, "/broker/endpoint", {"tcp:// or ipc://", "udp://x"}},
        BrokerCase{"EmbeddedNotBool", {{"embedded", "yes"}}, "/broker/embedded", {"true or false"}},
        BrokerCase{"HalfCurve", {{"server_key", "b.pub"}}, "/broker", {"both or neither"}},
        BrokerCase{"ServerSettingsNeedEmbedded", {{"allow", "a.json"}}, "/broker", {"\"embedded\": true"}},
        BrokerCase{"EmbeddedCurveNeedsSecret",
                   {{"embedded", true}, {"server_key", "b.pub"}, {"client_key", "c.key"}},
                   "/broker",
                   {"\"secret_key\""}},
        BrokerCase{"HeartbeatRange", {{"heartbeat_ms", 1}}, "/broker/heartbeat_ms", {"10"}},
        BrokerCase{"DeadAfterTooShort",
                   {{"heartbeat_ms", 500}, {"dead_after_ms", 600}},
                   "/broker/dead_after_ms",
                   {"at least twice heartbeat_ms"}},
        BrokerCase{"Policy", {{"on_producer_lost", "retry"}}, "/broker/on_producer_lost", {"wait", "stop_node"}}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

TEST(RemoteInput_test, NeedsABrokerSection) {
    Json document = valid_document();
    document["nodes"][2]["inputs"] = {"broker:cam0"};
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/2/inputs/0", {"'broker:cam0'", "no \"broker\" section"}));
}

TEST(RemoteInput_test, IsNotAnOutputAndNeedsAValidName) {
    Json document = valid_document();
    document["broker"] = Json::object();
    document["nodes"][2]["inputs"] = {"broker:bad name"};
    document["nodes"][1]["outputs"] = {"broker:cam0"};
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/2/inputs/0", {"'broker:' followed by a channel name"}));
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/1/outputs/0", {"only inputs can"}));
}

TEST(RemoteInput_test, IsAcceptedWithABrokerAndFeedsNoLocalChannel) {
    Json document = valid_document();
    document["broker"] = Json::object();
    document["nodes"][2]["inputs"] = {"broker:cam0"};  // sink now reads another kernel's channel
    document["channels"].erase(1);                     // "scaled" has no reader left...
    document["nodes"][1]["outputs"] = Json::array();   // ...and pass no output
    document["nodes"].erase(1);
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    EXPECT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
}

}  // namespace
}  // namespace dhub::graph
