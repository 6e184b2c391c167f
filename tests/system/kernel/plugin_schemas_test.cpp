// SPDX-License-Identifier: Apache-2.0
// Typed schemas a plugin declares for its ports (SDK 1.2, dhub/sdk/struct_schema.hpp), with no "schemas" in the
// graph: the evolution rule at load lets a lab.thermo@1 sink read a lab.thermo@2 source and refuses @3 naming the
// field; --list-schemas and --describe show them; a graph that declares the same id differently is refused.
#include <gtest/gtest.h>

#include <string>

#include "dhub/base/exit_code.hpp"
#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

constexpr int EXIT_INVALID_GRAPH = to_int(ExitCode::InvalidInput);

bool mentions(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

constexpr std::uint64_t READINGS = 2000;

/// thermo (a lab.thermo@`version` source) -> readings -> check (the lab.thermo@1 sink); no declared schemas.
json thermo_graph(int version) {
    return {
        {"schema_version", 1},
        {"name", "thermo"},
        {"channels", {{{"name", "readings"}, {"slot_bytes", 64}, {"sync", "every_reader"}}}},
        {"nodes",
         {{{"id", "thermo"},
           {"plugin", "test_thermo"},
           {"component", "test.source.thermo" + std::to_string(version)},
           {"params", {{"count", READINGS}}},
           {"outputs", {"readings"}}},
          {{"id", "check"}, {"plugin", "test_thermo"}, {"component", "test.sink.thermo1"}, {"inputs", {"readings"}}}}}};
}

TEST(PluginSchemas, AVersion1SinkReadsAVersion2SourceByTheSchemasThePluginDeclares) {
    TempDir dir;
    const KernelRun run = run_kernel(dir, write_graph(dir, thermo_graph(2)), {"--plugin-path", DHUB_TEST_PLUGIN_DIR});
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_EQ(run.node("check")["handled"].get<std::uint64_t>(), READINGS) << run.report.dump();
    EXPECT_EQ(run.node("check")["errors"], 0) << run.output;
}

TEST(PluginSchemas, AVersion3SourceIsRefusedAtLoadNamingTheFieldThatChanged) {
    TempDir dir;
    const KernelRun run =
        run_kernel(dir, write_graph(dir, thermo_graph(3)), {"--validate", "--plugin-path", DHUB_TEST_PLUGIN_DIR});
    EXPECT_EQ(run.status.code, EXIT_INVALID_GRAPH) << run.output;
    EXPECT_TRUE(mentions(run.output, "/nodes/1/inputs/0")) << run.output;
    EXPECT_TRUE(mentions(run.output, "slots of lab.thermo@3 cannot be read as lab.thermo@1")) << run.output;
    EXPECT_TRUE(mentions(run.output, "\"celsius\" <f4")) << run.output;
}

TEST(PluginSchemas, ListSchemasShowsWhichPluginDeclaresEachSchemaAndItsFields) {
    TempDir dir;
    const KernelRun run =
        run_kernel(dir, write_graph(dir, thermo_graph(2)), {"--list-schemas", "--plugin-path", DHUB_TEST_PLUGIN_DIR});
    EXPECT_EQ(run.status.code, 0) << run.output;
    EXPECT_TRUE(mentions(run.output, "lab.thermo@2  dhs1_")) << run.output;
    EXPECT_TRUE(mentions(run.output,
                         "struct, 56 bytes, align 8; channels: readings; declared by plugin test_thermo (component "
                         "test.source.thermo2)"))
        << run.output;
    EXPECT_TRUE(mentions(run.output, "humidity")) << run.output;
    EXPECT_TRUE(mentions(run.output, "lab.thermo@1  dhs1_")) << run.output;
}

TEST(PluginSchemas, DescribeShowsThePortsTypedSchema) {
    TempDir dir;
    auto kernel = ChildProcess::spawn(DHUB_KERNEL, {"--plugin-path", DHUB_TEST_PLUGIN_DIR, "--describe", "test_thermo"},
                                      (dir / "out.txt").string());
    const ExitStatus status = kernel.wait();
    const std::string output = read_text_file((dir / "out.txt").string());
    EXPECT_TRUE(status.exited && status.code == 0) << output;
    EXPECT_TRUE(mentions(output, "output out: lab.thermo@2")) << output;
    EXPECT_TRUE(mentions(output, "struct, 56 bytes, align 8")) << output;
    EXPECT_TRUE(mentions(output, "humidity")) << output;
}

TEST(PluginSchemas, AGraphThatDeclaresThePluginsSchemaIdDifferentlyIsRefused) {
    TempDir dir;
    json graph = thermo_graph(2);
    graph["schemas"] = {{{"name", "lab.thermo"},
                         {"version", 2},
                         {"fields",
                          {{{"name", "timestamp_ns"}, {"dtype", "<u8"}},
                           {{"name", "box_id"}, {"dtype", "<u4"}},
                           {{"name", "celsius"}, {"dtype", "<f8"}, {"shape", {4}}},
                           {{"name", "humidity"}, {"dtype", "<f4"}}}}}};
    const KernelRun run =
        run_kernel(dir, write_graph(dir, graph), {"--validate", "--plugin-path", DHUB_TEST_PLUGIN_DIR});
    EXPECT_EQ(run.status.code, EXIT_INVALID_GRAPH) << run.output;
    EXPECT_TRUE(mentions(run.output, "/nodes/0/plugin")) << run.output;
    EXPECT_TRUE(mentions(run.output,
                         "plugin test_thermo (component test.source.thermo2) declares lab.thermo@2 unlike "
                         "graph"))
        << run.output;
}

}  // namespace
}  // namespace dhub::testing
