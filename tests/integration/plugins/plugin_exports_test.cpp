// SPDX-License-Identifier: Apache-2.0
// Every built plugin, as a file: it exports exactly one symbol, its descriptor matches its file name and
// this SDK, its components are well-formed, and each component whose parameters all have defaults goes
// through create, start, stop and destroy with those defaults.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "dhub/sdk/testing/harness.hpp"
#include "dhub/sdk/testing/plugin_library.hpp"
#include "support/elf_symbols.hpp"
#include "support/plugin_files.hpp"

namespace {

using dhub::sdk::testing::Harness;
using dhub::sdk::testing::PluginLibrary;

/// "dhub.<kind>.<name>" with the kind matching the descriptor and name in [a-z_]+.
bool well_formed_id(std::string_view id, dhub_kind kind) {
    const std::string prefix = std::string("dhub.") + dhub::sdk::testing::to_string(kind) + ".";
    if (id.substr(0, prefix.size()) != prefix || id.size() == prefix.size()) return false;
    for (const char c : id.substr(prefix.size())) {
        if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
    }
    return true;
}

class PluginExports_test : public ::testing::TestWithParam<std::string> {
protected:
    std::filesystem::path file() const { return dhub::test::plugin_file(GetParam()); }
};

TEST_P(PluginExports_test, ExportsOnlyTheEntrySymbol) {
    ASSERT_TRUE(std::filesystem::exists(file())) << file();

    EXPECT_EQ(dhub::test::defined_dynamic_symbols(file()), (std::vector<std::string>{DHUB_PLUGIN_ENTRY_SYMBOL}));
}

TEST_P(PluginExports_test, DescriptorNameEqualsTheFileStemAndTheAbiIsThisSdks) {
    const PluginLibrary sut = PluginLibrary::open(file());

    EXPECT_STREQ(sut.descriptor().name, GetParam().c_str());
    EXPECT_EQ(sut.file_stem_name(), GetParam());
    EXPECT_EQ(sut.descriptor().struct_size, sizeof(dhub_plugin_descriptor));
    EXPECT_EQ(sut.descriptor().abi_major, DHUB_SDK_VERSION_MAJOR);
    EXPECT_EQ(sut.descriptor().abi_minor, DHUB_SDK_VERSION_MINOR);
    EXPECT_STREQ(sut.descriptor().license, "Apache-2.0");
}

TEST_P(PluginExports_test, ComponentsAreWellFormed) {
    const PluginLibrary sut = PluginLibrary::open(file());

    ASSERT_GE(sut.components().size(), 1U);
    for (const dhub_component_descriptor* component : sut.components()) {
        ASSERT_NE(component, nullptr);
        EXPECT_EQ(component->struct_size, sizeof(dhub_component_descriptor));
        EXPECT_TRUE(well_formed_id(component->id, component->kind)) << component->id;
        EXPECT_GE(component->version, 1U);
        EXPECT_NE(component->create, nullptr);
        EXPECT_NE(component->destroy, nullptr);
        EXPECT_NO_THROW((void)dhub::sdk::testing::parse_params_schema(component->params_schema_json, component->id));
        if (component->port_count > 0) {
            // Declared ports (SDK 1.2) replace the kind's: the 1.1 schema fields stay empty.
            EXPECT_NE(component->ports, nullptr) << component->id;
            EXPECT_EQ(component->input_schema, nullptr) << component->id;
            EXPECT_EQ(component->output_schema, nullptr) << component->id;
            // A realtime component with ports is called through process_ports; a queue-mode one drives its ports in
            // run().
            const bool drives_itself = component->mode == DHUB_MODE_QUEUE && component->run != nullptr;
            EXPECT_TRUE(drives_itself || component->process_ports != nullptr) << component->id;
            for (std::uint32_t i = 0; i < component->port_count; ++i) {
                EXPECT_EQ(component->ports[i].struct_size, sizeof(dhub_port_descriptor)) << component->id;
                EXPECT_NE(component->ports[i].name, nullptr) << component->id;
                EXPECT_NE(component->ports[i].description, nullptr) << component->id << " port " << i;
            }
            continue;
        }
        const bool has_input = component->kind != DHUB_KIND_SOURCE;
        const bool has_output = component->kind == DHUB_KIND_SOURCE || component->kind == DHUB_KIND_STAGE;
        EXPECT_EQ(component->input_schema != nullptr, has_input) << component->id;
        EXPECT_EQ(component->output_schema != nullptr, has_output) << component->id;
    }
}

/// The stored form of a typed schema (docs/schemas.md): every default filled in.
constexpr const char* TYPED_CHANNEL_DOCUMENT =
    R"json({"name":"test.reading","version":1,"encoding":"struct","size":16,"align":8,)json"
    R"json("fields":[{"name":"t_ns","dtype":"<u8","shape":[],"offset":0},)json"
    R"json({"name":"value","dtype":"<f8","shape":[],"offset":8}]})json";

TEST_P(PluginExports_test, ComponentsRunTheirLifecycleWithDefaultParams) {
    const PluginLibrary plugin = PluginLibrary::open(file());
    for (const dhub_component_descriptor* component : plugin.components()) {
        const auto params = dhub::sdk::testing::parse_params_schema(component->params_schema_json, component->id);
        bool all_defaulted = true;
        for (const auto& param : params)
            all_defaulted = all_defaulted && param.default_value.has_value();
        if (!all_defaulted) continue;  // e.g. a required path: covered by the component's own tests

        Harness sut(component);
        // A typed channel, as the kernel describes it (a validator of "*" such as dhub.validator.schema needs
        // one; the others never ask).
        sut.host().set_port_schema_document(dhub::sdk::Direction::Input, 0, TYPED_CHANNEL_DOCUMENT);
        EXPECT_EQ(sut.start(), DHUB_OK) << component->id << "\n" << sut.log_text();
        sut.destroy();
        EXPECT_FALSE(sut.created());
        EXPECT_EQ(sut.host().log_count(DHUB_LOG_ERROR), 0U) << sut.log_text();
    }
}

INSTANTIATE_TEST_SUITE_P(BuiltPlugins,
                         PluginExports_test,
                         ::testing::ValuesIn(dhub::test::built_plugins()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

}  // namespace
