// SPDX-License-Identifier: Apache-2.0
#include "dhub/control/control_protocol.hpp"

#include <array>
#include <utility>

namespace dhub::control {
namespace {

/// A command, and the arguments it takes: none, a node, an event's seq, or a node and its new component.
enum class Argument { None, Node, Since, Swap, SetParam, Add };
struct Known {
    const char* name;
    Command command;
    Argument argument;
};
constexpr std::array<Known, 12> COMMANDS{{
    {"hello", Command::Hello, Argument::None},
    {"status", Command::Status, Argument::None},
    {"pause", Command::Pause, Argument::Node},
    {"resume", Command::Resume, Argument::Node},
    {"stop", Command::Stop, Argument::None},
    {"events", Command::Events, Argument::Since},
    {"subscribe", Command::Subscribe, Argument::None},
    {"swap", Command::Swap, Argument::Swap},
    {"params", Command::Params, Argument::Node},
    {"set_param", Command::SetParam, Argument::SetParam},
    {"add", Command::Add, Argument::Add},
    {"remove", Command::Remove, Argument::Node},
}};

bool takes_node(Argument argument) {
    return argument == Argument::Node || argument == Argument::Swap || argument == Argument::SetParam;
}

/// A plugin or component name: what a graph may name (letters, digits, '_', '-', '.'), at most 128 of them.
bool is_name(const nlohmann::json& field) {
    if (!field.is_string()) return false;
    const std::string& text = field.get_ref<const std::string&>();
    if (text.empty() || text.size() > 128) return false;
    for (const char c : text) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                             c == '-' || c == '.';
        if (!allowed) return false;
    }
    return true;
}

Decoded refuse(std::string code, std::string message, nlohmann::json id = nullptr) {
    return Decoded(Refusal{std::move(code), std::move(message), std::move(id)});
}

/// The command list for messages: "hello, status, pause, resume, stop".
std::string command_names() {
    std::string names;
    for (const Known& known : COMMANDS)
        names += std::string(names.empty() ? "" : ", ") + known.name;
    return names;
}

}  // namespace

const char* to_string(Command command) noexcept {
    for (const Known& known : COMMANDS) {
        if (known.command == command) return known.name;
    }
    return "unknown";
}

bool changes_graph(Command command) noexcept {
    return command == Command::Pause || command == Command::Resume || command == Command::Stop ||
           command == Command::Swap || command == Command::SetParam || command == Command::Add ||
           command == Command::Remove;
}

