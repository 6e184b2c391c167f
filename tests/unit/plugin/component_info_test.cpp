// SPDX-License-Identifier: Apache-2.0
#include "dhub/plugin/component_info.hpp"

#include <gtest/gtest.h>

namespace dhub::plugin {
namespace {

TEST(ParamSchema_test, ParsesEveryField) {
    const auto params = parse_param_schema(
        R"([{"name":"rate_hz","type":"number","default":100,"min":0.5,"max":1e6,"unit":"Hz","doc":"frames per second"},
            {"name":"waveform","type":"string","default":"sine","enum":["sine","noise"]},
            {"name":"path","type":"string"},
            {"name":"gain","type":"number","default":1,"live":true}])",
        "test.source.x");
    ASSERT_TRUE(params.ok()) << params.error().message;
    ASSERT_EQ(params->size(), 4u);
    const ParamSpec& rate = (*params)[0];
    EXPECT_EQ(rate.type, ParamType::Number);
    EXPECT_EQ(rate.default_value, 100);
    EXPECT_EQ(rate.min, 0.5);
    EXPECT_EQ(rate.max, 1e6);
    EXPECT_EQ(rate.unit, "Hz");
    EXPECT_EQ((*params)[1].enum_values.size(), 2u);
    EXPECT_TRUE((*params)[2].default_value.is_null());  // required
    EXPECT_FALSE(rate.live);
    EXPECT_TRUE((*params)[3].live);
}

struct BadSchema {
    const char* label;
    const char* json;
    const char* expected_in_message;
};

class ParamSchemaRefused_test : public ::testing::TestWithParam<BadSchema> {};

TEST_P(ParamSchemaRefused_test, NamesTheComponentAndTheProblem) {
    const auto params = parse_param_schema(GetParam().json, "test.stage.y");
    ASSERT_FALSE(params.ok());
    EXPECT_NE(params.error().message.find("test.stage.y"), std::string::npos) << params.error().message;
    EXPECT_NE(params.error().message.find(GetParam().expected_in_message), std::string::npos) << params.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    ParamSchemaRefused_test,
    ::testing::Values(
        BadSchema{"NotJson", "[{", "not a JSON array"},
        BadSchema{"NotAnArray", R"({"name":"x"})", "not a JSON array"},
        BadSchema{"NoType", R"([{"name":"x"}])", "\"type\""},
        BadSchema{"UnknownType", R"([{"name":"x","type":"float"}])", "float"},
        BadSchema{"DefaultOutOfRange", R"([{"name":"x","type":"integer","default":0,"min":1}])", "default"},
        BadSchema{"Duplicate", R"([{"name":"x","type":"number"},{"name":"x","type":"number"}])", "twice"},
        // Once a crash: nlohmann's value("doc", "") throws on a non-string (a Python declaration's None).
        BadSchema{"DocNotAString", R"([{"name":"x","type":"number","doc":null}])", "doc is not a string"},
        BadSchema{"UnitNotAString", R"([{"name":"x","type":"number","unit":3}])", "unit is not a string"},
        BadSchema{"LiveNotABoolean", R"([{"name":"x","type":"number","live":"yes"}])", "live is not true or false"}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

TEST(ParamValue_test, ChecksTypesRangesAndEnums) {
    ParamSpec count{.name = "count",
                    .type = ParamType::Integer,
                    .default_value = {},
                    .min = 1.0,
                    .max = 10.0,
                    .enum_values = {},
                    .unit = "",
                    .doc = ""};
    EXPECT_FALSE(check_param_value(count, 5).has_value());
    EXPECT_FALSE(check_param_value(count, 5.0).has_value());  // 5.0 is an integer value
    EXPECT_TRUE(check_param_value(count, 5.5).has_value());
    EXPECT_TRUE(check_param_value(count, "5").has_value());
    const auto too_big = check_param_value(count, 11);
    ASSERT_TRUE(too_big.has_value());
    EXPECT_NE(too_big->find("an integer in [1, 10]"), std::string::npos) << *too_big;  // not "[1.0, 10.0]"
    EXPECT_NE(too_big->find("found 11"), std::string::npos) << *too_big;

    ParamSpec mode{.name = "mode",
                   .type = ParamType::String,
                   .default_value = {},
                   .min = {},
                   .max = {},
                   .enum_values = {"a", "b"},
                   .unit = "",
                   .doc = ""};
    EXPECT_FALSE(check_param_value(mode, "a").has_value());
    EXPECT_TRUE(check_param_value(mode, "c").has_value());

    ParamSpec flag{.name = "flag",
                   .type = ParamType::Boolean,
                   .default_value = {},
                   .min = {},
                   .max = {},
                   .enum_values = {},
                   .unit = "",
                   .doc = ""};
    EXPECT_TRUE(check_param_value(flag, 1).has_value());
}

TEST(ParamValue_test, JsonSchemaListsPropertiesAndRequiredOnes) {
    const auto params = parse_param_schema(
        R"([{"name":"gain","type":"number","default":1},{"name":"path","type":"string"}])", "test.x");
    ASSERT_TRUE(params.ok());
    const auto schema = to_json_schema(*params);
    EXPECT_EQ(schema["additionalProperties"], false);
    EXPECT_EQ(schema["properties"]["gain"]["default"], 1);
    EXPECT_EQ(schema["required"], nlohmann::json::array({"path"}));
}

}  // namespace
}  // namespace dhub::plugin
