// SPDX-License-Identifier: Apache-2.0
// Components built in code for the graph tests, so validation is tested without loading any library,
// plus helpers that parse and validate a document in one call and look for an issue.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dhub/graph/graph_spec.hpp"

namespace dhub::graph::testing {

using plugin::ComponentInfo;
using plugin::ComponentKind;

inline constexpr std::uint64_t FRAME_SLOT_BYTES = 64;
inline constexpr std::uint64_t BIG_SINK_SLOT_BYTES = 16384;
inline constexpr std::uint64_t RELAY_SLOT_BYTES = 1 << 20;
inline constexpr std::uint64_t PAIR_SLOT_BYTES = 8192;
inline constexpr const char* BROKEN_PLUGIN_MESSAGE = "dhub-broken.so: undefined symbol dhub_plugin_entry";

struct ComponentDeclaration {
    const char* plugin;
    const char* id;
    ComponentKind kind;
    std::optional<std::string> input_schema;
    std::optional<std::string> output_schema;
    const char* params_json = "[]";
    std::uint64_t input_min_slot_bytes = 0;
    std::uint64_t output_min_slot_bytes = 0;
    std::uint32_t version = 1;
};

inline ComponentInfo make_component(const ComponentDeclaration& declaration) {
    ComponentInfo info;
    info.plugin = declaration.plugin;
    info.plugin_version = "1.0.0";
    info.id = declaration.id;
    info.version = declaration.version;
    info.kind = declaration.kind;
    info.ports =
        plugin::ports_of_kind(declaration.kind, declaration.input_schema ? declaration.input_schema->c_str() : nullptr,
                              declaration.output_schema ? declaration.output_schema->c_str() : nullptr,
                              declaration.input_min_slot_bytes, declaration.output_min_slot_bytes);
    auto params = plugin::parse_param_schema(declaration.params_json, declaration.id);
    EXPECT_TRUE(params.ok()) << (params.ok() ? "" : params.error().message);
    if (params.ok()) info.params = params.value();
    return info;
}

/// The plugins the tests use, by name; "broken" fails to load and any name not listed is not found.
class FakePlugins {
public:
    FakePlugins() {
        const std::vector<ComponentDeclaration> declarations = {
            {"frames", "test.source.frames", ComponentKind::Source, std::nullopt, "test.frame@1",
             R"([{"name": "rate_hz", "type": "number", "default": 100, "min": 1, "max": 1000, "unit": "Hz"},
                 {"name": "shape", "type": "string", "default": "sine", "enum": ["sine", "square"]}])",
             0, FRAME_SLOT_BYTES},
            {"free", "test.source.free", ComponentKind::Source, std::nullopt, "test.frame@1"},
            {"pass", "test.stage.pass", ComponentKind::Stage, "test.frame@1", "test.frame@1",
             R"([{"name": "gain", "type": "number", "min": 0, "max": 10, "doc": "multiplies every sample"}])"},
            {"other", "test.stage.other", ComponentKind::Stage, "other@1", "other@1"},
            {"sink", "test.sink.any", ComponentKind::Sink, "*", std::nullopt,
             R"([{"name": "path", "type": "string", "default": "out.dhr"}])"},
            {"big", "test.sink.big", ComponentKind::Sink, "*", std::nullopt, "[]", BIG_SINK_SLOT_BYTES},
            {"check", "test.validator.check", ComponentKind::Validator, "test.frame@1", std::nullopt},
            {"multi", "test.sink.a", ComponentKind::Sink, "*", std::nullopt},
            {"multi", "test.sink.b", ComponentKind::Sink, "*", std::nullopt},
            // One component per role (as the python plugin has): a node's wiring picks one.
            {"roles", "test.source.role", ComponentKind::Source, std::nullopt, "test.frame@1"},
            {"roles", "test.stage.role", ComponentKind::Stage, "test.frame@1", "test.frame@1"},
            {"roles", "test.sink.role", ComponentKind::Sink, "*", std::nullopt},
            {"versions", "test.sink.versioned", ComponentKind::Sink, "*", std::nullopt, "[]", 0, 0, 1},
            {"versions", "test.sink.versioned", ComponentKind::Sink, "*", std::nullopt, "[]", 0, 0, 2},
            // Two versions of a typed schema (tests/unit/graph/schema_declarations_test.cpp).
            {"thermo2", "test.source.thermo2", ComponentKind::Source, std::nullopt, "lab.thermo@2"},
            {"thermo1", "test.sink.thermo1", ComponentKind::Sink, "lab.thermo@1", std::nullopt},
            // Declarations a transport makes are not compared with its channels (it carries whatever they
            // hold).
            {"relay", "test.transport.relay", ComponentKind::Transport, "relay.in@1", "relay.out@1", "[]",
             RELAY_SLOT_BYTES, RELAY_SLOT_BYTES},
        };
        for (const ComponentDeclaration& declaration : declarations) {
            components_[declaration.plugin].push_back(make_component(declaration));
        }
        // SDK 1.2 ports: a correlator with two named inputs and an optional output, and a fan-out with a
        // "many" output.
        using plugin::PortDirection;
        ComponentInfo pair = make_component({"pair", "test.stage.pair", ComponentKind::Stage, {}, {}});
        pair.declares_ports = true;
        pair.ports = {{"camera", PortDirection::Input, "test.frame@1", 0, false, false, ""},
                      {"detector", PortDirection::Input, "*", 0, false, false, ""},
                      {"out", PortDirection::Output, "*", PAIR_SLOT_BYTES, false, false, ""},
                      {"unmatched", PortDirection::Output, "*", 0, true, false, ""}};
        components_["pair"].push_back(pair);
        ComponentInfo fan = make_component({"fan", "test.stage.fan", ComponentKind::Stage, {}, {}});
        fan.declares_ports = true;
        fan.ports = {{"in", PortDirection::Input, "test.frame@1", 0, false, false, ""},
                     {"out", PortDirection::Output, "test.frame@1", 0, false, true, ""}};
        components_["fan"].push_back(fan);
        // A validator that drives itself (queue mode): a node may run it, a channel's validators may not.
        ComponentInfo queue_check =
            make_component({"queue_check", "test.validator.queue", ComponentKind::Validator, "*", std::nullopt});
        queue_check.mode = plugin::ComponentMode::Queue;
        components_["queue_check"].push_back(queue_check);
        // A source that drives itself (queue mode): the kernel cannot pace its calls.
        ComponentInfo queue_source =
            make_component({"queue_source", "test.source.queue", ComponentKind::Source, std::nullopt, "test.frame@1"});
        queue_source.mode = plugin::ComponentMode::Queue;
        components_["queue_source"].push_back(queue_source);
    }

    ComponentLookup lookup() {
        return [this](const std::string& plugin) -> Result<std::vector<ComponentInfo>> {
            ++lookups_[plugin];
            if (plugin == "broken") return Error{ErrorCode::Incompatible, BROKEN_PLUGIN_MESSAGE};
            const auto found = components_.find(plugin);
            if (found == components_.end()) {
                return Error{ErrorCode::NotFound, "no dhub-" + plugin + ".so in the plugin path"};
            }
            return found->second;
        };
    }

    int lookups(const std::string& plugin) const {
        const auto found = lookups_.find(plugin);
        return found == lookups_.end() ? 0 : found->second;
    }

