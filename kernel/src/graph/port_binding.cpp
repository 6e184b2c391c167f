// SPDX-License-Identifier: Apache-2.0
#include "port_binding.hpp"

#include <set>
#include <string>

#include "json_fields.hpp"
#include "node_check.hpp"
#include "wording.hpp"

namespace dhub::graph::detail {
namespace {

using plugin::ComponentInfo;
using plugin::PortDirection;
using plugin::PortInfo;

std::string plural(std::size_t count, const std::string& word) {
    return std::to_string(count) + " " + word + (count == 1 ? "" : "s");
}

std::string describe_port(const PortInfo& port) {
    std::string text = std::string(plugin::to_string(port.direction)) + " port '" + port.name + "'";
    if (port.schema != "*") text += " (" + port.schema + ")";
    return text;
}

struct Direction {
    PortDirection direction;
    const char* key;   ///< "inputs"
    const char* word;  ///< "input"

    const std::vector<PortBinding>& entries(const NodeState& node) const {
        return direction == PortDirection::Input ? node.spec->inputs : node.spec->outputs;
    }
    std::string path(const NodeState& node) const { return node.spec->json_path + "/" + key; }
};

/// The list form: entries bind in port order, which only says something when the direction has one port.
/// False when the form itself is refused (several ports): the ports are then not reported one by one.
bool bind_list(const NodeState& node,
               const Direction& side,
               const std::vector<std::size_t>& ports,
               std::vector<std::size_t>& bound,
               Issues& issues) {
    const ComponentInfo& component = *node.component;
    const std::vector<PortBinding>& entries = side.entries(node);
    const std::string key_path = side.path(node);
    if (entries.empty()) return true;  // nothing bound ("inputs" absent, [] or {}): only the required ports say more
    if (ports.size() > 1) {
        std::string example;
        for (const std::size_t port : ports)
            example += (example.empty() ? "" : ", ") + ("\"" + component.ports[port].name + "\": \"<channel>\"");
        issues.push_back({key_path, describe_component(component) + " has " + std::to_string(ports.size()) + " " +
                                        side.word + " ports; name the port of each channel: \"" + side.key + "\": {" +
                                        example + "}"});
        return false;
    }
    const bool transport = component.kind == plugin::ComponentKind::Transport;
    const std::size_t most = ports.empty() ? 0 : component.ports[ports.front()].many ? entries.size() : 1;
    if (entries.size() > most) {
        std::string rule = transport && most == 1 ? "0 or 1 " + std::string(side.word) + "s" : plural(most, side.word);
        std::string remedy =
            most == 0 ? std::string("remove \"") + side.key + "\""
                      : (transport ? "list at most 1 channel name in \"" : "list exactly 1 channel name in \"") +
                            std::string(side.key) + "\"";
        issues.push_back({key_path, describe_component(component) + " takes " + rule + ", found " +
                                        std::to_string(entries.size()) + "; " + remedy});
    }
    for (std::size_t entry = 0; entry < std::min(entries.size(), most); ++entry)
        bound[entry] = ports.front();
    return true;
}

/// The map form: each key names a port.
void bind_map(const NodeState& node,
              const Direction& side,
              const std::vector<std::size_t>& ports,
              std::vector<std::size_t>& bound,
              Issues& issues) {
    const ComponentInfo& component = *node.component;
    const std::vector<PortBinding>& entries = side.entries(node);
    const std::string key_path = side.path(node);
    std::vector<std::string> names;
    for (const std::size_t port : ports)
        names.push_back(component.ports[port].name);
    std::set<std::string> reported;
    for (std::size_t entry = 0; entry < entries.size(); ++entry) {
        const std::string& name = entries[entry].port;
        const PortInfo* port = component.find_port(side.direction, name);
        if (port == nullptr) {
            if (!reported.insert(name).second) continue;
            issues.push_back({child_path(key_path, name),
                              describe_component(component) + " has no " + side.word + " port '" + name + "'; " +
                                  (names.empty() ? "it takes no " + std::string(side.word) + "s, remove it"
                                                 : "its " + std::string(side.word) + " ports: " + join(names) +
                                                       did_you_mean(name, names))});
            continue;
        }
        bound[entry] = static_cast<std::size_t>(port - component.ports.data());
    }
    for (const std::size_t port : ports) {
        const PortInfo& info = component.ports[port];
        std::size_t count = 0;
        for (const std::size_t entry : bound)
            count += entry == port ? 1 : 0;
        if (count > 1 && !info.many && reported.insert(info.name).second) {
            issues.push_back(
                {child_path(key_path, info.name), describe_port(info) + " of " + describe_component(component) +
                                                      " takes one channel, found " + std::to_string(count) +
                                                      "; write \"" + info.name + "\": \"<channel>\""});
        }
    }
}

void bind_direction(NodeState& node, const Direction& side, Issues& issues) {
    const ComponentInfo& component = *node.component;
    const std::vector<PortBinding>& entries = side.entries(node);
    std::vector<std::size_t> ports;
    for (std::size_t index = 0; index < component.ports.size(); ++index) {
        if (component.ports[index].direction == side.direction) ports.push_back(index);
    }
    std::vector<std::size_t> bound(entries.size(), NodeState::NO_PORT);
    const bool map_form = !entries.empty() && !entries.front().port.empty();
    bool check_required = true;
    if (map_form) {
        bind_map(node, side, ports, bound, issues);
    } else {
        check_required = bind_list(node, side, ports, bound, issues);
    }
    std::vector<std::size_t> order;
    for (const std::size_t port : ports) {
        const PortInfo& info = component.ports[port];
        const std::size_t before = order.size();
        for (std::size_t entry = 0; entry < bound.size(); ++entry) {
            if (bound[entry] == port) order.push_back(entry);
        }
        if (order.size() > before || info.optional || !check_required) continue;
        // A component with one port keeps the wording of the list form, which is what such a node uses.
        const std::string remedy = ports.size() == 1 && !info.many
                                       ? "list exactly 1 channel name in \"" + std::string(side.key) + "\""
                                       : "add \"" + info.name + "\": \"<channel>\" to \"" + side.key + "\"";
        issues.push_back({node.spec->json_path + "/" + side.key,
                          ports.size() == 1 && !info.many
                              ? describe_component(component) + " takes 1 " + side.word + ", found 0; " + remedy
                              : describe_component(component) + " needs its " + describe_port(info) + "; " + remedy});
    }
    (side.direction == PortDirection::Input ? node.input_ports : node.output_ports) = std::move(bound);
    (side.direction == PortDirection::Input ? node.input_order : node.output_order) = std::move(order);
}

}  // namespace

void bind_ports(NodeState& node, Issues& issues) {
    if (!node.component) return;
    bind_direction(node, {PortDirection::Input, "inputs", "input"}, issues);
    bind_direction(node, {PortDirection::Output, "outputs", "output"}, issues);
}

}  // namespace dhub::graph::detail
