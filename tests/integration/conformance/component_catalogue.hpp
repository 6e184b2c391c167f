// SPDX-License-Identifier: Apache-2.0
// Which components the conformance suite runs, and what each needs to run: every component of every
// plugin file this build makes (built-in plugins and test plugins), loaded once with the kernel's own
// loader. The table is data, checked against the files: a plugin that appears in the build without an
// entry here fails the suite (ConformanceCatalogue_test), so nothing escapes it by being new.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/plugin/plugin_loader.hpp"
#include "dhub/sdk/abi.h"

namespace dhub::conformance {

/// A plugin file that exists to be refused by the loader (the loader's error paths are tested with it),
/// and the words its refusal must contain.
struct RefusedPlugin {
    std::string plugin;
    std::string refusal;  ///< a fragment of the loader's error message
};

/// One component of the suite and what a node of it needs.
struct ComponentFixture {
    std::string plugin;
    std::string component;
    /// Exactly the parameters it declares without a default. In strings, "{dir}" is the test's temp
    /// directory and "{recording}" a recording of waveform frames made for the test.
    nlohmann::json required_params = nlohmann::json::object();
    /// When this component is a source feeding another one under test: parameters that keep it going
    /// (and paced where it has a rate), on top of required_params.
    nlohmann::json feeder_params = nlohmann::json::object();
    /// Non-empty: create() refuses by design, and why; the suite checks that it refuses cleanly, each time.
    std::string refuses_create;
    /// Parameters with a default that the suite sets all the same, on top of required_params: what the component
    /// needs to find in this build (a Python component's "path" to its test classes).
    nlohmann::json setup_params = nlohmann::json::object();
    /// Keys of the node under test beside its parameters ("isolation").
    nlohmann::json node_keys = nlohmann::json::object();
    /// Non-empty: the component moves slots only with a far end it talks to (a transport), which the suite does not
    /// set up; the runs are left to the tests this names, the parameter checks stay here.
    std::string far_end{};
};

/// The test plugins that must fail to load.
const std::vector<RefusedPlugin>& refused_plugins();
/// Every component the suite runs, built-in plugins first.
const std::vector<ComponentFixture>& component_fixtures();
const ComponentFixture& fixture_of(const std::string& component);

/// The built-in and test plugin directories of this build.
std::vector<std::filesystem::path> plugin_directories();
/// Every dhub-*.so in them.
std::vector<std::filesystem::path> plugin_files();

/// The process-wide loader (plugins stay loaded for the whole run, as in the kernel).
plugin::PluginLoader& loader();
/// What the kernel knows about the component and its descriptor (zero-extended to this SDK); throws if
/// the plugin or component cannot be found.
const plugin::ComponentInfo& info_of(const ComponentFixture& fixture);
const dhub_component_descriptor* descriptor_of(const ComponentFixture& fixture);

/// The source that feeds a component reading schema (the first source of the table writing it; "*":
/// dhub.source.sim); throws if there is none.
const ComponentFixture& feeder_for(const std::string& input_schema);

/// required_params and setup_params (with feeding, and feeder_params) with the placeholders filled
/// in: "{dir}" is dir, "{recording}" a recording made in dir on first use.
nlohmann::json node_params(const ComponentFixture& fixture, const std::filesystem::path& dir, bool feeding = false);

}  // namespace dhub::conformance
