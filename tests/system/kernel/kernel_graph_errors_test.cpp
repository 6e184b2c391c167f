// SPDX-License-Identifier: Apache-2.0
// dhub-kernel refuses bad graphs and bad plugins before anything runs, naming every problem.
#include <gtest/gtest.h>

#include <fstream>
#include "dhub/base/exit_code.hpp"
#include "dhub/sdk/version.h"

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

constexpr int EXIT_INVALID_GRAPH = to_int(ExitCode::InvalidInput);
constexpr int EXIT_PLUGIN_ERROR = to_int(ExitCode::PluginError);

bool mentions(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

json ticker_source(const std::string& id, const std::string& output) {
    return {{"id", id}, {"plugin", "test_ticker"}, {"component", "test.source.ticker"}, {"outputs", {output}}};
}

TEST(KernelGraphErrors, EveryProblemIsReportedAtOnceWithItsJsonPath) {
    TempDir dir;
    json source = ticker_source("src", "a");
    source["params"] = {{"count", -1}, {"speed", 3}};
    const json graph = {
        {"schema_version", 1},
        {"channels",
         {{{"name", "a"}, {"slot_bytes", 64}},
          {{"name", "w"}, {"slot_bytes", 8192}},
          {{"name", "c"}, {"slot_bytes", 8192}},
          {{"name", "d"}, {"slot_bytes", 8192}}}},
        {"nodes",
         {source,
          ticker_source("src2", "a"),
          {{"id", "sink"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"inputs", {"nowhere"}}},
          {{"id", "waveform_stage"}, {"plugin", "scale"}, {"inputs", {"a"}}, {"outputs", {"w"}}},
          {{"id", "x"}, {"plugin", "decimate"}, {"inputs", {"c"}}, {"outputs", {"d"}}},
          {{"id", "y"}, {"plugin", "decimate"}, {"inputs", {"d"}}, {"outputs", {"c"}}}}},
    };
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {"--validate"});

    EXPECT_EQ(run.status.code, EXIT_INVALID_GRAPH) << run.output;
    EXPECT_TRUE(mentions(run.output, "/nodes/0/params/count")) << run.output;  // out of range
    EXPECT_TRUE(mentions(run.output, "/nodes/0/params/speed")) << run.output;  // unknown parameter
    EXPECT_TRUE(mentions(run.output, "src2")) << run.output;                   // second producer of "a"
    EXPECT_TRUE(mentions(run.output, "/nodes/2/inputs/0")) << run.output;      // no channel "nowhere"
    EXPECT_TRUE(mentions(run.output, "test.tick@1")) << run.output;            // schema mismatch ...
    EXPECT_TRUE(mentions(run.output, "dhub.waveform.f64@1")) << run.output;    // ... naming both schemas
    EXPECT_TRUE(mentions(run.output, "cycle")) << run.output;                  // x -> y -> x
}

// Problems the parser finds (unknown keys, bad policy names, wrong types) and problems only the plugins can
// reveal (parameters, wiring, schemas) come out of the same run.
TEST(KernelGraphErrors, ShapeProblemsDoNotHideTheOthers) {
    TempDir dir;
    json source = ticker_source("src", "a");
    source["params"] = {{"count", -1}};  // out of range: needs the plugin's declaration
    source["colour"] = "blue";           // unknown key: the parser's
    const json graph = {
        {"schema_version", 1},
        {"channels",
         {{{"name", "a"}, {"slot_bytes", 64}, {"ring", "circular"}},  // bad policy name: the parser's
          {{"name", "w"}, {"slot_bytes", 8192}}}},
        {"nodes",
         {source,
          {{"id", "sink"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"inputs", {"nowhere"}}},
          {{"id", "waveform_stage"}, {"plugin", "scale"}, {"inputs", {"a"}}, {"outputs", {"w"}}},
          {{"id", "cam"}, {"plugin", "no_such_camera"}, {"outputs", {"w"}}}}},
    };
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {"--validate"});
    EXPECT_EQ(run.status.code, EXIT_INVALID_GRAPH) << run.output;  // not 3: the document has problems too
    EXPECT_TRUE(mentions(run.output, "/nodes/0/colour")) << run.output;
    EXPECT_TRUE(mentions(run.output, "/channels/0/ring")) << run.output;
    EXPECT_TRUE(mentions(run.output, "/nodes/0/params/count")) << run.output;
    EXPECT_TRUE(mentions(run.output, "/nodes/1/inputs/0")) << run.output;
    EXPECT_TRUE(mentions(run.output, "dhub.waveform.f64@1")) << run.output;
    EXPECT_TRUE(mentions(run.output, "/nodes/3/plugin")) << run.output;
    EXPECT_TRUE(mentions(run.output, "checked once it loads")) << run.output;  // says what it skipped
}

