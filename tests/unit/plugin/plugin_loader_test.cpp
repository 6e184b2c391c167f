// SPDX-License-Identifier: Apache-2.0
// The loader against real .so files: a good one, and one per way a plugin can be wrong.
#include "dhub/plugin/plugin_loader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "dhub/sdk/version.h"

namespace dhub::plugin {
namespace {

const std::filesystem::path PLUGIN_DIR = DHUB_TEST_PLUGIN_DIR;

class PluginLoader_test : public ::testing::Test {
protected:
    PluginLoader sut{{PLUGIN_DIR}};

    /// Loads a plugin that must be refused and returns the message.
    std::string refusal(const std::string& name) {
        auto loaded = sut.load(name);
        EXPECT_FALSE(loaded.ok()) << name << " was accepted";
        return loaded.ok() ? std::string() : loaded.error().message;
    }
};

TEST_F(PluginLoader_test, LoadsAValidPluginAndDescribesItsComponents) {
    auto loaded = sut.load("test_ticker");
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    const LoadedPlugin& plugin = *loaded.value();
    EXPECT_EQ(plugin.name, "test_ticker");
    EXPECT_EQ(plugin.version, "3.1.4");
    EXPECT_EQ(plugin.abi_major, DHUB_SDK_VERSION_MAJOR);
    ASSERT_EQ(plugin.components.size(), 3u);
    const ComponentInfo& source = plugin.components[0];
    EXPECT_EQ(source.id, "test.source.ticker");
    EXPECT_EQ(source.version, 3u);
    EXPECT_EQ(source.kind, ComponentKind::Source);
    // An SDK 1.1-style component: its ports follow from its kind.
    EXPECT_FALSE(source.declares_ports);
    ASSERT_EQ(source.ports.size(), 1u);
    EXPECT_EQ(source.ports[0].name, "out");
    EXPECT_EQ(source.ports[0].direction, plugin::PortDirection::Output);
    EXPECT_EQ(source.ports[0].schema, "test.tick@1");
    EXPECT_EQ(source.ports[0].min_slot_bytes, sizeof(std::uint64_t));
    EXPECT_FALSE(source.ports[0].optional);
    ASSERT_EQ(source.params.size(), 1u);
    EXPECT_EQ(source.params[0].name, "count");
    EXPECT_EQ(source.params[0].type, ParamType::Integer);
    ASSERT_EQ(plugin.components[1].ports.size(), 1u);
    EXPECT_EQ(plugin.components[1].ports[0].name, "in");
    EXPECT_EQ(plugin.components[1].ports[0].schema, "test.tick@1");
    EXPECT_NE(plugin.descriptor_of("test.sink.ticker"), nullptr);
    const ComponentInfo& relay = plugin.components[2];
    EXPECT_EQ(relay.id, "test.stage.ticker_relay");
    EXPECT_EQ(relay.mode, ComponentMode::Queue);
}

TEST_F(PluginLoader_test, SecondLoadReturnsTheSamePlugin) {
    auto first = sut.load("test_ticker");
    auto second = sut.load("test_ticker");
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_EQ(first.value(), second.value());
}

TEST_F(PluginLoader_test, MissingFileNamesTheFileTheSearchPathAndWhatToDo) {
    const std::string message = refusal("does_not_exist");
    EXPECT_NE(message.find("dhub-does_not_exist.so"), std::string::npos) << message;
    EXPECT_NE(message.find(PLUGIN_DIR.string()), std::string::npos) << message;
    EXPECT_NE(message.find("--plugin-path"), std::string::npos) << message;
}

TEST_F(PluginLoader_test, AMisspeltNameGetsTheClosestPluginInTheSearchPath) {
    const std::string message = refusal("test_tikcer");
    EXPECT_NE(message.find("did you mean \"test_ticker\"?"), std::string::npos) << message;
}

TEST_F(PluginLoader_test, NewerMajorIsRefusedNamingBothVersionsAndTheFile) {
    const std::string message = refusal("test_abi_major");
    const std::string theirs = std::to_string(DHUB_SDK_VERSION_MAJOR + 1) + ".0";
    const std::string ours = std::to_string(DHUB_SDK_VERSION_MAJOR) + "." + std::to_string(DHUB_SDK_VERSION_MINOR);
    EXPECT_NE(message.find("SDK " + theirs), std::string::npos) << message;
    EXPECT_NE(message.find("SDK " + ours), std::string::npos) << message;
    EXPECT_NE(message.find("dhub-test_abi_major.so"), std::string::npos) << message;
}

TEST_F(PluginLoader_test, NewerMinorIsRefused) {
    const std::string message = refusal("test_abi_minor");
    EXPECT_NE(message.find(std::to_string(DHUB_SDK_VERSION_MAJOR) + "." + std::to_string(DHUB_SDK_VERSION_MINOR + 1)),
              std::string::npos)
        << message;
}

TEST_F(PluginLoader_test, LibraryWithoutEntrySymbolIsNotADhubPlugin) {
    const std::string message = refusal("test_no_entry");
    EXPECT_NE(message.find("not a dhub plugin"), std::string::npos) << message;
    EXPECT_NE(message.find("dhub_plugin_entry"), std::string::npos) << message;
}

TEST_F(PluginLoader_test, UnresolvedSymbolIsReportedWithTheLinkerMessage) {
    const std::string message = refusal("test_unresolved");
    EXPECT_NE(message.find("symbol_provided_by_nobody"), std::string::npos) << message;
    EXPECT_NE(message.find("dhub-test_unresolved.so"), std::string::npos) << message;
}

TEST_F(PluginLoader_test, DescriptorNameMustMatchTheFileName) {
    const std::string message = refusal("test_wrong_name");
    EXPECT_NE(message.find("someone_else"), std::string::npos) << message;
    EXPECT_NE(message.find("dhub-test_wrong_name.so"), std::string::npos) << message;
}

TEST_F(PluginLoader_test, RefusedPluginCanBeAskedForAgainAndIsRefusedAgain) {
    (void)refusal("test_abi_major");
    (void)refusal("test_abi_major");
}

TEST_F(PluginLoader_test, AvailableListsThePluginsOnTheSearchPath) {
    const auto names = sut.available();
    EXPECT_NE(std::find(names.begin(), names.end(), "test_ticker"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "test_abi_major"), names.end());
}

TEST_F(PluginLoader_test, PluginNameWithASlashIsRefused) {
    const std::string message = refusal("../escape");
    EXPECT_NE(message.find("plain name"), std::string::npos) << message;
}

TEST(SearchPath_test, CommandLineComesFirstThenEnvironmentThenGraphThenInstallDirectory) {
    ::setenv("DHUB_PLUGIN_PATH", "/from/env/a:/from/env/b", 1);
    const auto path = make_search_path({"/from/cli"}, {"/from/graph"});
    ::unsetenv("DHUB_PLUGIN_PATH");
    ASSERT_EQ(path.size(), 5u);
    EXPECT_EQ(path[0], "/from/cli");
    EXPECT_EQ(path[1], "/from/env/a");
    EXPECT_EQ(path[2], "/from/env/b");
    EXPECT_EQ(path[3], "/from/graph");
    EXPECT_NE(path[4].string().find("dhub-1/plugins"), std::string::npos);
}

}  // namespace
}  // namespace dhub::plugin
