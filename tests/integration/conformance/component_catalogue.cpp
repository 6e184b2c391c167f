// SPDX-License-Identifier: Apache-2.0
#include "component_catalogue.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "dhub/sdk/version.h"

#include "harness_runs.hpp"

namespace dhub::conformance {

using nlohmann::json;

const std::vector<RefusedPlugin>& refused_plugins() {
    static const std::vector<RefusedPlugin> refused = {
        {"test_abi_major", "built for SDK 2.0"},
        // One minor newer than the kernel's, whatever that is (tests/test_plugins/abi_minor.cpp).
        {"test_abi_minor",
         "built for SDK " + std::to_string(DHUB_SDK_VERSION_MAJOR) + "." + std::to_string(DHUB_SDK_VERSION_MINOR + 1)},
        {"test_no_entry", "does not export dhub_plugin_entry"},
        {"test_unresolved", "undefined symbol"},
        {"test_wrong_name", "does not match the file name"},
    };
    return refused;
}

const std::vector<ComponentFixture>& component_fixtures() {
    // Sim frames of 2 x 64 samples at 50 Hz: small, and paced so that a component fed by them spends its
    // time waiting for input, where a stop request must reach it.
    static const json paced_sim = {{"rate_hz", 50}, {"channels", 2}, {"samples_per_channel", 64}};
    static const std::string transport_far_end =
        "a transport needs its far end: tests/system/kernel/zmq_transport_test.cpp and kafka_transport_test.cpp run "
        "kernels at both ends";
#ifdef DHUB_CONFORMANCE_PYTHON_DIR
    // The python plugin's components run classes of python/conformance_classes.py, in the node's thread: process
    // isolation (their default) has its own tests, tests/system/python/test_python_stage.py.
    static const json python_setup = {{"path", DHUB_CONFORMANCE_PYTHON_DIR}};
    static const json in_thread = {{"isolation", "thread"}};
#endif
    static const std::vector<ComponentFixture> fixtures = {
        {"sim_source", "dhub.source.sim", json::object(), paced_sim, ""},
        {"replay", "dhub.source.replay", {{"path", "{recording}"}}, json::object(), ""},
        {"scale", "dhub.stage.scale", json::object(), json::object(), ""},
        {"decimate", "dhub.stage.decimate", json::object(), json::object(), ""},
        {"throttle", "dhub.stage.throttle", {{"max_rate_hz", 20}}, json::object(), ""},
        {"correlate", "dhub.stage.correlate", json::object(), json::object(), ""},
        {"fanout", "dhub.stage.tee", json::object(), json::object(), ""},
        {"fanout", "dhub.stage.demux", json::object(), json::object(), ""},
        {"recorder", "dhub.sink.recorder", {{"path", "{dir}/conformance.dhr"}}, json::object(), ""},
        {"stats", "dhub.sink.stats", json::object(), json::object(), ""},
        {"range_validator", "dhub.validator.range", json::object(), json::object(), ""},
        {"schema_validator", "dhub.validator.schema", json::object(), json::object(),
         "it checks slots against the channel's typed schema, and the feeder of a \"*\" input (dhub.source.sim) "
         "writes dhub.waveform.f64@1, an opaque id: its own tests give it typed schemas"},
        {"monotonic_timestamp", "dhub.validator.monotonic_timestamp", json::object(), json::object(), ""},
        {"zmq",
         "dhub.transport.zmq_send",
         {{"bind", "tcp://127.0.0.1:*"}},
         json::object(),
         "",
         json::object(),
         json::object(),
         transport_far_end},
        {"zmq",
         "dhub.transport.zmq_receive",
         {{"connect", "tcp://127.0.0.1:1"}},
         json::object(),
         "",
         json::object(),
         json::object(),
         transport_far_end},
        {"kafka",
         "dhub.transport.kafka_publish",
         {{"brokers", "127.0.0.1:1"}},
         json::object(),
         "",
         json::object(),
         json::object(),
         transport_far_end},
        {"kafka",
         "dhub.transport.kafka_consume",
         {{"brokers", "127.0.0.1:1"}},
         json::object(),
         "",
         json::object(),
         json::object(),
         transport_far_end},
#ifdef DHUB_CONFORMANCE_PYTHON_DIR
        {"python",
         "dhub.stage.python",
         {{"module", "conformance_classes"}, {"class", "Echo"}},
         json::object(),
         "",
         python_setup,
         in_thread},
        {"python",
         "dhub.sink.python",
         {{"module", "conformance_classes"}, {"class", "Checksum"}},
         json::object(),
         "",
         python_setup,
         in_thread},
        {"python",
         "dhub.source.python",
         {{"module", "conformance_classes"}, {"class", "Counter"}},
         json::object(),
         "",
         python_setup,
         in_thread},
#endif
        {"test_ticker", "test.source.ticker", json::object(), json::object(), ""},
        {"test_ticker", "test.stage.ticker_relay", json::object(), json::object(), ""},
        {"test_ticker", "test.sink.ticker", json::object(), json::object(), ""},
        {"test_readings", "test.source.readings", json::object(), {{"count", 1'000'000'000}}, ""},
        {"test_readings", "test.sink.readings", json::object(), json::object(), ""},
        {"test_frames", "test.source.counter_frames", json::object(), json::object(), ""},
        {"test_frames", "test.stage.copy_in_halves", json::object(), json::object(), ""},
        {"test_frames", "test.sink.whole_frames", json::object(), json::object(), ""},
        {"test_sdk10_source", "test.source.sdk10", json::object(), {{"count", 1'000'000'000}}, ""},
        {"test_failing", "test.stage.failing", json::object(), json::object(), ""},
        {"test_init_once", "test.source.init_once", json::object(), json::object(), ""},
        {"test_sum3", "test.stage.sum3", json::object(), json::object(), ""},
        {"test_thermo", "test.source.thermo1", json::object(), {{"count", 1'000'000'000}}, ""},
        {"test_thermo", "test.source.thermo2", json::object(), {{"count", 1'000'000'000}}, ""},
        {"test_thermo", "test.source.thermo3", json::object(), {{"count", 1'000'000'000}}, ""},
        {"test_thermo", "test.sink.thermo1", json::object(), json::object(), ""},
        {"test_gate", "test.source.tick_frames", json::object(), json::object(), ""},
        {"test_gate", "test.validator.every_nth", json::object(), json::object(), ""},
        {"test_gate", "test.validator.accept_all", json::object(), json::object(), ""},
        {"test_crash", "test.stage.crashy", json::object(), json::object(), ""},
        {"test_crash", "test.sink.sequence_check", json::object(), json::object(), ""},
        {"test_swappable", "test.stage.tick_copy", json::object(), json::object(), ""},
        {"test_swappable", "test.stage.tick_other", json::object(), json::object(), ""},
        {"test_throws", "test.source.throws", json::object(), json::object(),
         "it throws in its constructor, to test how the runtime reports a component that cannot be created"},
    };
    return fixtures;
}

const ComponentFixture& fixture_of(const std::string& component) {
    for (const ComponentFixture& fixture : component_fixtures()) {
        if (fixture.component == component) return fixture;
    }
    throw std::invalid_argument("no conformance fixture for component '" + component + "'");
}

std::vector<std::filesystem::path> plugin_directories() {
    return {DHUB_PLUGIN_DIR, DHUB_TEST_PLUGIN_DIR};
}

std::vector<std::filesystem::path> plugin_files() {
    std::vector<std::filesystem::path> files;
    for (const std::filesystem::path& directory : plugin_directories()) {
        for (const auto& entry : std::filesystem::directory_iterator(directory)) {
            const std::string name = entry.path().filename().string();
            if (name.rfind("dhub-", 0) == 0 && entry.path().extension() == ".so") files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

plugin::PluginLoader& loader() {
    static plugin::PluginLoader instance(plugin::make_search_path(plugin_directories(), {}));
    return instance;
}

namespace {

const plugin::LoadedPlugin& loaded(const ComponentFixture& fixture) {
    auto plugin = loader().load(fixture.plugin);
    if (!plugin) throw std::runtime_error(plugin.error().message);
    return *plugin.value();
}

}  // namespace

const plugin::ComponentInfo& info_of(const ComponentFixture& fixture) {
    for (const plugin::ComponentInfo& info : loaded(fixture).components) {
        if (info.id == fixture.component) return info;
    }
    throw std::runtime_error("plugin '" + fixture.plugin + "' has no component '" + fixture.component + "'");
}

const dhub_component_descriptor* descriptor_of(const ComponentFixture& fixture) {
    const dhub_component_descriptor* descriptor = loaded(fixture).descriptor_of(fixture.component);
    if (descriptor == nullptr) {
        throw std::runtime_error("plugin '" + fixture.plugin + "' has no component '" + fixture.component + "'");
    }
    return descriptor;
}

const ComponentFixture& feeder_for(const std::string& input_schema) {
    if (input_schema == "*") return fixture_of("dhub.source.sim");
    for (const ComponentFixture& fixture : component_fixtures()) {
        if (!fixture.refuses_create.empty()) continue;
        const plugin::ComponentInfo& info = info_of(fixture);
        const plugin::PortInfo* output = info.first_port(plugin::PortDirection::Output);
        if (info.kind == plugin::ComponentKind::Source && output != nullptr && output->schema == input_schema) {
            return fixture;
        }
    }
    throw std::runtime_error("no source in the conformance table writes schema '" + input_schema + "'");
}

namespace {

json filled(const json& value, const std::filesystem::path& dir) {
    if (value.is_object()) {
        json result = json::object();
        for (const auto& [key, item] : value.items())
            result[key] = filled(item, dir);
        return result;
    }
    if (!value.is_string()) return value;
    std::string text = value.get<std::string>();
    if (text == "{recording}") return make_waveform_recording(dir).string();
    if (const std::size_t at = text.find("{dir}"); at != std::string::npos) text.replace(at, 5, dir.string());
    return text;
}

}  // namespace

json node_params(const ComponentFixture& fixture, const std::filesystem::path& dir, bool feeding) {
    json params = fixture.required_params;
    params.update(fixture.setup_params);
    if (feeding) params.update(fixture.feeder_params);
    return filled(params, dir);
}

}  // namespace dhub::conformance
