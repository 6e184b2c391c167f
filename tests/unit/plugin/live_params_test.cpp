// SPDX-License-Identifier: Apache-2.0
// Live parameters (SDK 1.4 on_param): the C++ SDK layer gives the callback to a component that defines on_param,
// passes a refusal on, and the kernel refuses a component that declares a live parameter without it.
#include <gtest/gtest.h>

#include <string_view>

#include "dhub/plugin/plugin_loader.hpp"
#include "dhub/sdk/plugin.hpp"
#include "one_component_plugin.hpp"

namespace dhub::plugin {
namespace {

class LiveSink : public sdk::Sink<sdk::Bytes> {
public:
    static constexpr const char* id = "test.sink.live";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "a live threshold";
    static constexpr const char* params_schema =
        R"([{"name": "threshold", "type": "number", "default": 1, "live": true}])";
    dhub_status on_param(sdk::NodeContext&, std::string_view name) {
        return name == "threshold" ? DHUB_OK : DHUB_ERR_INVALID_ARGUMENT;
    }
    dhub_status consume(sdk::NodeContext&, const sdk::InputSlot<sdk::Bytes>&) { return DHUB_OK; }
};

/// Declares a live parameter and forgets the callback: nothing would ever tell it of a change.
class DeafSink : public sdk::Sink<sdk::Bytes> {
public:
    static constexpr const char* id = "test.sink.deaf";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "live but deaf";
    static constexpr const char* params_schema =
        R"([{"name": "threshold", "type": "number", "default": 1, "live": true}])";
    dhub_status consume(sdk::NodeContext&, const sdk::InputSlot<sdk::Bytes>&) { return DHUB_OK; }
};

Result<LoadedPlugin> load(const dhub_component_descriptor& component) {
    return testing::load_one_component(component, "live");
}

TEST(LiveParams_test, AComponentWithOnParamLoadsWithItsLiveParameters) {
    EXPECT_NE(sdk::detail::DESCRIPTOR<LiveSink>.on_param, nullptr);
    auto loaded = load(sdk::detail::DESCRIPTOR<LiveSink>);
    ASSERT_TRUE(loaded) << loaded.error().message;
    ASSERT_EQ(loaded.value().components[0].params.size(), 1u);
    EXPECT_TRUE(loaded.value().components[0].params[0].live);
    EXPECT_NE(loaded.value().descriptors[0].on_param, nullptr);
}

TEST(LiveParams_test, ALiveParameterWithoutOnParamIsRefusedAtLoad) {
    EXPECT_EQ(sdk::detail::DESCRIPTOR<DeafSink>.on_param, nullptr);
    auto loaded = load(sdk::detail::DESCRIPTOR<DeafSink>);
    ASSERT_FALSE(loaded);
    EXPECT_NE(loaded.error().message.find("declares parameter \"threshold\" live but has no on_param"),
              std::string::npos)
        << loaded.error().message;
    EXPECT_NE(loaded.error().message.find("/plugins/dhub-live.so"), std::string::npos);
}

}  // namespace
}  // namespace dhub::plugin
