// SPDX-License-Identifier: Apache-2.0
// Declared ports (SDK 1.2) as the loader reads them from a descriptor: what it accepts, what it refuses and
// how it says so, and the kind's ports for a component that declares none.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "descriptor_checks.hpp"
#include "dhub/sdk/version.h"

namespace dhub::plugin {
namespace {

dhub_status create(const dhub_host_api*, dhub_node*, void** instance) {
    *instance = nullptr;
    return DHUB_OK;
}
void destroy(void*) {}
dhub_status process_ports(void*, dhub_port_args*) {
    return DHUB_OK;
}
dhub_status init_fails(char* message, std::uint64_t capacity) {
    std::snprintf(message, capacity, "no frame grabber");
    return DHUB_ERR_UNAVAILABLE;
}

/// A correlator-like stage with the given ports, wrapped in plugin "ports".
struct Fixture {
    std::vector<dhub_port_descriptor> ports;
    dhub_component_descriptor component{};
    const dhub_component_descriptor* components[1] = {&component};
    dhub_plugin_descriptor plugin{};

    explicit Fixture(std::vector<dhub_port_descriptor> declared) : ports(std::move(declared)) {
        component.struct_size = sizeof component;
        component.kind = DHUB_KIND_STAGE;
        component.id = "test.stage.ports";
        component.version = 1;
        component.mode = DHUB_MODE_REALTIME;
        component.create = create;
        component.destroy = destroy;
        component.process_ports = process_ports;
        component.port_count = static_cast<std::uint32_t>(ports.size());
        component.ports = ports.data();
        plugin.struct_size = sizeof plugin;
        plugin.abi_major = DHUB_SDK_VERSION_MAJOR;
        plugin.abi_minor = DHUB_SDK_VERSION_MINOR;
        plugin.name = "ports";
        plugin.version = "1.0.0";
        plugin.component_count = 1;
        plugin.components = components;
    }
    Result<LoadedPlugin> load() const { return check_plugin_descriptor(&plugin, "/plugins/dhub-ports.so"); }
    std::string refusal() const {
        auto loaded = load();
        return loaded ? std::string() : loaded.error().message;
    }
};

dhub_port_descriptor port(dhub_port_direction direction, const char* name, std::uint32_t flags = 0) {
    return {sizeof(dhub_port_descriptor), direction, name, "lab.frame@1", 64, flags, 0, "a port"};
}

TEST(PortDescriptor_test, DeclaredPortsAreReadInOrder) {
    const Fixture sut({port(DHUB_PORT_INPUT, "camera"), port(DHUB_PORT_INPUT, "detector", DHUB_PORT_MANY),
                       port(DHUB_PORT_OUTPUT, "out"), port(DHUB_PORT_OUTPUT, "unmatched", DHUB_PORT_OPTIONAL)});
    auto loaded = sut.load();
    ASSERT_TRUE(loaded) << loaded.error().message;
    const ComponentInfo& info = loaded->components.at(0);
    EXPECT_TRUE(info.declares_ports);
    EXPECT_TRUE(info.multi_port());
    ASSERT_EQ(info.ports.size(), 4u);
    EXPECT_EQ(info.ports[1].name, "detector");
    EXPECT_TRUE(info.ports[1].many);
    EXPECT_EQ(info.ports[1].schema, "lab.frame@1");
    EXPECT_EQ(info.ports[1].min_slot_bytes, 64u);
    EXPECT_EQ(info.ports[1].description, "a port");
    EXPECT_TRUE(info.ports[3].optional);
    EXPECT_EQ(info.ports_of(PortDirection::Output).size(), 2u);
    EXPECT_EQ(info.find_port(PortDirection::Output, "unmatched"), &info.ports[3]);
    EXPECT_EQ(info.find_port(PortDirection::Input, "unmatched"), nullptr);
}

TEST(PortDescriptor_test, AnInputAndAnOutputMayShareAName) {
    const Fixture sut({port(DHUB_PORT_INPUT, "data"), port(DHUB_PORT_OUTPUT, "data")});
    EXPECT_EQ(sut.refusal(), "");
}

struct Refused {
    const char* label;
    std::vector<dhub_port_descriptor> ports;
    const char* expected;
};

class PortDescriptorRefused_test : public ::testing::TestWithParam<Refused> {};

TEST_P(PortDescriptorRefused_test, NamesThePortAndTheProblem) {
    const Fixture sut(GetParam().ports);
    const std::string message = sut.refusal();
    EXPECT_NE(message.find("dhub-ports.so"), std::string::npos) << message;
    EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases,
    PortDescriptorRefused_test,
    ::testing::Values(Refused{"Duplicate",
                              {port(DHUB_PORT_INPUT, "camera"), port(DHUB_PORT_INPUT, "camera")},
                              "declares input port 'camera' twice"},
                      Refused{"BadDirection",
                              {port(DHUB_PORT_INPUT, "camera"), port(7, "out")},
                              "port #1 ('out'): direction 7 is not input (1) or output (2)"},
                      Refused{"BadName", {port(DHUB_PORT_INPUT, "2cams")}, "name '2cams' is not 1 to 64 letters"},
                      Refused{"NoName", {port(DHUB_PORT_INPUT, nullptr)}, "port #0: name '' is not"},
                      Refused{"Truncated",
                              {{4, DHUB_PORT_INPUT, "camera", nullptr, 0, 0, 0, nullptr}},
                              "port #0: truncated descriptor (struct_size 4"}),
    [](const ::testing::TestParamInfo<Refused>& param_info) { return std::string(param_info.param.label); });

TEST(PortDescriptor_test, SeveralInputsNeedProcessPorts) {
    Fixture sut({port(DHUB_PORT_INPUT, "camera"), port(DHUB_PORT_INPUT, "detector"), port(DHUB_PORT_OUTPUT, "out")});
    sut.component.process_ports = nullptr;
    EXPECT_NE(sut.refusal().find("lacks the required callback process_ports"), std::string::npos) << sut.refusal();
}

TEST(PortDescriptor_test, AValidatorHasExactlyOneInput) {
    Fixture sut({port(DHUB_PORT_INPUT, "in"), port(DHUB_PORT_OUTPUT, "out")});
    sut.component.kind = DHUB_KIND_VALIDATOR;
    sut.component.validate = [](void*, const dhub_slot*, dhub_validation*) -> dhub_status { return DHUB_OK; };
    EXPECT_NE(sut.refusal().find("a validator has exactly one input port and no output"), std::string::npos)
        << sut.refusal();
}

TEST(PortDescriptor_test, PluginInitAndShutdownAreRead) {
    Fixture sut({port(DHUB_PORT_INPUT, "in"), port(DHUB_PORT_OUTPUT, "out")});
    sut.plugin.init = init_fails;
    sut.plugin.shutdown = [] {};
    auto loaded = sut.load();
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->init, &init_fails);
    EXPECT_NE(loaded->shutdown, nullptr);
}

TEST(PortDescriptor_test, AnOlderPluginStructHasNoInitEvenIfTheBytesAfterItSaySo) {
    Fixture sut({port(DHUB_PORT_INPUT, "in"), port(DHUB_PORT_OUTPUT, "out")});
    sut.plugin.struct_size = static_cast<std::uint32_t>(offsetof(dhub_plugin_descriptor, init));
    sut.plugin.init = init_fails;
    auto loaded = sut.load();
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->init, nullptr);
}

