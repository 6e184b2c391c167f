// SPDX-License-Identifier: Apache-2.0
#include "dhub/control/control_access.hpp"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dhub/broker/keys.hpp"

namespace dhub::control {
namespace {

using nlohmann::json;

Error invalid(const std::string& path, const std::string& what) {
    return Error{ErrorCode::InvalidArgument, "control allowlist " + path + ": " + what};
}

}  // namespace

const char* to_string(Role role) noexcept {
    return role == Role::Admin ? "admin" : "monitor";
}

bool permits(Role role, Command command) noexcept {
    return role == Role::Admin || !changes_graph(command);
}

Result<ControlAccess> ControlAccess::parse(std::string_view text, const std::string& path) {
    const json document = json::parse(text.begin(), text.end(), nullptr, false);
    if (document.is_discarded()) return invalid(path, "not valid JSON");
    if (!document.is_object() || !document.contains("clients") || !document["clients"].is_array() ||
        document.size() != 1) {
        return invalid(path,
                       "expected {\"clients\": [{\"public_key\": ..., \"name\": ..., \"role\": \"admin\" or "
                       "\"monitor\"}]}");
    }
    ControlAccess access;
    std::size_t index = 0;
    for (const auto& entry : document["clients"]) {
        const std::string where = "/clients/" + std::to_string(index++);
        if (!entry.is_object()) return invalid(path, where + " is not an object");
        for (const auto& [key, value] : entry.items()) {
            if (key != "public_key" && key != "name" && key != "role") {
                return invalid(path, where + "/" + key + " is not a known key (public_key, name, role)");
            }
        }
        AllowedController client;
        const auto key = entry.find("public_key");
        if (key == entry.end() || !key->is_string() || !broker::is_z85_key(key->get<std::string>())) {
            return invalid(path, where +
                                     "/public_key must be a 40-character Z85 key (the content of a .pub file "
                                     "written by dhub-keygen)");
        }
        client.public_key = key->get<std::string>();
        if (const auto name = entry.find("name"); name != entry.end()) {
            if (!name->is_string()) return invalid(path, where + "/name must be a string");
            client.name = name->get<std::string>();
        }
        if (client.name.empty()) client.name = client.public_key.substr(0, 8);
        const auto role = entry.find("role");
        if (role == entry.end() || !role->is_string() || (*role != "admin" && *role != "monitor")) {
            return invalid(path, where + "/role must be \"admin\" (may change the graph) or \"monitor\" (may read it)");
        }
        client.role = *role == "admin" ? Role::Admin : Role::Monitor;
        if (access.find(client.public_key) != nullptr) {
            return invalid(path, where + " repeats public key " + client.public_key);
        }
        access.clients_.push_back(std::move(client));
    }
    return access;
}

Result<ControlAccess> ControlAccess::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return Error{ErrorCode::NotFound, "control allowlist " + path + " cannot be read: check --control-allow"};
    }
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
}

const AllowedController* ControlAccess::find(std::string_view public_key) const noexcept {
    for (const AllowedController& client : clients_) {
        if (client.public_key == public_key) return &client;
    }
    return nullptr;
}

}  // namespace dhub::control
