// SPDX-License-Identifier: Apache-2.0
#include "broker_view.hpp"

#include <cstdio>
#include <iostream>
#include <map>
#include <tuple>

#include <nlohmann/json.hpp>

#include "dhub/base/exit_code.hpp"
#include "dhub/broker/broker_client.hpp"

namespace dhub::ctl {
namespace {

constexpr std::chrono::seconds CONNECT_TIMEOUT{5};

/// The kernels behind the channels: one per producer (pid and process start tell a restarted kernel apart).
nlohmann::json kernels_of(const std::vector<broker::ChannelSummary>& channels) {
    std::map<std::tuple<std::uint32_t, std::uint64_t, std::string>, nlohmann::json> kernels;
    for (const broker::ChannelSummary& channel : channels) {
        const broker::ProcessTag& producer = channel.producer;
        nlohmann::json& kernel = kernels[{producer.pid, producer.start_ticks, producer.name}];
        if (kernel.is_null()) {
            kernel = {{"graph", producer.name}, {"pid", producer.pid}, {"channels", nlohmann::json::array()}};
        }
        kernel["channels"].push_back(channel.name);
    }
    nlohmann::json list = nlohmann::json::array();
    for (auto& [key, kernel] : kernels)
        list.push_back(std::move(kernel));
    return list;
}

nlohmann::json channels_json(const std::vector<broker::ChannelSummary>& channels) {
    nlohmann::json list = nlohmann::json::array();
    for (const broker::ChannelSummary& channel : channels) {
        list.push_back({{"name", channel.name},
                        {"producer", channel.producer.name},
                        {"producer_pid", channel.producer.pid},
                        {"consumers", channel.consumer_count},
                        {"schema_hash", channel.schema_hash},
                        {"segment", channel.segment}});
    }
    return list;
}

std::string kernels_text(const nlohmann::json& kernels) {
    std::string text;
    char line[256];
    std::snprintf(line, sizeof line, "%-24s %8s  %s\n", "GRAPH", "PID", "CHANNELS");
    text += line;
    for (const nlohmann::json& kernel : kernels) {
        std::string names;
        for (const auto& name : kernel["channels"])
            names += (names.empty() ? "" : ", ") + name.get<std::string>();
        std::snprintf(line, sizeof line, "%-24s %8u  ", kernel["graph"].get<std::string>().c_str(),
                      kernel["pid"].get<std::uint32_t>());
        text += line + names + "\n";
    }
    return text;
}

std::string channels_text(const nlohmann::json& channels) {
    std::string text;
    char line[256];
    std::snprintf(line, sizeof line, "%-24s %-24s %8s %10s\n", "CHANNEL", "PRODUCER", "PID", "CONSUMERS");
    text += line;
    for (const nlohmann::json& channel : channels) {
        std::snprintf(line, sizeof line, "%-24s %-24s %8u %10llu\n", channel["name"].get<std::string>().c_str(),
                      channel["producer"].get<std::string>().c_str(), channel["producer_pid"].get<std::uint32_t>(),
                      static_cast<unsigned long long>(channel["consumers"].get<std::uint64_t>()));
        text += line;
    }
    return text;
}

}  // namespace

int show_broker(const std::string& endpoint, const CurveKeys* keys, const std::string& command, bool json) {
    broker::ClientConfig config;
    config.endpoint = endpoint;
    config.name = "dhub-ctl";
    config.role = "tool";
    if (keys != nullptr) {
        config.server_public_key = keys->server_public;
        config.client_keys = {keys->public_key, keys->secret_key};
    }
    broker::BrokerClient client(config);
    if (auto started = client.start(); !started) {
        std::cerr << "dhub-ctl: " << started.error().message << "\n";
        return to_int(ExitCode::InvalidInput);
    }
    if (!client.wait_connected(CONNECT_TIMEOUT)) {
        std::cerr << "dhub-ctl: no broker answered at " << endpoint << " within " << CONNECT_TIMEOUT.count()
                  << " s: is it running there"
                  << (keys != nullptr ? ", is --server-key its public key, and is this client's key (" +
                                            keys->public_key + ") in its allowlist?"
                                      : " without CURVE? (a CURVE broker needs --server-key and --key)")
                  << "\n";
        return to_int(ExitCode::InvalidInput);
    }
    auto listed = client.list();
    client.stop();
    if (!listed) {
        std::cerr << "dhub-ctl: the broker at " << endpoint << " did not list its channels: " << listed.error().message
                  << "\n";
        return to_int(ExitCode::InvalidInput);
    }
    const nlohmann::json kernels = kernels_of(listed.value());
    const nlohmann::json channels = channels_json(listed.value());
    if (json) {
        const nlohmann::json value = command == "kernels" ? kernels
                                     : command == "channels"
                                         ? channels
                                         : nlohmann::json{{"kernels", kernels}, {"channels", channels}};
        std::cout << value.dump(2) << "\n";
        return to_int(ExitCode::Ok);
    }
    if (command != "channels") std::cout << kernels_text(kernels);
    if (command.empty()) std::cout << "\n";
    if (command != "kernels") std::cout << channels_text(channels);
    return to_int(ExitCode::Ok);
}

}  // namespace dhub::ctl
