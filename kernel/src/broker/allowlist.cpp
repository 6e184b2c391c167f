// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/allowlist.hpp"

#include <fnmatch.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dhub/broker/keys.hpp"

namespace dhub::broker {
namespace {

using nlohmann::json;

Error invalid(const std::string& path, const std::string& what) {
    return Error{ErrorCode::InvalidArgument, "allowlist " + path + ": " + what};
}

// "" when ok, else the reason.
std::string read_globs(const json& entry, const char* key, std::vector<std::string>& out) {
    const auto found = entry.find(key);
    if (found == entry.end()) return {};  // absent: this client may not take that role at all
    if (!found->is_array()) return std::string("\"") + key + "\" must be an array of channel globs";
    for (const auto& glob : *found) {
        if (!glob.is_string() || glob.get_ref<const std::string&>().empty()) {
            return std::string("\"") + key + "\" must hold non-empty strings";
        }
        out.push_back(glob.get<std::string>());
    }
    return {};
}

}  // namespace

bool glob_matches(const std::string& pattern, std::string_view name) {
    const std::string subject(name);
    return ::fnmatch(pattern.c_str(), subject.c_str(), 0) == 0;
}

Result<Allowlist> Allowlist::parse(std::string_view text, const std::string& path) {
    const json document = json::parse(text.begin(), text.end(), nullptr, false);
    if (document.is_discarded()) return invalid(path, "not valid JSON");
    if (!document.is_object() || !document.contains("clients") || !document["clients"].is_array()) {
        return invalid(path,
                       "expected {\"clients\": [{\"public_key\": ..., \"name\": ..., \"produce\": [...], "
                       "\"consume\": [...]}]}");
    }
    Allowlist allowlist;
    std::size_t index = 0;
    for (const auto& entry : document["clients"]) {
        const std::string where = "clients[" + std::to_string(index++) + "]";
        if (!entry.is_object()) return invalid(path, where + " is not an object");
        AllowedClient client;
        const auto key = entry.find("public_key");
        if (key == entry.end() || !key->is_string() || !is_z85_key(key->get<std::string>())) {
            return invalid(path, where +
                                     ".public_key must be a 40-character Z85 key (the content of a .pub file "
                                     "written by dhub-keygen)");
        }
        client.public_key = key->get<std::string>();
        const auto name = entry.find("name");
        if (name != entry.end()) {
            if (!name->is_string()) return invalid(path, where + ".name must be a string");
            client.name = name->get<std::string>();
        }
        if (auto wrong = read_globs(entry, "produce", client.produce); !wrong.empty()) {
            return invalid(path, where + ": " + wrong);
        }
        if (auto wrong = read_globs(entry, "consume", client.consume); !wrong.empty()) {
            return invalid(path, where + ": " + wrong);
        }
        if (allowlist.find(client.public_key) != nullptr) {
            return invalid(path, where + " repeats public key " + client.public_key);
        }
        allowlist.clients_.push_back(std::move(client));
    }
    return allowlist;
}

Result<Allowlist> Allowlist::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return Error{ErrorCode::NotFound, "allowlist " + path + " cannot be read: check the --allow path"};
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
}

const AllowedClient* Allowlist::find(std::string_view public_key) const noexcept {
    for (const auto& client : clients_) {
        if (client.public_key == public_key) return &client;
    }
    return nullptr;
}

bool Allowlist::permits(std::string_view public_key, Role role, std::string_view channel) const {
    const AllowedClient* client = find(public_key);
    if (client == nullptr) return false;
    const auto& globs = role == Role::Produce ? client->produce : client->consume;
    for (const auto& glob : globs) {
        if (glob_matches(glob, channel)) return true;
    }
    return false;
}

}  // namespace dhub::broker
