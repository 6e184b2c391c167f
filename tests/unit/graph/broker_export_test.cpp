// SPDX-License-Identifier: Apache-2.0
// "broker": {"export": ...}: the sender node each exported channel gets, its port and endpoint, and every
// problem at its path (docs/transports.md, "Across hosts through the broker").
#include <gtest/gtest.h>

#include <algorithm>

#include "dhub/graph/graph_spec.hpp"
#include "fake_components.hpp"

namespace dhub::graph {
namespace {

using testing::has_issue;
using testing::parse_issues;
using testing::valid_document;
using Json = nlohmann::json;

Json exporting(const Json& exported, const Json& broker_extra = Json::object()) {
    Json document = valid_document();
    document["broker"] = broker_extra;
    document["broker"]["export"] = exported;
    return document;
}

const NodeSpec* node_named(const GraphSpec& spec, const std::string& id) {
    const auto found =
        std::find_if(spec.nodes.begin(), spec.nodes.end(), [&](const NodeSpec& node) { return node.id == id; });
    return found == spec.nodes.end() ? nullptr : &*found;
}

TEST(BrokerExport_test, GivesEveryChannelASenderOnItsOwnPortAndRecordsTheEndpointOtherHostsReach) {
    std::optional<GraphSpec> spec;
    const auto issues = parse_issues(
        exporting({{"host", "detector-pc"}, {"bind_host", "127.0.0.1"}, {"port", 5600}, {"window", 128}}), &spec);
    ASSERT_TRUE(issues.empty()) << format_issues(issues, "");
    const ExportSpec& exported = *spec->broker->exported;
    ASSERT_EQ(exported.endpoints.size(), 2u);
    EXPECT_EQ(exported.endpoints[0],
              (ExportedChannel{"frames", "tcp://detector-pc:5600", "tcp://127.0.0.1:5600", "export-frames"}));
    EXPECT_EQ(exported.endpoints[1],
              (ExportedChannel{"scaled", "tcp://detector-pc:5601", "tcp://127.0.0.1:5601", "export-scaled"}));
    const NodeSpec* sender = node_named(*spec, "export-frames");
    ASSERT_NE(sender, nullptr);
    EXPECT_EQ(sender->plugin, "zmq");
    EXPECT_EQ(sender->component, "dhub.transport.zmq_send");
    EXPECT_EQ(sender->params["bind"], "tcp://127.0.0.1:5600");
    EXPECT_EQ(sender->params["delivery"], "lossless");
    EXPECT_EQ(sender->params["window"], 128);
    EXPECT_EQ(sender->params["without_receivers"], "discard") << "nobody connected must not hold the producer back";
    EXPECT_EQ(sender->params.count("curve_secret_key"), 0u);
    ASSERT_EQ(sender->inputs.size(), 1u);
    EXPECT_EQ(sender->inputs[0].channel, "frames");
    EXPECT_EQ(sender->json_path, "/broker/export");
    EXPECT_NE(node_named(*spec, "export-scaled"), nullptr);
}

TEST(BrokerExport_test, ServesOnlyTheListedChannelsWithTheBrokerKeyAndLatestOnlyOnesInLatestMode) {
    Json document = exporting({{"host", "10.0.0.5"}, {"port", 7000}, {"channels", {"scaled"}}},
                              {{"server_key", "keys/broker.pub"}, {"client_key", "keys/instrument.key"}});
    document["channels"][1]["sync"] = "latest_only";
    std::optional<GraphSpec> spec;
    const auto issues = parse_issues(document, &spec);
    ASSERT_TRUE(issues.empty()) << format_issues(issues, "");
    EXPECT_EQ(node_named(*spec, "export-frames"), nullptr);
    const NodeSpec* sender = node_named(*spec, "export-scaled");
    ASSERT_NE(sender, nullptr);
    EXPECT_EQ(sender->params["bind"], "tcp://10.0.0.5:7000") << "bind_host defaults to host";
    EXPECT_EQ(sender->params["delivery"], "latest");
    EXPECT_EQ(sender->params["curve_secret_key"], "/etc/dhub/graphs/keys/instrument.key");
}

TEST(BrokerExport_test, BindsEveryInterfaceForAHostNameWhichZeroMqCannotBind) {
    std::optional<GraphSpec> spec;
    const auto issues = parse_issues(exporting({{"host", "detector-pc"}, {"port", 5600}, {"insecure", true}}), &spec);
    ASSERT_TRUE(issues.empty()) << format_issues(issues, "");
    EXPECT_EQ(node_named(*spec, "export-frames")->params["bind"], "tcp://0.0.0.0:5600");
    EXPECT_EQ(spec->broker->exported->endpoints[0].endpoint, "tcp://detector-pc:5600");
}

TEST(BrokerExport_test, NamesSendersWithoutTheDotsNodeIdsCannotHave) {
    Json document = exporting({{"host", "127.0.0.1"}, {"port", 7000}});
    document["channels"][0]["name"] = "det.raw";
    document["nodes"][0]["outputs"] = {"det.raw"};
    document["nodes"][1]["inputs"] = {"det.raw"};
    std::optional<GraphSpec> spec;
    (void)parse_issues(document, &spec);
    ASSERT_TRUE(spec);
    EXPECT_NE(node_named(*spec, "export-det_raw"), nullptr);
}

struct ExportCase {
    const char* label;
    Json exported;
    const char* path;
    std::vector<std::string> substrings;
};

class BrokerExportIssues_test : public ::testing::TestWithParam<ExportCase> {};

TEST_P(BrokerExportIssues_test, AreReportedAtTheirPath) {
    EXPECT_TRUE(has_issue(parse_issues(exporting(GetParam().exported)), GetParam().path, GetParam().substrings));
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    BrokerExportIssues_test,
    ::testing::Values(
        ExportCase{"NotAnObject", Json(5600), "/broker/export", {"expected an object"}},
        ExportCase{"NoHost", {{"port", 5600}}, "/broker/export", {"\"host\""}},
        ExportCase{"NoPort", {{"host", "127.0.0.1"}}, "/broker/export", {"\"port\""}},
        ExportCase{"HostWithScheme",
                   {{"host", "tcp://pc:1"}, {"port", 5600}},
                   "/broker/export/host",
                   {"without a scheme or port"}},
        ExportCase{"PortRange", {{"host", "127.0.0.1"}, {"port", 70000}}, "/broker/export/port", {"65535"}},
        ExportCase{"PortsRunOut", {{"host", "127.0.0.1"}, {"port", 65535}}, "/broker/export/port", {"past 65535"}},
        ExportCase{"UnknownKey", {{"host", "127.0.0.1"}, {"port", 1}, {"prot", 2}}, "/broker/export/prot", {"port"}},
        ExportCase{"UnknownChannel",
                   {{"host", "127.0.0.1"}, {"port", 5600}, {"channels", {"nope"}}},
                   "/broker/export/channels/0",
                   {"no channel 'nope'"}},
        ExportCase{"NetworkWithoutKeys",
                   {{"host", "10.0.0.5"}, {"port", 5600}},
                   "/broker/export",
                   {"without CURVE keys", "\"insecure\": true"}}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

TEST(BrokerExport_test, RefusesASingleReaderChannel) {
    Json document = exporting({{"host", "127.0.0.1"}, {"port", 5600}, {"channels", {"frames"}}});
    document["channels"][0]["sync"] = "single_reader";
    EXPECT_TRUE(has_issue(parse_issues(document), "/broker/export/channels/0", {"single_reader"}));
}

TEST(BrokerExport_test, GivesEachSenderAnIdOfItsOwnWhenTheNaturalOneIsTaken) {
    // "cam.0" and "cam_0" both map to "export-cam_0", and the graph has a node of that id already.
    Json document = exporting({{"host", "127.0.0.1"}, {"port", 5600}});
    document["channels"][0]["name"] = "cam.0";
    document["channels"][1]["name"] = "cam_0";
    document["nodes"][0]["id"] = "export-cam_0";
    for (Json& node : document["nodes"]) {
        for (const char* side : {"inputs", "outputs"}) {
            if (!node.contains(side)) continue;
            for (Json& channel : node[side])
                channel = channel == "frames" ? "cam.0" : "cam_0";
        }
    }
    std::optional<GraphSpec> spec;
    const auto issues = parse_issues(document, &spec);
    ASSERT_TRUE(issues.empty()) << format_issues(issues, "");
    const auto& endpoints = spec->broker->exported->endpoints;
    ASSERT_EQ(endpoints.size(), 2u);
    EXPECT_EQ(endpoints[0].channel, "cam.0");
    EXPECT_EQ(endpoints[0].sender, "export-cam_0-2");
    EXPECT_EQ(endpoints[1].channel, "cam_0");
    EXPECT_EQ(endpoints[1].sender, "export-cam_0-3");
    ASSERT_NE(node_named(*spec, "export-cam_0-2"), nullptr);
    EXPECT_EQ(node_named(*spec, "export-cam_0-2")->inputs[0].channel, "cam.0");
    ASSERT_NE(node_named(*spec, "export-cam_0-3"), nullptr);
    EXPECT_EQ(node_named(*spec, "export-cam_0-3")->inputs[0].channel, "cam_0");
}

}  // namespace
}  // namespace dhub::graph
