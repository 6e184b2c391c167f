// SPDX-License-Identifier: Apache-2.0
#include "demo_options.hpp"

#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>

#include "dhub/shm/channel_config.hpp"

namespace dhub::demo {
namespace {

namespace po = boost::program_options;

constexpr int EXIT_USAGE = 2;

int usage_error(const std::string& message) {
    std::cerr << "dhub-shm-demo: " << message << " (see dhub-shm-demo --help)\n";
    return EXIT_USAGE;
}

/// "-1", "0.5": what the user typed rather than std::to_string's six decimals.
std::string shortest(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", value);
    return text;
}

/// Checks the ranges the DataBlock itself would reject later, so the user gets the option name.
std::optional<std::string> check_ranges(const DemoOptions& options) {
    if (!(options.seconds > 0.0)) return "--seconds must be > 0, got " + shortest(options.seconds);
    if (!(options.rate_hz >= 0.0))
        return "--rate must be >= 0 (0 = as fast as possible), got " + shortest(options.rate_hz);
    if (options.frame_bytes < 8 || options.frame_bytes > shm::MAX_SLOT_BYTES) {
        return "--frame-bytes must be in [8, " + std::to_string(shm::MAX_SLOT_BYTES) +
               "] (a frame starts with its "
               "8-byte sequence number), got " +
               std::to_string(options.frame_bytes);
    }
    if (options.slots < 2 || options.slots > shm::MAX_SLOT_COUNT) {
        return "--slots must be in [2, " + std::to_string(shm::MAX_SLOT_COUNT) + "], got " +
               std::to_string(options.slots);
    }
    if (options.role == Role::Consumer && options.channel.empty()) {
        return "--role consumer needs --channel (the producer prints its channel name)";
    }
    if (!options.channel.empty()) {
        if (auto valid = shm::validate_channel_name(options.channel); !valid) return valid.error().message;
    }
    return std::nullopt;
}

}  // namespace

std::string role_name(Role role) {
    switch (role) {
        case Role::Both:
            return "both";
        case Role::Producer:
            return "producer";
        case Role::Consumer:
            return "consumer";
    }
    return "both";
}

ParsedCommandLine parse_command_line(int argc, char** argv) {
    ParsedCommandLine parsed;
    DemoOptions& options = parsed.options;
    std::string role = "both";
    po::options_description description(
        "usage: dhub-shm-demo [options]\n\n"
        "Runs a producer and a consumer process exchanging frames over a DataBlock channel\n"
        "(every_reader, checksum verify). The consumer checks every frame, prints rate and latency\n"
        "once a second and a summary at the end.\n"
        "Exit code 0 only if no frame was lost or bad; 1 otherwise; 2 for a usage error.\n\n"
        "options");
    auto add = description.add_options();
    add("help,h", "print this help and exit");
    add("seconds", po::value(&options.seconds)->default_value(options.seconds), "how long to produce");
    add("rate", po::value(&options.rate_hz)->default_value(options.rate_hz),
        "frames per second (0 = as fast as possible)");
    add("frame-bytes", po::value(&options.frame_bytes)->default_value(options.frame_bytes), "bytes per frame");
    add("slots", po::value(&options.slots)->default_value(options.slots), "slots in the ring");
    add("role", po::value(&role)->default_value(role),
        "internal: both | producer | consumer (to run the halves in separate terminals)");
    add("channel", po::value(&options.channel),
        "channel to consume (consumer role); the producer's default is demo-<its pid>");
    try {
        po::variables_map values;
        po::store(po::parse_command_line(argc, argv, description), values);
        po::notify(values);
        if (values.count("help") != 0) {
            std::cout << description << "\n";
            parsed.exit_code = 0;
            return parsed;
        }
    } catch (const po::error& error) {
        parsed.exit_code = usage_error(error.what());
        return parsed;
    }
    if (role == "both") {
        options.role = Role::Both;
    } else if (role == "producer") {
        options.role = Role::Producer;
    } else if (role == "consumer") {
        options.role = Role::Consumer;
    } else {
        parsed.exit_code = usage_error("--role must be both, producer or consumer, got '" + role + "'");
        return parsed;
    }
    if (auto problem = check_ranges(options)) parsed.exit_code = usage_error(*problem);
    return parsed;
}

}  // namespace dhub::demo
