// SPDX-License-Identifier: Apache-2.0
// validate_graph and a channel's "validators": resolved against their components, the quarantine channel they
// write configured from the channel they guard, and every mistake reported at its path.
#include <gtest/gtest.h>

#include "dhub/graph/graph_spec.hpp"
#include "fake_components.hpp"

namespace dhub::graph {
namespace {

using testing::check_document;
using testing::FakePlugins;
using testing::has_issue;
using Json = nlohmann::json;

/// src -> frames (guarded by "check", rejects copied to frames.bad) -> sink; keeper records frames.bad.
Json guarded_document() {
    return Json::parse(R"({
        "schema_version": 1,
        "name": "guarded",
        "channels": [
            {"name": "frames", "slot_bytes": 4096, "validators": [
                {"name": "range", "plugin": "check", "on_reject": "quarantine", "quarantine": "frames.bad"},
                {"plugin": "check", "name": "second"}
            ]},
            {"name": "frames.bad", "slot_count": 4}
        ],
        "nodes": [
            {"id": "src", "plugin": "frames", "outputs": ["frames"]},
            {"id": "sink", "plugin": "sink", "inputs": ["frames"]},
            {"id": "keeper", "plugin": "sink", "inputs": ["frames.bad"]}
        ]
    })");
}

TEST(ValidateValidators_test, AGuardedChannelAndItsQuarantineAreValid) {
    FakePlugins plugins;
    const auto sut = check_document(guarded_document(), plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    const ValidatedChannel& frames = sut->graph.channels.at(0);
    ASSERT_EQ(frames.validators.size(), 2u);
    EXPECT_EQ(frames.validators[0].spec->node.id, "range");
    EXPECT_EQ(frames.validators[0].node.component.id, "test.validator.check");
    EXPECT_EQ(frames.validators[0].spec->on_reject, ChannelValidatorSpec::OnReject::Quarantine);
    EXPECT_EQ(frames.validators[0].quarantine, std::optional<std::size_t>(1));
    EXPECT_EQ(frames.validators[1].spec->on_reject, ChannelValidatorSpec::OnReject::Drop);
    EXPECT_FALSE(frames.validators[1].quarantine.has_value());
    EXPECT_EQ(frames.config.gate_entries, 2 * ChannelValidatorSpec::GATE_ROWS);

    // The quarantine channel carries what the guarded one does, written by the guarded one's producer.
    const ValidatedChannel& bad = sut->graph.channels.at(1);
    EXPECT_EQ(bad.quarantine_of, std::optional<std::size_t>(0));
    EXPECT_EQ(bad.producer, 0u);
    EXPECT_EQ(bad.schema, frames.schema);
    EXPECT_EQ(bad.config.slot_bytes, 4096u);
    EXPECT_EQ(bad.config.slot_count, 4u);
    EXPECT_EQ(bad.config.schema_hash, frames.config.schema_hash);
    EXPECT_EQ(bad.config.gate_entries, 0u);

    // Its reader starts before the node that writes it.
    const auto& order = sut->graph.start_order;
    const auto position = [&](std::size_t node) { return std::find(order.begin(), order.end(), node) - order.begin(); };
    EXPECT_LT(position(2), position(0));
}

TEST(ValidateValidators_test, AValidatorsNameDefaultsToItsPlugin) {
    Json document = guarded_document();
    document["channels"][0]["validators"][1].erase("name");
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    EXPECT_EQ(sut->graph.channels.at(0).validators.at(1).spec->node.id, "check");
}

TEST(ValidateValidators_test, AChannelWithoutValidatorsHasNoRejectionTable) {
    Json document = guarded_document();
    document["channels"][0].erase("validators");
    document["nodes"].erase(2);
    document["channels"].erase(1);
    FakePlugins plugins;
    const auto sut = check_document(document, plugins);
    ASSERT_TRUE(sut->issues.empty()) << format_issues(sut->issues, "");
    EXPECT_EQ(sut->graph.channels.at(0).config.gate_entries, 0u);
}

struct ValidatorCase {
    const char* label;
    void (*edit)(Json&);
    const char* path;
    std::vector<std::string> substrings;
};

class ValidateValidatorProblems_test : public ::testing::TestWithParam<ValidatorCase> {};

// Shape problems come from parse_graph, the rest from validate_graph: whichever reports it, the path is the same.
TEST_P(ValidateValidatorProblems_test, ReportsTheProblemAtItsPath) {
    Json document = guarded_document();
    GetParam().edit(document);
    FakePlugins plugins;
    std::vector<GraphIssue> issues;
    const std::optional<GraphSpec> spec = parse_graph(document.dump(), "test.json", issues);
    ASSERT_TRUE(spec.has_value()) << format_issues(issues, "");
    if (issues.empty()) (void)validate_graph(*spec, plugins.lookup(), issues);
    EXPECT_TRUE(has_issue(issues, GetParam().path, GetParam().substrings)) << format_issues(issues, "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    ValidateValidatorProblems_test,
    ::testing::Values(
        ValidatorCase{"NotAnArray",
                      [](Json& d) { d["channels"][0]["validators"] = "check"; },
                      "/channels/0/validators",
                      {"expected an array of validators"}},
        ValidatorCase{"UnknownKey",
                      [](Json& d) { d["channels"][0]["validators"][1]["on_rejct"] = "drop"; },
                      "/channels/0/validators/1/on_rejct",
                      {"unknown key", "did you mean \"on_reject\""}},
        ValidatorCase{"MissingPlugin",
                      [](Json& d) { d["channels"][0]["validators"][1].erase("plugin"); },
                      "/channels/0/validators/1",
                      {"plugin"}},
        ValidatorCase{"UnknownPolicy",
                      [](Json& d) { d["channels"][0]["validators"][1]["on_reject"] = "ignore"; },
                      "/channels/0/validators/1/on_reject",
                      {"expected one of", "\"quarantine\""}},
        ValidatorCase{"QuarantineWithoutItsChannel",
                      [](Json& d) { d["channels"][0]["validators"][0].erase("quarantine"); },
                      "/channels/0/validators/0",
                      {"needs \"quarantine\""}},
        ValidatorCase{"AQuarantineChannelWithAnotherPolicy",
                      [](Json& d) { d["channels"][0]["validators"][0]["on_reject"] = "drop"; },
                      "/channels/0/validators/0/quarantine",
                      {"only written with \"on_reject\": \"quarantine\"", "\"drop\""}},
        ValidatorCase{"TwoValidatorsOfOneName",
                      [](Json& d) { d["channels"][0]["validators"][1]["name"] = "range"; },
                      "/channels/0/validators/1",
                      {"validator name 'range' is already used", "/channels/0/validators/0"}},
        ValidatorCase{"ABadName",
                      [](Json& d) { d["channels"][0]["validators"][1]["name"] = "a b"; },
                      "/channels/0/validators/1/name",
                      {"expected a validator name"}},
        ValidatorCase{"TooMany",
                      [](Json& d) {
                          Json many = Json::array();
                          for (int i = 0; i < 17; ++i)
                              many.push_back({{"plugin", "check"}, {"name", "v" + std::to_string(i)}});
                          d["channels"][0]["validators"] = many;
                      },
                      "/channels/0/validators",
                      {"at most 16 validators"}},
        ValidatorCase{"UnknownPlugin",
                      [](Json& d) { d["channels"][0]["validators"][1]["plugin"] = "nosuch"; },
                      "/channels/0/validators/1/plugin",
                      {"plugin 'nosuch' could not be loaded"}},
        ValidatorCase{"NotAValidator",
                      [](Json& d) { d["channels"][0]["validators"][1]["plugin"] = "sink"; },
                      "/channels/0/validators/1/plugin",
                      {"component test.sink.any (sink) is not a validator"}},
        ValidatorCase{"AQueueModeValidator",
                      [](Json& d) { d["channels"][0]["validators"][1]["plugin"] = "queue_check"; },
                      "/channels/0/validators/1/plugin",
                      {"is a queue-mode validator", "use a realtime validator"}},
        ValidatorCase{"UnknownParameter",
                      [](Json& d) {
                          d["channels"][0]["validators"][1]["params"] = {{"gain", 2}};
                      },
                      "/channels/0/validators/1/params/gain",
                      {"takes no parameters"}},
        ValidatorCase{"AValidatorOfAnotherSchema",
                      [](Json& d) {
                          d["channels"][0]["validators"][1]["plugin"] = "check";
                          d["nodes"][0]["plugin"] = "thermo2";
                          d["nodes"][1]["plugin"] = "sink";
                      },
                      "/channels/0/validators/1",
                      {"carries lab.thermo@2", "judges test.frame@1"}},
        ValidatorCase{"AnUndeclaredQuarantineChannel",
                      [](Json& d) { d["channels"][0]["validators"][0]["quarantine"] = "frames.bda"; },
                      "/channels/0/validators/0/quarantine",
                      {"no channel 'frames.bda' is declared", "frames.bad"}},
        ValidatorCase{"ItsOwnQuarantine",
                      [](Json& d) { d["channels"][0]["validators"][0]["quarantine"] = "frames"; },
                      "/channels/0/validators/0/quarantine",
                      {"cannot be its own quarantine"}},
        ValidatorCase{"AQuarantineANodeWrites",
                      [](Json& d) {
                          d["nodes"].push_back({{"id", "other"}, {"plugin", "free"}, {"outputs", {"frames.bad"}}});
                      },
                      "/channels/0/validators/0/quarantine",
                      {"is written by node 'other'", "written only by the validators"}},
        ValidatorCase{"AQuarantineOfTwoChannels",
                      [](Json& d) {
                          d["channels"].push_back(
                              {{"name", "more"},
                               {"slot_bytes", 64},
                               {"validators",
                                {{{"plugin", "check"}, {"on_reject", "quarantine"}, {"quarantine", "frames.bad"}}}}});
                          d["nodes"].push_back({{"id", "other"}, {"plugin", "free"}, {"outputs", {"more"}}});
                      },
                      "/channels/2/validators/0/quarantine",
                      {"already the quarantine of channel 'frames'"}},
        ValidatorCase{"AGuardedQuarantine",
                      [](Json& d) {
                          d["channels"][1]["validators"] = {{{"plugin", "check"}}};
                      },
                      "/channels/0/validators/0/quarantine",
                      {"has validators of its own"}},
        ValidatorCase{"AQuarantineSmallerThanTheGuardedSlots",
                      [](Json& d) { d["channels"][1]["slot_bytes"] = 100; },
                      "/channels/1/slot_bytes",
                      {"smaller than the 4096-byte slots of channel 'frames'"}},
        ValidatorCase{"AQuarantineOfAnotherSchema",
                      [](Json& d) { d["channels"][1]["schema"] = "lab.thermo@2"; },
                      "/channels/1/schema",
                      {"keeps the rejected slots of channel 'frames', which carries test.frame@1"}},
        ValidatorCase{"AQuarantineReaderOfAnotherSchema",
                      [](Json& d) { d["nodes"][2]["plugin"] = "thermo1"; },
                      "/nodes/2/inputs/0",
                      {"carries test.frame@1", "the validators of channel 'frames'", "expects lab.thermo@1"}}),
    [](const ::testing::TestParamInfo<ValidatorCase>& param_info) { return std::string(param_info.param.label); });

}  // namespace
}  // namespace dhub::graph
