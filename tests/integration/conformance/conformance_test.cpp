// SPDX-License-Identifier: Apache-2.0
// What every component must do, checked on every component of every plugin this build makes (built-in
// and test plugins alike; component_catalogue.cpp lists them and what each needs):
//   - its lifecycle runs twice in one process with the same result (no state outlives an instance), and
//     it keeps the host API's contract while doing so;
//   - its declared defaults are valid, and a node with only its required parameters is a valid node;
//   - the kernel refuses an unknown parameter, a value out of its declared range or enum, and a value of
//     the wrong type, naming the parameter's JSON path;
//   - in the real runtime, with a feeder and a drain on real channels, it stops within 100 ms of a stop
//     request, wherever it was waiting;
//   - where it has a burst handler, in bursts it gives the same output as slot by slot.
// The lifecycle and burst checks run in the SDK harness (virtual time, exact comparison); the parameter
// checks through the kernel's graph validator; the stop check through GraphRunner.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "component_catalogue.hpp"
#include "harness_runs.hpp"
#include "support/child_process.hpp"
#include "support/graph_under_test.hpp"
#include "support/temp_dir.hpp"

namespace dhub::conformance {

/// How gtest names a parameter in its messages.
void PrintTo(const ComponentFixture& fixture, std::ostream* out) {
    *out << fixture.component;
}

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using plugin::ComponentKind;
using plugin::ParamSpec;
using plugin::ParamType;

constexpr auto STOP_LIMIT = 100ms;

std::string name_of(const std::filesystem::path& file) {
    return file.stem().string().substr(std::string("dhub-").size());
}

const RefusedPlugin* refused(const std::string& plugin) {
    for (const RefusedPlugin& entry : refused_plugins()) {
        if (entry.plugin == plugin) return &entry;
    }
    return nullptr;
}

// ---- The catalogue against the build ----

TEST(ConformanceCatalogue_test, EveryPluginFileLoadsOrIsRefusedForTheReasonListed) {
    std::set<std::string> seen;
    for (const std::filesystem::path& file : plugin_files()) {
        const std::string plugin = name_of(file);
        seen.insert(plugin);
        auto loaded = loader().load_file(file);
        if (const RefusedPlugin* expected = refused(plugin)) {
            ASSERT_FALSE(loaded) << file << " is listed as refused but loads";
            EXPECT_NE(loaded.error().message.find(expected->refusal), std::string::npos)
                << file << ": " << loaded.error().message;
            continue;
        }
        ASSERT_TRUE(loaded) << loaded.error().message;
        for (const plugin::ComponentInfo& component : loaded.value()->components) {
            const auto fixture = std::find_if(component_fixtures().begin(), component_fixtures().end(),
                                              [&](const ComponentFixture& f) { return f.component == component.id; });
            ASSERT_NE(fixture, component_fixtures().end())
                << "component " << component.id << " of " << file
                << " is not in the conformance table: add it to component_catalogue.cpp";
            EXPECT_EQ(fixture->plugin, plugin) << component.id;
        }
    }
    for (const RefusedPlugin& entry : refused_plugins())
        EXPECT_TRUE(seen.count(entry.plugin)) << "refused plugin " << entry.plugin << " was not built";
    for (const ComponentFixture& fixture : component_fixtures())
        EXPECT_TRUE(seen.count(fixture.plugin)) << "plugin " << fixture.plugin << " was not built";
}

TEST(ConformanceCatalogue_test, EveryFixtureGivesExactlyTheParametersDeclaredWithoutADefault) {
    for (const ComponentFixture& fixture : component_fixtures()) {
        std::set<std::string> required;
        for (const ParamSpec& spec : info_of(fixture).params) {
            if (spec.default_value.is_null()) required.insert(spec.name);
        }
        std::set<std::string> given;
        for (const auto& [name, value] : fixture.required_params.items())
            given.insert(name);
        EXPECT_EQ(given, required) << fixture.component;
    }
}

// ---- Every component ----

class Conformance_test : public ::testing::TestWithParam<ComponentFixture> {
protected:
    const ComponentFixture& fixture() const { return GetParam(); }
    const plugin::ComponentInfo& info() const { return info_of(fixture()); }
    const plugin::PortInfo* input_port() const { return info().first_port(plugin::PortDirection::Input); }
    const plugin::PortInfo* output_port() const { return info().first_port(plugin::PortDirection::Output); }
    bool has_input() const { return input_port() != nullptr; }

