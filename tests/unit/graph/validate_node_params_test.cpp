// SPDX-License-Identifier: Apache-2.0
// Parameters a component declares per node (SDK 1.3 node_params_schema; the python plugin's class parameters):
// checked like declared ones where the kernel may ask the plugin (--validate), passed on untouched in a run.
#include <gtest/gtest.h>

#include "dhub/graph/graph_spec.hpp"
#include "fake_components.hpp"

namespace dhub::graph {
namespace {

using plugin::ComponentInfo;
using plugin::ComponentKind;
using plugin::ParamSpec;
using testing::has_issue;
using Json = nlohmann::json;

/// A "script" stage whose parameters come from the script a node names, as the python plugin's classes do.
struct ScriptPlugin {
    explicit ScriptPlugin(bool asks = false) : ask(asks) {}

    bool ask;  ///< --validate (NodeParams::Ask) rather than a run
    int calls = 0;
    Json last_params;

    ComponentLookup lookup() {
        return [this](const std::string& name) -> Result<std::vector<ComponentInfo>> {
            if (name != "script") return Error{ErrorCode::NotFound, "no dhub-" + name + ".so"};
            ComponentInfo info = testing::make_component(
                {"script", "test.stage.script", ComponentKind::Stage, "*", "*",
                 R"([{"name": "script", "type": "string"}, {"name": "dir", "type": "path", "default": "."}])"});
            info.takes_node_params = true;
            if (ask) info.node_params_schema = [this](const Json& params) { return declare(params); };
            return std::vector<ComponentInfo>{info};
        };
    }

    Result<std::vector<ParamSpec>> declare(const Json& params) {
        ++calls;
        last_params = params;
        const std::string script = params.value("script", "");
        if (script == "broken.py") return Error{ErrorCode::InvalidArgument, "script 'broken.py' does not compile"};
        if (script == "greedy.py") return plugin::parse_param_schema(R"([{"name": "dir", "type": "string"}])", "s");
        return plugin::parse_param_schema(
            R"([{"name": "gain", "type": "number", "min": 0, "doc": "factor"},
                {"name": "mode", "type": "string", "default": "a", "enum": ["a", "b"]}])",
            "test.stage.script");
    }
};

Json document_with(const Json& params) {
    return {{"schema_version", 1},
            {"name", "node-params"},
            {"channels", {{{"name", "in"}, {"slot_bytes", 64}}, {{"name", "out"}, {"slot_bytes", 64}}}},
            {"nodes",
             {{{"id", "feed"},
               {"plugin", "script"},
               {"params", {{"script", "feed.py"}, {"gain", 1}}},
               {"outputs", {"in"}},
               {"inputs", Json::array()}},
              {{"id", "run"}, {"plugin", "script"}, {"params", params}, {"inputs", {"in"}}, {"outputs", {"out"}}}}}};
}

struct Outcome {
    std::vector<GraphIssue> issues;
    Json params;  ///< node "run"'s, as the kernel would give them to create()
};

Outcome check(const Json& params, ScriptPlugin& plugin) {
    Outcome outcome;
    // The feeder has no outputs-only component: only the issues of node "run" (nodes/1) matter here.
    auto spec = parse_graph(document_with(params).dump(), "/lab/graph.json", outcome.issues);
    EXPECT_TRUE(spec.has_value());
    if (!spec) return outcome;
    ValidatedGraph validated = validate_graph(*spec, plugin.lookup(), outcome.issues);
    if (validated.nodes.size() > 1) outcome.params = validated.nodes[1].params;
    std::erase_if(outcome.issues, [](const GraphIssue& issue) { return !issue.json_path.starts_with("/nodes/1"); });
    return outcome;
}

TEST(ValidateNodeParams, ARunPassesTheKeysTheComponentDoesNotDeclareOnUncheckedAndNeverAsksThePlugin) {
    ScriptPlugin plugin;  // a run
    const Outcome outcome = check({{"script", "gain.py"}, {"gain", "anything"}, {"unheard_of", true}}, plugin);
    EXPECT_TRUE(outcome.issues.empty()) << format_issues(outcome.issues, "");
    EXPECT_EQ(plugin.calls, 0);
    EXPECT_EQ(outcome.params["gain"], "anything");
    EXPECT_EQ(outcome.params["unheard_of"], true);
    EXPECT_EQ(outcome.params["dir"], "/lab/");  // its declared ones are defaulted and resolved as ever
}