TEST(PortDescriptor_test, AnOlderComponentStructGetsItsKindsPorts) {
    Fixture sut({port(DHUB_PORT_INPUT, "camera"), port(DHUB_PORT_INPUT, "detector")});
    // SDK 1.1's struct ends before port_count: the ports beyond it are never read.
    sut.component.struct_size = static_cast<std::uint32_t>(offsetof(dhub_component_descriptor, port_count));
    sut.component.process = [](void*, const dhub_process_args*) -> dhub_status { return DHUB_OK; };
    sut.component.input_schema = "lab.frame@1";
    sut.component.output_schema = "lab.sum@1";
    sut.component.output_min_slot_bytes = 128;
    auto loaded = sut.load();
    ASSERT_TRUE(loaded) << loaded.error().message;
    const ComponentInfo& info = loaded->components.at(0);
    EXPECT_FALSE(info.declares_ports);
    ASSERT_EQ(info.ports.size(), 2u);
    EXPECT_EQ(info.ports[0].name, "in");
    EXPECT_EQ(info.ports[0].schema, "lab.frame@1");
    EXPECT_EQ(info.ports[1].name, "out");
    EXPECT_EQ(info.ports[1].schema, "lab.sum@1");
    EXPECT_EQ(info.ports[1].min_slot_bytes, 128u);
}

