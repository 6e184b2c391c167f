// SPDX-License-Identifier: Apache-2.0
// dhub-broker: runs the control-plane broker until SIGINT or SIGTERM.
#include <signal.h>

#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "dhub/base/exit_code.hpp"
#include "dhub/broker/broker_server.hpp"
#include "dhub/broker/keys.hpp"
#include "dhub/broker/log.hpp"
#include "dhub/events/event_log.hpp"

namespace po = boost::program_options;
using namespace dhub::broker;

namespace {

constexpr int EXIT_OK = dhub::to_int(dhub::ExitCode::Ok);
constexpr int EXIT_USAGE = dhub::to_int(dhub::ExitCode::Usage);
constexpr int EXIT_BAD_INPUT = dhub::to_int(dhub::ExitCode::InvalidInput);
constexpr int EXIT_RUNTIME = dhub::to_int(dhub::ExitCode::RuntimeError);

// Written to a temporary name and renamed, so that a reader never sees a partial endpoint.
bool write_endpoint_file(const std::string& path, const std::string& endpoint) {
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << endpoint << "\n";
        if (!out) return false;
    }
    return std::rename(temporary.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
    BrokerConfig config;
    std::string endpoint_file;
    std::string events_file;
    std::string secret_key_file;
    std::string public_key_file;
    std::string allow_file;
    std::string log_level = "info";
    std::uint64_t heartbeat_ms = config.registry.heartbeat_ms;
    std::uint64_t dead_after_ms = config.registry.dead_after_ms;
    po::options_description visible("Options");
    visible.add_options()                                                   //
        ("help,h", "print this help and exit")                              //
        ("version", "print the version and the protocol version and exit")  //
        ("endpoint", po::value<std::string>(&config.endpoint)->default_value(DEFAULT_ENDPOINT),
         "where to listen; port 0 picks a free port (see --endpoint-file)")  //
        ("endpoint-file", po::value<std::string>(&endpoint_file)->value_name("FILE"),
         "write the endpoint actually bound to FILE once listening")  //
        ("events", po::value<std::string>(&events_file)->value_name("FILE"),
         "write what happens (listening, refused client keys) to FILE as JSON lines, for supervisors and "
         "tests (docs/protocol.md, \"Transport\")")  //
        ("secret-key-file", po::value<std::string>(&secret_key_file)->value_name("FILE"),
         "the broker's CURVE secret key (dhub-keygen); without it the broker runs unencrypted and "
         "unauthenticated")  //
        ("public-key-file", po::value<std::string>(&public_key_file)->value_name("FILE"),
         "the broker's public key, checked against the secret key")  //
        ("allow", po::value<std::string>(&allow_file)->value_name("FILE"),
         "JSON allowlist of client public keys and the channels each may produce/consume "
         "(docs/security.md); needs --secret-key-file")  //
        ("heartbeat-ms", po::value<std::uint64_t>(&heartbeat_ms)->default_value(heartbeat_ms),
         "how often clients should beat")  //
        ("dead-after-ms", po::value<std::uint64_t>(&dead_after_ms)->default_value(dead_after_ms),
         "a client silent this long is dead; its peers get producer_died / consumer_died")  //
        ("log-level", po::value<std::string>(&log_level)->default_value(log_level),
         "trace, debug, info, warn, error or off");
    po::variables_map values;
    try {
        po::store(po::parse_command_line(argc, argv, visible), values);
        po::notify(values);
    } catch (const po::error& error) {
        std::cerr << "dhub-broker: " << error.what() << " (see dhub-broker --help)\n";
        return EXIT_USAGE;
    }
    if (values.count("help") != 0) {
        std::cout << "usage: dhub-broker [options]\n\nThe dhub control plane: channels register here, consumers "
                     "discover them; see docs/protocol.md and docs/security.md.\n\n"
                  << visible
                  << dhub::exit_codes_help({
                         {dhub::ExitCode::Ok, "stopped by SIGINT/SIGTERM"},
                         {dhub::ExitCode::InvalidInput, "a key or allowlist file is unreadable or malformed"},
                         {dhub::ExitCode::Usage, ""},
                         {dhub::ExitCode::RuntimeError, "cannot bind the endpoint or write the endpoint file"},
                     });
        return EXIT_OK;
    }
    if (values.count("version") != 0) {
        std::cout << "dhub-broker " << DHUB_VERSION << " (protocol " << int{PROTOCOL_MAJOR} << "."
                  << int{PROTOCOL_MINOR} << ")\n";
        return EXIT_OK;
    }
    const auto level = spdlog::level::from_str(log_level);
    if (level == spdlog::level::off && log_level != "off") {
        std::cerr << "dhub-broker: --log-level must be trace, debug, info, warn, error or off, found '" << log_level
                  << "'\n";
        return EXIT_USAGE;
    }
    broker_log().set_level(level);
    if (heartbeat_ms == 0 || dead_after_ms <= heartbeat_ms) {
        std::cerr << "dhub-broker: need 0 < --heartbeat-ms < --dead-after-ms, found " << heartbeat_ms << " and "
                  << dead_after_ms << "\n";
        return EXIT_USAGE;
    }
    config.registry.heartbeat_ms = heartbeat_ms;
    config.registry.dead_after_ms = dead_after_ms;

    if (!secret_key_file.empty()) {
        auto secret = read_key_file(secret_key_file, KeyKind::Secret);
        if (!secret) {
            std::cerr << "dhub-broker: " << secret.error().message << "\n";
            return EXIT_BAD_INPUT;
        }
        config.secret_key = *secret;
        if (!public_key_file.empty()) {
            auto given = read_key_file(public_key_file, KeyKind::Public);
            auto derived = public_key_of(config.secret_key);
            if (!given || !derived || *given != *derived) {
                std::cerr << "dhub-broker: " << public_key_file << " is not the public key of " << secret_key_file
                          << " (regenerate both with dhub-keygen)\n";
                return EXIT_BAD_INPUT;
            }
        }
    } else if (!allow_file.empty() || !public_key_file.empty()) {
        std::cerr << "dhub-broker: --allow and --public-key-file need --secret-key-file (CURVE)\n";
        return EXIT_USAGE;
    }
    if (!allow_file.empty()) {
        auto allowlist = Allowlist::load(allow_file);
        if (!allowlist) {
            std::cerr << "dhub-broker: " << allowlist.error().message << "\n";
            return EXIT_BAD_INPUT;
        }
        config.allowlist = std::make_shared<const Allowlist>(std::move(*allowlist));
    } else if (!config.secret_key.empty()) {
        broker_log().warn("CURVE without --allow: any client key may connect (encrypted, but not authenticated)");
    }

    // Blocked before any thread starts, so that only sigwait() below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto events = std::make_unique<dhub::events::EventLog>();
    if (!events_file.empty()) {
        auto opened = dhub::events::EventLog::open(events_file);
        if (!opened) {
            std::cerr << "dhub-broker: " << opened.error().message << "\n";
            return EXIT_RUNTIME;
        }
        events = std::move(opened.value());
    }
    config.on_refused = [&events](const RefusedClient& refused) {
        events->emit("client_refused", event_fields(refused));
    };

    BrokerServer server(config);
    if (auto started = server.start(); !started) {
        std::cerr << "dhub-broker: " << started.error().message << "\n";
        return EXIT_RUNTIME;
    }
    if (!endpoint_file.empty() && !write_endpoint_file(endpoint_file, server.bound_endpoint())) {
        std::cerr << "dhub-broker: cannot write the endpoint file " << endpoint_file << "\n";
        return EXIT_RUNTIME;
    }
    events->emit("broker_listening", {{"endpoint", server.bound_endpoint()}});
    int received = 0;
    sigwait(&stop_signals, &received);
    broker_log().info("signal {}: stopping", received);
    server.stop();
    return EXIT_OK;
}