Decoded decode_request(std::string_view bytes) noexcept {
    try {
        if (bytes.size() > MAX_REQUEST_BYTES) {
            return refuse("malformed", "the request has " + std::to_string(bytes.size()) + " bytes; at most " +
                                           std::to_string(MAX_REQUEST_BYTES) + " are read");
        }
        const nlohmann::json value = nlohmann::json::parse(bytes, nullptr, false);
        if (value.is_discarded()) return refuse("malformed", "the request is not JSON");
        if (!value.is_object()) return refuse("malformed", "the request must be a JSON object");
        nlohmann::json id = nullptr;
        if (const auto found = value.find("id"); found != value.end()) {
            if (!found->is_number_integer() && !found->is_string()) {
                return refuse("bad_argument", "\"id\" must be an integer or a string");
            }
            id = *found;
        }
        const auto version = value.find("v");
        if (version == value.end() || !version->is_number_integer()) {
            return refuse(
                "bad_argument",
                "\"v\" (the protocol version, " + std::to_string(PROTOCOL_VERSION) + ") is missing or not an integer",
                id);
        }
        if (version->get<std::int64_t>() != PROTOCOL_VERSION) {
            return refuse("unsupported_version",
                          "protocol version " + version->dump() + " is not spoken here; this kernel speaks " +
                              std::to_string(PROTOCOL_VERSION),
                          id);
        }
        const auto command = value.find("cmd");
        if (command == value.end() || !command->is_string()) {
            return refuse("bad_argument", "\"cmd\" is missing or not a string (commands: " + command_names() + ")", id);
        }
        const std::string name = command->get<std::string>();
        const Known* known = nullptr;
        for (const Known& candidate : COMMANDS) {
            if (name == candidate.name) known = &candidate;
        }
        if (known == nullptr) {
            return refuse("unknown_command", "unknown command \"" + name + "\" (commands: " + command_names() + ")",
                          id);
        }
        Request request;
        request.command = known->command;
        request.id = id;
        for (const auto& [key, field] : value.items()) {
            if (key == "v" || key == "cmd" || key == "id") continue;
            if (key == "node" && takes_node(known->argument)) {
                if (!field.is_string() || field.get<std::string>().empty()) {
                    return refuse("bad_argument", "\"node\" must be a node's id (a non-empty string)", id);
                }
                request.node = field.get<std::string>();
                continue;
            }
            if (key == "since" && known->argument == Argument::Since) {
                if (!field.is_number_unsigned()) {
                    return refuse("bad_argument", "\"since\" must be an event's seq (an integer, 0 or more)", id);
                }
                request.since = field.get<std::uint64_t>();
                continue;
            }
            if (known->argument == Argument::Swap && (key == "plugin" || key == "component")) {
                if (!is_name(field)) {
                    return refuse("bad_argument",
                                  "\"" + key +
                                      "\" must be a name of letters, digits, '_', '-' and '.' "
                                      "(at most 128)",
                                  id);
                }
                (key == "plugin" ? request.plugin : request.component) = field.get<std::string>();
                continue;
            }
            if (known->argument == Argument::SetParam && key == "name") {
                if (!field.is_string() || field.get_ref<const std::string&>().empty() ||
                    field.get_ref<const std::string&>().size() > 128) {
                    return refuse("bad_argument", "\"name\" must be a parameter's name (a string of 1 to 128)", id);
                }
                request.name = field.get<std::string>();
                continue;
            }
            if (known->argument == Argument::SetParam && key == "value") {
                if (field.is_null() || field.is_object() || field.is_array()) {
                    return refuse("bad_argument", "\"value\" must be a number, a boolean or a string", id);
                }
                request.value = field;
                continue;
            }
            if (known->argument == Argument::Add && key == "spec") {
                if (!field.is_object()) {
                    return refuse("bad_argument",
                                  "\"spec\" must be a JSON object: the node, as a graph's \"nodes\" "
                                  "lists it",
                                  id);
                }
                request.spec = field;
                continue;
            }
            if (known->argument == Argument::Add && key == "channels") {
                if (!field.is_array()) {
                    return refuse("bad_argument",
                                  "\"channels\" must be a JSON array: the channels the new node writes, "
                                  "as a graph's \"channels\" lists them",
                                  id);
                }
                request.channels = field;
                continue;
            }
            if (known->argument == Argument::Swap && key == "params") {
                if (!field.is_object()) return refuse("bad_argument", "\"params\" must be a JSON object", id);
                request.params = field;
                continue;
            }
            return refuse("bad_argument", "\"" + name + "\" takes no \"" + key + "\"", id);
        }
        if (takes_node(known->argument) && request.node.empty()) {
            return refuse("bad_argument", "\"" + name + "\" needs \"node\"", id);
        }
        if (known->argument == Argument::SetParam && (request.name.empty() || request.value.is_null())) {
            return refuse("bad_argument", "\"set_param\" needs \"name\" and \"value\"", id);
        }
        if (known->argument == Argument::Add && request.spec.is_null()) {
            return refuse("bad_argument", "\"add\" needs \"spec\" (the node, as a graph's \"nodes\" lists it)", id);
        }
        if (known->argument == Argument::Swap && request.plugin.empty()) {
            return refuse("bad_argument", "\"swap\" needs \"plugin\" (the new component's plugin)", id);
        }
        return Decoded(std::move(request));
    } catch (...) {
        return refuse("malformed", "the request could not be read");
    }
}

std::string encode_reply(const nlohmann::json& id, const nlohmann::json& result) {
    nlohmann::json reply = result.is_object() ? result : nlohmann::json::object();
    reply["v"] = PROTOCOL_VERSION;
    reply["ok"] = true;
    reply["id"] = id;
    return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string encode_refusal(const Refusal& refusal) {
    const nlohmann::json reply = {{"v", PROTOCOL_VERSION},
                                  {"ok", false},
                                  {"id", refusal.id},
                                  {"error", {{"code", refusal.code}, {"message", refusal.message}}}};
    return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace dhub::control
