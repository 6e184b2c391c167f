// SPDX-License-Identifier: Apache-2.0
#include "client.hpp"

#include <fstream>
#include <stdexcept>

namespace dhub::kafka_transport {
namespace {

std::string trimmed(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos) return {};
    const auto last = text.find_last_not_of(" \t\r");
    return text.substr(first, last - first + 1);
}

void set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value, const std::string& origin) {
    char reason[512] = "";
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), reason, sizeof reason) != RD_KAFKA_CONF_OK) {
        throw std::runtime_error("librdkafka refused " + name + " (" + origin + "): " + reason);
    }
}

}  // namespace

Settings read_properties(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read the properties file '" + path + "'");
    Settings settings;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const std::string text = trimmed(line);
        if (text.empty() || text[0] == '#' || text[0] == '!') continue;
        const auto equals = text.find('=');
        if (equals == std::string::npos || trimmed(text.substr(0, equals)).empty()) {
            throw std::runtime_error(path + ":" + std::to_string(number) + ": expected name=value, found '" + text +
                                     "'");
        }
        settings.emplace_back(trimmed(text.substr(0, equals)), trimmed(text.substr(equals + 1)));
    }
    return settings;
}

Conf make_conf(const std::string& brokers,
               const Settings& defaults,
               const std::string& properties_path,
               const Settings& fixed) {
    Conf conf(rd_kafka_conf_new());
    set(conf.get(), "bootstrap.servers", brokers, "the brokers parameter");
    for (const auto& [name, value] : defaults)
        set(conf.get(), name, value, "the kafka transport's default");
    if (!properties_path.empty()) {
        for (const auto& [name, value] : read_properties(properties_path)) {
            for (const auto& [fixed_name, fixed_value] : fixed) {
                if (name == fixed_name && value != fixed_value) {
                    throw std::runtime_error(properties_path + " sets " + name + "=" + value + ", but the kafka " +
                                             "transport needs " + fixed_value + " (docs/transports.md says why)");
                }
            }
            set(conf.get(), name, value, properties_path);
        }
    }
    for (const auto& [name, value] : fixed)
        set(conf.get(), name, value, "set by the kafka transport");
    return conf;
}

Handle make_client(rd_kafka_type_t type, Conf conf) {
    char reason[512] = "";
    rd_kafka_t* handle = rd_kafka_new(type, conf.get(), reason, sizeof reason);
    if (handle == nullptr) {
        throw std::runtime_error(std::string("cannot make a Kafka ") +
                                 (type == RD_KAFKA_PRODUCER ? "producer" : "consumer") + ": " + reason);
    }
    (void)conf.release();  // rd_kafka_new took it
    return Handle(handle);
}

}  // namespace dhub::kafka_transport