    std::vector<Frame> inputs() const {
        return has_input() ? input_frames(input_port()->schema, dir_.path()) : std::vector<Frame>{};
    }

    /// How many channels the graph binds to a port: one, two for a "many" port, none for an optional one.
    static std::size_t channels_for(const plugin::PortInfo& port) { return port.optional ? 0 : port.many ? 2 : 1; }
    std::size_t feeder_count() const {
        std::size_t count = 0;
        for (const plugin::PortInfo* port : info().ports_of(plugin::PortDirection::Input))
            count += channels_for(*port);
        return count;
    }

    /// The component as node "dut": each input channel fed by the feeder of its port's schema ("in", "in1",
    /// ...), each output channel drained by dhub.sink.stats ("out", "out1", ...). A single-port component's
    /// ports are bound in the list form, a component that declares its ports by name.
    json graph(const json& extra_params = json::object()) const {
        std::uint64_t slot_bytes = SLOT_BYTES;
        for (const plugin::PortInfo& port : info().ports)
            slot_bytes = std::max(slot_bytes, port.min_slot_bytes);
        json channels = json::array();
        json nodes = json::array();
        json dut = {{"id", "dut"}, {"plugin", fixture().plugin}, {"component", fixture().component}};
        json params = node_params(fixture(), dir_.path());
        if (!extra_params.is_null()) params.update(extra_params);
        dut["params"] = params;
        json drains = json::array();
        const auto bind = [&](plugin::PortDirection direction, const char* key, const char* stem) {
            json by_port = json::object();
            json listed = json::array();
            std::size_t made = 0;
            for (const plugin::PortInfo* port : info().ports_of(direction)) {
                json names = json::array();
                for (std::size_t i = 0; i < channels_for(*port); ++i, ++made) {
                    const std::string name = std::string(stem) + (made == 0 ? "" : std::to_string(made));
                    channels.push_back({{"name", name}, {"slot_bytes", slot_bytes}, {"slot_count", 8}});
                    names.push_back(name);
                    listed.push_back(name);
                    if (direction == plugin::PortDirection::Input) {
                        const ComponentFixture& feeder = feeder_for(port->schema);
                        nodes.push_back({{"id", "feeder" + std::to_string(made)},
                                         {"plugin", feeder.plugin},
                                         {"component", feeder.component},
                                         {"params", node_params(feeder, dir_.path(), true)},
                                         {"outputs", {name}}});
                    } else {
                        drains.push_back(
                            {{"id", "drain" + std::to_string(made)}, {"plugin", "stats"}, {"inputs", {name}}});
                    }
                }
                if (!names.empty()) by_port[port->name] = port->many ? names : names[0];
            }
            if (made > 0) dut[key] = info().declares_ports ? by_port : listed;
        };
        bind(plugin::PortDirection::Input, "inputs", "in");
        bind(plugin::PortDirection::Output, "outputs", "out");
        dut.update(fixture().node_keys);
        nodes.push_back(dut);
        for (const json& drain : drains)
            nodes.push_back(drain);
        return {{"schema_version", 1}, {"name", "conformance"}, {"channels", channels}, {"nodes", nodes}};
    }
    /// The JSON path of one of dut's parameters, as the validator names it.
    std::string param_path(const std::string& name) const {
        return "/nodes/" + std::to_string(feeder_count()) + "/params/" + name;
    }
    /// The SDK harness drives one input and one output: components with several ports (process_ports) run in
    /// the kernel only, here and in tests/integration/runtime/ports_test.cpp.
    bool harness_can_drive() const { return !info().multi_port(); }
    /// What `dhub-kernel --validate` says of the graph (components with parameters per node are asked for them).
    std::string problems_with(const json& extra_params) const {
        return testing::GraphUnderTest(graph(extra_params).dump(), plugin_directories(), plugin::NodeParams::Ask)
            .problems();
    }

