// SPDX-License-Identifier: Apache-2.0
// Parameters declared per node (SDK 1.3 node_params_schema): what the C++ SDK layer makes of a component's
// static node_params_schema, and how the kernel reads the hook's answer.
#include <gtest/gtest.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "dhub/plugin/plugin_loader.hpp"
#include "dhub/sdk/plugin.hpp"
#include "one_component_plugin.hpp"

namespace dhub::plugin {
namespace {

/// A sink whose parameters come from the "script" a node names, as the python plugin's classes do.
class ScriptSink : public sdk::Sink<sdk::Bytes> {
public:
    static constexpr const char* id = "test.sink.script";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "parameters per script";
    static constexpr const char* params_schema = R"([{"name": "script", "type": "string"}])";

    static std::string node_params_schema(std::string_view params) {
        if (params.find("broken.py") != std::string_view::npos)
            throw std::runtime_error("script 'broken.py' does not \"compile\"");
        if (params.find("garbage.py") != std::string_view::npos) return "not json";
        return R"([{"name": "gain", "type": "number", "default": 1, "min": 0}])";
    }
    dhub_status consume(sdk::NodeContext&, const sdk::InputSlot<sdk::Bytes>&) { return DHUB_OK; }
};

class PlainSink : public sdk::Sink<sdk::Bytes> {
public:
    static constexpr const char* id = "test.sink.plain";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "no parameters per node";
    dhub_status consume(sdk::NodeContext&, const sdk::InputSlot<sdk::Bytes>&) { return DHUB_OK; }
};

Result<LoadedPlugin> load(const dhub_component_descriptor& component) {
    return testing::load_one_component(component, "script");
}

TEST(NodeParams_test, TheSdkGivesTheHookOnlyToAComponentThatDefinesIt) {
    EXPECT_NE(sdk::detail::DESCRIPTOR<ScriptSink>.node_params_schema, nullptr);
    EXPECT_EQ(sdk::detail::DESCRIPTOR<PlainSink>.node_params_schema, nullptr);
    auto script = load(sdk::detail::DESCRIPTOR<ScriptSink>);
    ASSERT_TRUE(script) << script.error().message;
    EXPECT_TRUE(script->components.at(0).takes_node_params);
    auto plain = load(sdk::detail::DESCRIPTOR<PlainSink>);
    ASSERT_TRUE(plain) << plain.error().message;
    EXPECT_FALSE(plain->components.at(0).takes_node_params);
}

TEST(NodeParams_test, AComponentStructOlderThan13NeverHasTheHook) {
    dhub_component_descriptor older = sdk::detail::DESCRIPTOR<ScriptSink>;
    older.struct_size = static_cast<std::uint32_t>(offsetof(dhub_component_descriptor, node_params_schema));
    auto loaded = load(older);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_FALSE(loaded->components.at(0).takes_node_params);
    EXPECT_EQ(loaded->descriptors.at(0).node_params_schema, nullptr);
}

TEST(NodeParams_test, TheDeclarationsAreParsedLikeParamsSchema) {
    auto declared = node_params_schema(sdk::detail::DESCRIPTOR<ScriptSink>, "test.sink.script", {{"script", "a.py"}});
    ASSERT_TRUE(declared) << declared.error().message;
    ASSERT_EQ(declared->size(), 1u);
    EXPECT_EQ(declared->at(0).name, "gain");
    EXPECT_EQ(declared->at(0).type, ParamType::Number);
    EXPECT_EQ(declared->at(0).min, 0.0);
}

TEST(NodeParams_test, WhatTheComponentThrowsIsTheErrorWordForWord) {
    auto declared =
        node_params_schema(sdk::detail::DESCRIPTOR<ScriptSink>, "test.sink.script", {{"script", "broken.py"}});
    ASSERT_FALSE(declared);
    EXPECT_EQ(declared.error().message, "script 'broken.py' does not \"compile\"");
}

TEST(NodeParams_test, AnAnswerThatIsNeitherDeclarationsNorAnErrorNamesTheComponent) {
    auto declared =
        node_params_schema(sdk::detail::DESCRIPTOR<ScriptSink>, "test.sink.script", {{"script", "garbage.py"}});
    ASSERT_FALSE(declared);
    EXPECT_NE(declared.error().message.find("component 'test.sink.script': node_params_schema returned neither"),
              std::string::npos)
        << declared.error().message;
}

}  // namespace
}  // namespace dhub::plugin
