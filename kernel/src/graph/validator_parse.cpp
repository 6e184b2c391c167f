// SPDX-License-Identifier: Apache-2.0
// parse_validators: the shape of a channel's "validators", checked without any plugin (validator_check.cpp
// checks them against their components and the graph's channels).
#include "validator_parse.hpp"

#include <array>
#include <map>

#include "wording.hpp"

namespace dhub::graph {

const char* to_string(ChannelValidatorSpec::OnReject action) noexcept {
    switch (action) {
        case ChannelValidatorSpec::OnReject::Drop:
            return "drop";
        case ChannelValidatorSpec::OnReject::Quarantine:
            return "quarantine";
        case ChannelValidatorSpec::OnReject::StopGraph:
            return "stop_graph";
    }
    return "unknown";
}

namespace detail {
namespace {

using Json = nlohmann::json;
using OnReject = ChannelValidatorSpec::OnReject;

const std::vector<std::string> VALIDATOR_KEYS = {"name", "plugin", "component", "params", "on_reject", "quarantine"};
const std::vector<std::string> ON_REJECT_NAMES = {"drop", "quarantine", "stop_graph"};
constexpr std::array ON_REJECT_VALUES = {OnReject::Drop, OnReject::Quarantine, OnReject::StopGraph};
const std::string VALIDATOR_NAME_RULE = "a validator name of 1 to 40 letters, digits, '_' or '-'";

ChannelValidatorSpec parse_validator(const Json& entry, const std::string& path, Issues& issues) {
    ChannelValidatorSpec validator;
    validator.node.json_path = path;
    check_known_keys(entry, path, VALIDATOR_KEYS, issues);
    parse_component_choice(entry, path, validator.node, issues);
    validator.node.id = validator.node.plugin;
    if (const Json* name = find_member(entry, "name")) {
        if (name->is_string() &&
            is_identifier(name->get_ref<const std::string&>(), ChannelValidatorSpec::MAX_NAME, false)) {
            validator.node.id = name->get<std::string>();
        } else {
            issues.push_back({path + "/name", "expected " + VALIDATOR_NAME_RULE + ", found " + describe(*name)});
        }
    } else if (validator.node.id.size() > ChannelValidatorSpec::MAX_NAME) {
        issues.push_back({path, "the plugin's name is longer than a validator's name may be (" +
                                    std::to_string(ChannelValidatorSpec::MAX_NAME) + "); add a shorter \"name\""});
    }
    if (const Json* action = find_member(entry, "on_reject")) {
        if (auto index = read_choice(*action, path + "/on_reject", ON_REJECT_NAMES, issues)) {
            validator.on_reject = ON_REJECT_VALUES[*index];
        }
    }
    const Json* quarantine = find_member(entry, "quarantine");
    if (quarantine != nullptr) {
        validator.quarantine =
            read_string(*quarantine, path + "/quarantine", "the name of a channel of this graph", issues)
                .value_or(std::string());
    }
    if (validator.on_reject == OnReject::Quarantine && quarantine == nullptr) {
        issues.push_back({path,
                          "\"on_reject\": \"quarantine\" needs \"quarantine\": the channel that keeps the "
                          "rejected slots (declare it in \"channels\"; no node writes it)"});
    }
    if (validator.on_reject != OnReject::Quarantine && quarantine != nullptr) {
        issues.push_back({path + "/quarantine", std::string("a quarantine channel is only written with \"on_reject\": "
                                                            "\"quarantine\", and this validator's is \"") +
                                                    to_string(validator.on_reject) +
                                                    "\"; set \"on_reject\" or remove \"quarantine\""});
    }
    return validator;
}

}  // namespace

std::vector<ChannelValidatorSpec> parse_validators(const Json& value, const std::string& path, Issues& issues) {
    std::vector<ChannelValidatorSpec> validators;
    if (!expect_array(value, path, "an array of validators {\"plugin\": ..., \"params\": ..., \"on_reject\": ...}",
                      issues)) {
        return validators;
    }
    if (value.size() > ChannelValidatorSpec::MAX_PER_CHANNEL) {
        issues.push_back({path, "a channel takes at most " + std::to_string(ChannelValidatorSpec::MAX_PER_CHANNEL) +
                                    " validators, found " + std::to_string(value.size()) +
                                    "; combine checks in one validator"});
        return validators;
    }
    std::map<std::string, std::string, std::less<>> first_path;
    for (std::size_t index = 0; index < value.size(); ++index) {
        const std::string entry_path = child_path(path, index);
        if (!expect_object(value[index], entry_path, "a validator object {\"plugin\": ..., ...}", issues)) continue;
        ChannelValidatorSpec validator = parse_validator(value[index], entry_path, issues);
        if (!validator.node.id.empty()) {
            const auto [earlier, inserted] = first_path.emplace(validator.node.id, entry_path);
            if (!inserted) {
                issues.push_back({entry_path, "validator name '" + validator.node.id +
                                                  "' is already used on this "
                                                  "channel by " +
                                                  earlier->second + "; give each validator its own \"name\""});
            }
        }
        validators.push_back(std::move(validator));
    }
    return validators;
}

}  // namespace detail
}  // namespace dhub::graph