TEST(KernelGraphErrors, WithoutAChannelListTheSkippedChecksAreNamed) {
    TempDir dir;
    const json graph = {{"schema_version", 1}, {"chanels", json::array()}, {"nodes", {ticker_source("src", "a")}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {"--validate"});
    EXPECT_EQ(run.status.code, EXIT_INVALID_GRAPH) << run.output;
    EXPECT_TRUE(mentions(run.output, "did you mean \"channels\"")) << run.output;
    EXPECT_TRUE(mentions(run.output, "skipped")) << run.output;
    EXPECT_FALSE(mentions(run.output, "/nodes/0/outputs/0")) << run.output;  // not repeated per port
}

TEST(KernelGraphErrors, MalformedJsonIsReportedWithLineAndColumn) {
    TempDir dir;
    const auto path = dir / "broken.json";
    std::ofstream(path) << "{\n  \"schema_version\": 1,\n  \"nodes\": [ oops ]\n}\n";
    const KernelRun run = run_kernel(dir, path, {"--validate"});
    EXPECT_EQ(run.status.code, EXIT_INVALID_GRAPH) << run.output;
    EXPECT_TRUE(mentions(run.output, "broken.json")) << run.output;
    EXPECT_TRUE(mentions(run.output, "line 3")) << run.output;
}

TEST(KernelGraphErrors, MissingGraphFileIsNamed) {
    TempDir dir;
    const KernelRun run = run_kernel(dir, dir / "nope.json", {"--validate"});
    EXPECT_EQ(run.status.code, EXIT_INVALID_GRAPH) << run.output;
    EXPECT_TRUE(mentions(run.output, "nope.json")) << run.output;
}

TEST(KernelGraphErrors, MissingPluginNamesTheNodeTheFileAndTheSearchPath) {
    TempDir dir;
    const json graph = {{"schema_version", 1},
                        {"channels", {{{"name", "a"}, {"slot_bytes", 64}}}},
                        {"nodes", {{{"id", "cam"}, {"plugin", "no_such_camera"}, {"outputs", {"a"}}}}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph), {"--validate"});
    EXPECT_EQ(run.status.code, EXIT_PLUGIN_ERROR) << run.output;  // the graph itself is fine
    EXPECT_TRUE(mentions(run.output, "/nodes/0/plugin")) << run.output;
    EXPECT_TRUE(mentions(run.output, "dhub-no_such_camera.so")) << run.output;
    EXPECT_TRUE(mentions(run.output, DHUB_TEST_PLUGIN_DIR)) << run.output;
}

TEST(KernelGraphErrors, PluginBuiltForAnotherSdkMajorIsRefusedNamingBothVersionsAndTheFile) {
    TempDir dir;
    const json graph = {{"schema_version", 1},
                        {"channels", {{{"name", "a"}, {"slot_bytes", 64}}}},
                        {"nodes", {{{"id", "old"}, {"plugin", "test_abi_major"}, {"outputs", {"a"}}}}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    EXPECT_EQ(run.status.code, EXIT_PLUGIN_ERROR) << run.output;
    EXPECT_TRUE(mentions(run.output, "dhub-test_abi_major.so")) << run.output;
    EXPECT_TRUE(mentions(run.output, "SDK " + std::to_string(DHUB_SDK_VERSION_MAJOR + 1) + ".0")) << run.output;
    EXPECT_TRUE(mentions(
        run.output, "SDK " + std::to_string(DHUB_SDK_VERSION_MAJOR) + "." + std::to_string(DHUB_SDK_VERSION_MINOR)))
        << run.output;
}

TEST(KernelGraphErrors, NodeWhoseConstructorThrowsFailsCleanlyNamingNodeAndFile) {
    TempDir dir;
    const json graph = {{"schema_version", 1},
                        {"name", "throwing"},
                        {"channels", {{{"name", "a"}, {"slot_bytes", 64}}}},
                        {"nodes",
                         {{{"id", "camera0"}, {"plugin", "test_throws"}, {"outputs", {"a"}}},
                          {{"id", "sink"}, {"plugin", "stats"}, {"inputs", {"a"}}}}}};
    const KernelRun run = run_kernel(dir, write_graph(dir, graph));
    EXPECT_EQ(run.status.code, EXIT_PLUGIN_ERROR) << run.output;
    EXPECT_FALSE(run.status.signalled) << run.output;
    EXPECT_TRUE(mentions(run.output, "camera0")) << run.output;
    EXPECT_TRUE(mentions(run.output, "dhub-test_throws.so")) << run.output;
    EXPECT_TRUE(mentions(run.output, "device /dev/imaginary0 not found")) << run.output;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
        EXPECT_FALSE(mentions(entry.path().filename().string(), "throwing-"))
            << "segment left behind: " << entry.path();
    }
}

/// A ticker source and sink on one 64-byte channel "ticks" (test.tick@1), with these "schemas".
nlohmann::json ticker_graph_with_schemas(const nlohmann::json& schemas) {
    return {{"schema_version", 1},
            {"schemas", schemas},
            {"channels", {{{"name", "ticks"}, {"slot_bytes", 64}}}},
            {"nodes",
             {{{"id", "tick"}, {"plugin", "test_ticker"}, {"component", "test.source.ticker"}, {"outputs", {"ticks"}}},
              {{"id", "check"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"inputs", {"ticks"}}}}}};
}

/// The path of a schema file shipped in configs/schemas.
std::string shipped_schema(const std::string& id) {
    return (std::filesystem::path(DHUB_CONFIG_DIR) / "schemas" / (id + ".json")).string();
}

TEST(KernelGraphErrors, ValidateReportsEverySchemaProblemAtItsPath) {
    TempDir dir;
    // test.tick@1 declared as 128 bytes on a 64-byte channel, a schema file shipped in configs/schemas, and
    // a broken inline schema: all three reach the user in one run of --validate.
    const nlohmann::json graph = ticker_graph_with_schemas(
        {{{"name", "test.tick"}, {"version", 1}, {"fields", {{{"name", "values"}, {"dtype", "<u8"}, {"shape", {16}}}}}},
         shipped_schema("lab.thermo@1"),
         {{"name", "lab.broken"}, {"version", 1}, {"fields", {{{"name", "x"}, {"dtype", "=f8"}}}}}});
    const KernelRun run =
        run_kernel(dir, write_graph(dir, graph), {"--validate", "--plugin-path", DHUB_TEST_PLUGIN_DIR});
    EXPECT_EQ(run.status.code, EXIT_INVALID_GRAPH) << run.output;
    EXPECT_TRUE(mentions(run.output, "/schemas/2/fields/0/dtype: dtype \"=f8\"")) << run.output;
    EXPECT_TRUE(mentions(run.output,
                         "/channels/0/slot_bytes: slot_bytes 64 is smaller than the 128 bytes of schema "
                         "test.tick@1"))
        << run.output;
    EXPECT_FALSE(mentions(run.output, "/schemas/1")) << "the shipped schema file is valid: " << run.output;
}

TEST(KernelCommandLine, ListSchemasPrintsEachDeclaredSchemaWithItsFingerprintFieldsAndChannels) {
    TempDir dir;
    const nlohmann::json graph = ticker_graph_with_schemas({{{"name", "test.tick"},
                                                             {"version", 1},
                                                             {"doc", "one counter value"},
                                                             {"fields", {{{"name", "value"}, {"dtype", "<u8"}}}}},
                                                            shipped_schema("lab.thermo@1")});
    const KernelRun run =
        run_kernel(dir, write_graph(dir, graph), {"--list-schemas", "--plugin-path", DHUB_TEST_PLUGIN_DIR});
    EXPECT_EQ(run.status.code, 0) << run.output;
    EXPECT_TRUE(mentions(run.output, "test.tick@1  dhs1_")) << run.output;
    EXPECT_TRUE(mentions(run.output, "struct, 8 bytes, align 8; channels: ticks")) << run.output;
    EXPECT_TRUE(mentions(run.output, "one counter value")) << run.output;
    EXPECT_TRUE(mentions(run.output, "lab.thermo@1  dhs1_")) << run.output;
    EXPECT_TRUE(mentions(run.output, "struct, 48 bytes, align 8; channels: none")) << run.output;
    EXPECT_TRUE(mentions(run.output, "celsius")) << run.output;
    EXPECT_EQ(count_events(dir, "graph_started"), 0u) << "it must not run the graph";
}

TEST(KernelGraphErrors, EveryShippedGraphValidatesAgainstTheBuiltPlugins) {
    std::size_t graphs = 0;
    for (const auto& entry : std::filesystem::directory_iterator(DHUB_CONFIG_DIR)) {
        if (entry.path().extension() != ".json") continue;
        ++graphs;
        TempDir dir;
        const KernelRun run = run_kernel(dir, entry.path(), {"--validate", "--plugin-path", DHUB_PLUGIN_DIR});
        EXPECT_EQ(run.status.code, 0) << entry.path() << ": " << run.output;
    }
    EXPECT_GE(graphs, 6u) << "configs/ lost its graphs";
}

TEST(KernelCommandLine, DescribeShowsComponentsParametersTypesDefaultsAndDocs) {
    TempDir dir;
    auto kernel = ChildProcess::spawn(DHUB_KERNEL, {"--plugin-path", DHUB_TEST_PLUGIN_DIR, "--describe", "test_ticker"},
                                      (dir / "out.txt").string());
    const ExitStatus status = kernel.wait();
    const std::string output = read_text_file((dir / "out.txt").string());
    EXPECT_EQ(status.code, 0) << output;
    EXPECT_TRUE(mentions(output, "test.source.ticker v3")) << output;
    EXPECT_TRUE(mentions(output, "count (integer)")) << output;
    EXPECT_TRUE(mentions(output, "default 0")) << output;
    EXPECT_TRUE(mentions(output, "stop after this many")) << output;
    EXPECT_TRUE(mentions(output, "test.tick@1")) << output;
}

TEST(KernelCommandLine, DescribePrintsIntegerRangesAsIntegers) {
    TempDir dir;
    auto kernel = ChildProcess::spawn(DHUB_KERNEL, {"--plugin-path", DHUB_PLUGIN_DIR, "--describe", "sim_source"},
                                      (dir / "out.txt").string());
    const ExitStatus status = kernel.wait();
    const std::string output = read_text_file((dir / "out.txt").string());
    EXPECT_EQ(status.code, 0) << output;
    EXPECT_TRUE(mentions(output, "range [1, 1024]")) << output;     // channels: an integer
    EXPECT_TRUE(mentions(output, "range [1, 1000000]")) << output;  // samples_per_channel
    EXPECT_FALSE(mentions(output, "1024.0")) << output;
    EXPECT_TRUE(mentions(output, "range [0.001, 1000000.0]")) << output;  // rate_hz: a number
}

TEST(KernelCommandLine, ListPluginsReportsLoadableAndBrokenPlugins) {
    TempDir dir;
    auto kernel = ChildProcess::spawn(DHUB_KERNEL, {"--plugin-path", DHUB_TEST_PLUGIN_DIR, "--list-plugins"},
                                      (dir / "out.txt").string());
    const ExitStatus status = kernel.wait();
    const std::string output = read_text_file((dir / "out.txt").string());
    EXPECT_EQ(status.code, EXIT_PLUGIN_ERROR) << output;  // the deliberately broken ones
    EXPECT_TRUE(mentions(output, "test_ticker 3.1.4")) << output;
    EXPECT_TRUE(mentions(output, "test_abi_major  CANNOT BE LOADED")) << output;
}

TEST(KernelCommandLine, UsageErrorsExitWith2) {
    TempDir dir;
    auto kernel = ChildProcess::spawn(DHUB_KERNEL, {"--no-such-option"}, (dir / "out.txt").string());
    EXPECT_EQ(kernel.wait().code, 2);
    auto no_graph = ChildProcess::spawn(DHUB_KERNEL, {}, (dir / "out.txt").string());
    EXPECT_EQ(no_graph.wait().code, 2);
}

}  // namespace
}  // namespace dhub::testing