private:
    std::map<std::string, std::vector<ComponentInfo>> components_;
    std::map<std::string, int> lookups_;
};

/// A document every test starts from: frames -> pass -> sink, and a validator on the frames.
inline nlohmann::json valid_document() {
    return nlohmann::json::parse(R"({
        "schema_version": 1,
        "name": "test",
        "channels": [
            {"name": "frames", "slot_bytes": 4096, "schema": "test.frame@1"},
            {"name": "scaled", "slot_bytes": 4096}
        ],
        "nodes": [
            {"id": "src", "plugin": "frames", "outputs": ["frames"]},
            {"id": "pass", "plugin": "pass", "params": {"gain": 2.0}, "inputs": ["frames"], "outputs": ["scaled"]},
            {"id": "sink", "plugin": "sink", "inputs": ["scaled"]},
            {"id": "check", "plugin": "check", "inputs": ["frames"]}
        ]
    })");
}

/// parse_graph and validate_graph of one document; not copyable because the result points into the spec.
struct Checked {
    std::optional<GraphSpec> spec;
    ValidatedGraph graph;
    std::vector<GraphIssue> issues;
};

/// parse_graph alone of a document, as if read from /etc/dhub/graphs/test.json; the spec goes to *spec if given.
inline std::vector<GraphIssue> parse_issues(const nlohmann::json& document, std::optional<GraphSpec>* spec = nullptr) {
    std::vector<GraphIssue> issues;
    auto parsed = parse_graph(document.dump(), "/etc/dhub/graphs/test.json", issues);
    if (spec != nullptr) *spec = std::move(parsed);
    return issues;
}

inline std::unique_ptr<Checked> check_document(const nlohmann::json& document, FakePlugins& plugins) {
    auto checked = std::make_unique<Checked>();
    checked->spec = parse_graph(document.dump(), "test.json", checked->issues);
    EXPECT_TRUE(checked->spec.has_value()) << format_issues(checked->issues, "");
    EXPECT_TRUE(checked->issues.empty()) << "the document's shape should be fine:\n"
                                         << format_issues(checked->issues, "");
    if (checked->spec) checked->graph = validate_graph(*checked->spec, plugins.lookup(), checked->issues);
    return checked;
}

/// Success when an issue has exactly this path and every one of the substrings in its message.
inline ::testing::AssertionResult has_issue(const std::vector<GraphIssue>& issues,
                                            const std::string& path,
                                            const std::vector<std::string>& substrings) {
    for (const GraphIssue& issue : issues) {
        if (issue.json_path != path) continue;
        bool all = true;
        for (const std::string& part : substrings)
            all = all && issue.message.find(part) != std::string::npos;
        if (all) return ::testing::AssertionSuccess();
    }
    auto failure = ::testing::AssertionFailure() << "no issue at \"" << path << "\" containing";
    for (const std::string& part : substrings)
        failure << " [" << part << "]";
    return failure << "; the issues are:\n" << format_issues(issues, "");
}

}  // namespace dhub::graph::testing