// ---- schema documents (SDK 1.2): the typed schemas a component declares for its ports ------------------

const char* frame_document() {
    return R"([{"name": "lab.frame", "version": 1, "fields": [{"name": "pixels", "dtype": "<u2", "shape": [4, 8]}]}])";
}
const char* malformed_document() {
    return R"([{"name": "lab.frame", "version": 1, "fields": [{"name": "pixels", "dtype": "=u2"}]}])";
}
const char* unnamed_document() {
    return R"([{"name": "lab.other", "version": 1, "fields": [{"name": "x", "dtype": "<f8"}]}])";
}
const char* not_json() {
    return "[{";
}

TEST(PortDescriptor_test, SchemaDocumentsOfItsPortsAreReadIntoTheComponent) {
    Fixture sut({port(DHUB_PORT_INPUT, "in"), port(DHUB_PORT_OUTPUT, "out")});
    sut.component.schema_documents = frame_document;
    auto loaded = sut.load();
    ASSERT_TRUE(loaded) << loaded.error().message;
    const ComponentInfo& info = loaded->components.at(0);
    ASSERT_EQ(info.schemas.size(), 1u);
    EXPECT_EQ(info.schemas[0].id(), "lab.frame@1");
    EXPECT_EQ(info.schemas[0].size, 64u);
}

TEST(PortDescriptor_test, AMalformedSchemaDocumentIsRefusedAtItsPath) {
    Fixture sut({port(DHUB_PORT_INPUT, "in"), port(DHUB_PORT_OUTPUT, "out")});
    sut.component.schema_documents = malformed_document;
    const std::string refusal = sut.refusal();
    EXPECT_NE(refusal.find("component 'test.stage.ports' schema_documents/0/fields/0/dtype"), std::string::npos)
        << refusal;
}

TEST(PortDescriptor_test, ASchemaDocumentNoPortNamesIsRefused) {
    Fixture sut({port(DHUB_PORT_INPUT, "in"), port(DHUB_PORT_OUTPUT, "out")});
    sut.component.schema_documents = unnamed_document;
    const std::string refusal = sut.refusal();
    EXPECT_NE(refusal.find("declares lab.other@1, which none of its ports names"), std::string::npos) << refusal;
}

TEST(PortDescriptor_test, SchemaDocumentsThatAreNotJsonAreRefused) {
    Fixture sut({port(DHUB_PORT_INPUT, "in"), port(DHUB_PORT_OUTPUT, "out")});
    sut.component.schema_documents = not_json;
    EXPECT_NE(sut.refusal().find("schema_documents: not JSON ("), std::string::npos) << sut.refusal();
}

const char* an_object() {
    return R"({"name": "lab.frame"})";
}

TEST(PortDescriptor_test, SchemaDocumentsThatAreNotAnArrayAreRefused) {
    Fixture sut({port(DHUB_PORT_INPUT, "in"), port(DHUB_PORT_OUTPUT, "out")});
    sut.component.schema_documents = an_object;
    EXPECT_NE(sut.refusal().find("not a JSON array of schema documents"), std::string::npos) << sut.refusal();
}

}  // namespace
}  // namespace dhub::plugin