TEST(ValidateNodeParams, ValidateAsksWithTheDeclaredParamsDefaultedAndResolvedAndAcceptsGoodValues) {
    ScriptPlugin plugin(/*asks=*/true);
    const Outcome outcome = check({{"script", "gain.py"}, {"gain", 2.5}}, plugin);
    EXPECT_TRUE(outcome.issues.empty()) << format_issues(outcome.issues, "");
    EXPECT_EQ(plugin.calls, 2);  // the feeder's node and this one
    EXPECT_EQ(plugin.last_params, (Json{{"script", "gain.py"}, {"dir", "/lab/"}, {"gain", 2.5}}));
}

struct BadCase {
    const char* label;
    Json params;
    const char* path;
    std::vector<std::string> words;
};
void PrintTo(const BadCase& bad, std::ostream* out) {
    *out << bad.label;
}

class ValidateNodeParams_test : public ::testing::TestWithParam<BadCase> {};

TEST_P(ValidateNodeParams_test, ValidateReportsTheProblemAtItsPath) {
    ScriptPlugin plugin(/*asks=*/true);
    const Outcome outcome = check(GetParam().params, plugin);
    EXPECT_TRUE(has_issue(outcome.issues, GetParam().path, GetParam().words)) << format_issues(outcome.issues, "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    ValidateNodeParams_test,
    ::testing::Values(
        BadCase{"Unknown",
                {{"script", "gain.py"}, {"gain", 1}, {"gian", 1}},
                "/nodes/1/params/gian",
                {"unknown parameter of component test.stage.script (stage) for these params",
                 "declared parameters: script, dir, gain, mode", "did you mean \"gain\"?"}},
        BadCase{"WrongType",
                {{"script", "gain.py"}, {"gain", "high"}},
                "/nodes/1/params/gain",
                {"invalid value for parameter 'gain' of component test.stage.script (stage) for these params",
                 "expected a number"}},
        BadCase{"OutOfRange", {{"script", "gain.py"}, {"gain", -1}}, "/nodes/1/params/gain", {"found -1"}},
        BadCase{"NotInEnum",
                {{"script", "gain.py"}, {"gain", 1}, {"mode", "c"}},
                "/nodes/1/params/mode",
                {"expected one of a, b, found \"c\""}},
        BadCase{"MissingRequired",
                {{"script", "gain.py"}},
                "/nodes/1/params",
                {"missing required parameter 'gain' of component test.stage.script (stage) for these params",
                 "(number in [0.0, +inf]: factor)"}},
        BadCase{"ThePluginRefuses",
                {{"script", "broken.py"}},
                "/nodes/1/params",
                {"component test.stage.script (stage): script 'broken.py' does not compile"}},
        BadCase{"DeclaresAParameterOfTheComponentItself",
                {{"script", "greedy.py"}},
                "/nodes/1/params",
                {"declares 'dir', a parameter the component itself declares; rename it"}}),
    [](const ::testing::TestParamInfo<BadCase>& param_info) { return std::string(param_info.param.label); });

TEST(ValidateNodeParams, ThePluginIsNotAskedWhileItsDeclaredParametersAreWrong) {
    ScriptPlugin plugin(/*asks=*/true);
    const Outcome outcome = check({{"script", 7}, {"gain", 1}}, plugin);
    EXPECT_TRUE(has_issue(outcome.issues, "/nodes/1/params/script", {"expected a string"}));
    EXPECT_EQ(outcome.issues.size(), 1u) << format_issues(outcome.issues, "");
    EXPECT_EQ(plugin.calls, 1);  // the feeder's node only
}

TEST(ValidateNodeParams, AComponentWithoutTheHookKeepsTheStrictRule) {
    testing::FakePlugins plugins;
    Json document = testing::valid_document();
    document["nodes"][1]["params"]["unheard_of"] = 1;
    const auto sut = testing::check_document(document, plugins);
    EXPECT_TRUE(has_issue(sut->issues, "/nodes/1/params/unheard_of", {"unknown parameter"}));
}

}  // namespace
}  // namespace dhub::graph