    testing::TempDir dir_{"dhub-conformance"};
};

TEST_P(Conformance_test, RunsItsLifecycleTwiceWithTheSameResultAndKeepsTheHostContract) {
    if (!harness_can_drive()) GTEST_SKIP() << fixture().component << " has several ports: the harness drives one";
    if (!fixture().far_end.empty()) GTEST_SKIP() << fixture().far_end;
    const std::vector<Frame> fed = inputs();
    const RunOutcome first = run_lifecycle(fixture(), fed, dir_.path());
    const RunOutcome second = run_lifecycle(fixture(), fed, dir_.path());
    if (!fixture().refuses_create.empty()) {
        EXPECT_NE(first.created, DHUB_OK) << fixture().refuses_create;
    } else {
        ASSERT_EQ(first.created, DHUB_OK) << dhub_status_name(first.created);
        ASSERT_EQ(first.started, DHUB_OK) << dhub_status_name(first.started);
        ASSERT_FALSE(first.calls.empty());
        if (info().kind == ComponentKind::Source) {
            EXPECT_FALSE(first.outputs.empty()) << "a source that publishes nothing";
        }
    }
    EXPECT_EQ(first.violations, std::vector<std::string>{});
    EXPECT_EQ(second.violations, std::vector<std::string>{});
    EXPECT_EQ(first_difference(first, second), "");
}

TEST_P(Conformance_test, DeclaresValidDefaultsAndANodeWithOnlyItsRequiredParametersIsValid) {
    for (const ParamSpec& spec : info().params) {
        if (spec.default_value.is_null()) continue;
        EXPECT_EQ(plugin::check_param_value(spec, spec.default_value), std::nullopt)
            << "the default of " << spec.name << " is not a valid value of it";
    }
    EXPECT_EQ(problems_with(json::object()), "");
}

TEST_P(Conformance_test, AnUnknownParameterIsRefusedWithItsPath) {
    const std::string problems = problems_with({{"conformance_unknown", 1}});
    // "unknown parameter ...; declared parameters: ..." or "... takes no parameters; remove it"
    EXPECT_NE(problems.find(param_path("conformance_unknown") + ": "), std::string::npos) << problems;
}

/// Values just outside what spec allows: beyond each bound, and a string not in its enum.
std::vector<json> out_of_range_values(const ParamSpec& spec) {
    std::vector<json> values;
    const auto step = [&](double bound) {
        return spec.type == ParamType::Integer ? 1.0 : std::max(1.0, std::abs(bound));
    };
    const auto typed = [&](double value) {
        return spec.type == ParamType::Integer ? json(static_cast<std::int64_t>(value)) : json(value);
    };
    if (spec.max) values.push_back(typed(*spec.max + step(*spec.max)));
    if (spec.min) values.push_back(typed(*spec.min - step(*spec.min)));
    if (!spec.enum_values.empty()) values.emplace_back("conformance-not-a-choice");
    return values;
}

TEST_P(Conformance_test, AValueOutOfItsRangeOrEnumIsRefusedWithItsPath) {
    std::size_t checked = 0;
    for (const ParamSpec& spec : info().params) {
        for (const json& value : out_of_range_values(spec)) {
            ++checked;
            const std::string problems = problems_with({{spec.name, value}});
            EXPECT_NE(problems.find(param_path(spec.name) + ": invalid value"), std::string::npos)
                << spec.name << " = " << value.dump() << ":\n"
                << problems;
        }
    }
    if (checked == 0) GTEST_SKIP() << fixture().component << " declares no range or enum";
}

/// Values of a type spec does not take.
std::vector<json> wrong_type_values(const ParamSpec& spec) {
    switch (spec.type) {
        case ParamType::Number:
            return {"conformance", true};
        case ParamType::Integer:
            return {"conformance", 1.5};
        case ParamType::Boolean:
            return {"true", 1};
        case ParamType::String:
        case ParamType::Path:
            return {42, false};
    }
    return {};
}

TEST_P(Conformance_test, AValueOfTheWrongTypeIsRefusedWithItsPath) {
    if (info().params.empty()) GTEST_SKIP() << fixture().component << " declares no parameter";
    for (const ParamSpec& spec : info().params) {
        for (const json& value : wrong_type_values(spec)) {
            const std::string problems = problems_with({{spec.name, value}});
            EXPECT_NE(problems.find(param_path(spec.name) + ": invalid value"), std::string::npos)
                << spec.name << " (" << plugin::to_string(spec.type) << ") = " << value.dump() << ":\n"
                << problems;
        }
    }
}

TEST_P(Conformance_test, StopsWithin100MillisecondsOfAStopRequestInTheRuntime) {
    if (!fixture().far_end.empty()) GTEST_SKIP() << fixture().far_end;
    testing::GraphUnderTest graph_under_test(graph().dump(), plugin_directories());
    ASSERT_EQ(graph_under_test.problems(), "");
    auto created = graph_under_test.runner();
    if (!fixture().refuses_create.empty()) {
        ASSERT_FALSE(created) << fixture().refuses_create;
        EXPECT_NE(created.error().error.message.find("dut"), std::string::npos) << created.error().error.message;
        return;
    }
    ASSERT_TRUE(created) << created.error().error.message;
    runtime::GraphRunner& runner = *created.value();
    runner.start();
    // Running and in steady state: it has moved a slot (or failed one), then waits for its next one.
    ASSERT_TRUE(testing::wait_until([&] {
        const runtime::NodeReport report = testing::report_of(runner.reports(), "dut");
        return report.slots_in + report.slots_out + report.errors + report.skipped + report.rejected > 0 ||
               report.end_reason != runtime::EndReason::Running;
    }));
    std::this_thread::sleep_for(20ms);
    const auto asked = std::chrono::steady_clock::now();
    runner.request_stop();
    (void)runner.wait();
    const auto took = std::chrono::steady_clock::now() - asked;
    EXPECT_LT(took, STOP_LIMIT) << fixture().component << " took "
                                << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

TEST_P(Conformance_test, InBurstsGivesTheSameOutputAsSlotBySlot) {
    if (descriptor_of(fixture())->process_burst == nullptr)
        GTEST_SKIP() << fixture().component << " has no burst handler";
    const std::vector<Frame> fed = inputs();
    const RunOutcome per_slot = run_lifecycle(fixture(), fed, dir_.path(), Delivery::PerSlot, Pace::Behind);
    const RunOutcome in_bursts = run_lifecycle(fixture(), fed, dir_.path(), Delivery::Burst, Pace::Behind);
    ASSERT_EQ(in_bursts.created, DHUB_OK);
    EXPECT_LT(in_bursts.calls.size(), per_slot.calls.size()) << "the burst handler was not used";
    EXPECT_EQ(in_bursts.violations, std::vector<std::string>{});
    EXPECT_EQ(first_difference(per_slot, in_bursts, false), "");
}

std::string test_name(const ::testing::TestParamInfo<ComponentFixture>& info) {
    std::string name = info.param.component;
    std::replace(name.begin(), name.end(), '.', '_');
    return name;
}

INSTANTIATE_TEST_SUITE_P(EveryComponent, Conformance_test, ::testing::ValuesIn(component_fixtures()), test_name);

}  // namespace
}  // namespace dhub::conformance
