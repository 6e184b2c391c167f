// SPDX-License-Identifier: Apache-2.0
// dhub-node-host: runs one node of a graph for its kernel, in a process of its own ("isolation": "process").
// The kernel starts it, hands it the channels the node writes and lends it the seats it reads; data stays in
// shared memory, and a control link (fd 3) carries beats, counts, peer messages and stop. A crash here ends this
// process only: the kernel sees it, takes its channels back and restarts it by the node's policy.
// Not meant to be started by hand (docs/kernel.md, "Crash isolation").
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "../src/runtime/host_link.hpp"
#include "../src/runtime/node_spin.hpp"
#include "dhub/base/exit_code.hpp"
#include "dhub/base/heap_policy.hpp"
#include "dhub/graph/graph_spec.hpp"
#include "dhub/plugin/plugin_loader.hpp"
#include "dhub/runtime/graph_runner.hpp"

namespace {

namespace po = boost::program_options;
using dhub::ExitCode;
using dhub::runtime::HostLink;
namespace host_message = dhub::runtime::host_message;

struct HostOptions {
    int graph_fd = -1;
    std::string graph_file;
    std::string node;
    std::string prefix;
    int control_fd = -1;
    std::string log_level = "info";
    std::uint64_t seat_owner = 0;
    std::uint32_t beat_ms = 100;
    /// How long its node spins before it sleeps, as its kernel decided (--spin-ns; always given by dhub-kernel).
    std::int64_t spin_ns = dhub::runtime::NODE_SPIN.count();
    bool spin_yields = false;  ///< --spin-yield: that spin yields the CPU between looks
    std::vector<std::string> seats;
    std::vector<std::string> plugin_path;
};

std::optional<HostOptions> parse(int argc, char** argv) {
    HostOptions options;
    po::options_description described(
        "dhub-node-host (started by dhub-kernel for a node with \"isolation\": \"process\")");
    described.add_options()                                                        //
        ("graph-fd", po::value<int>(&options.graph_fd)->required())                //
        ("graph-file", po::value<std::string>(&options.graph_file)->required())    //
        ("node", po::value<std::string>(&options.node)->required())                //
        ("prefix", po::value<std::string>(&options.prefix)->required())            //
        ("control-fd", po::value<int>(&options.control_fd)->required())            //
        ("log-level", po::value<std::string>(&options.log_level))                  //
        ("seat-owner", po::value<std::uint64_t>(&options.seat_owner)->required())  //
        ("beat-ms", po::value<std::uint32_t>(&options.beat_ms))                    //
        ("spin-ns", po::value<std::int64_t>(&options.spin_ns))                     //
        ("spin-yield", po::bool_switch(&options.spin_yields))                      //
        ("seat", po::value<std::vector<std::string>>(&options.seats))              //
        ("plugin-path", po::value<std::vector<std::string>>(&options.plugin_path));
    try {
        po::variables_map values;
        po::store(po::parse_command_line(argc, argv, described), values);
        po::notify(values);
    } catch (const po::error& error) {
        std::cerr << "dhub-node-host: " << error.what() << "\n" << described << "\n";
        return std::nullopt;
    }
    return options;
}

std::string read_graph(int fd) {
    std::string text;
    char buffer[65536];
    off_t offset = 0;  // pread: the kernel's other hosts share the descriptor's offset
    for (;;) {
        const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
        offset += n;
    }
    return text;
}

int fail_setup(const HostLink& link, const std::string& message, ExitCode code) {
    spdlog::get("dhub.kernel")->error("{}", message);
    (void)link.send({{"t", host_message::SETUP_FAILED}, {"message", message}});
    return dhub::to_int(code);
}

}  // namespace

int main(int argc, char** argv) {
    const auto options = parse(argc, argv);
    if (!options) return dhub::to_int(ExitCode::Usage);
    auto logger = spdlog::stderr_color_mt("dhub.kernel");  // the kernel's logger name: plugins' lines look alike
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(options->log_level));
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    ::prctl(PR_SET_NAME, ("h:" + options->node).substr(0, 15).c_str(), 0, 0, 0);
    // Its kernel stops it (a stop message, or SIGKILL when it dies): a Ctrl-C or a SIGTERM for the whole group
    // must not end the node before the kernel has drained the graph.
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    logger->debug("{}", dhub::keep_freed_heap().detail);  // as in dhub-kernel: this node's buffers are reused
    HostLink link(options->control_fd);

    // The kernel's first message: what is not for the command line (attach secrets).
    dhub::runtime::HostedNode hosted;
    const auto setup = link.receive(std::chrono::seconds(10));
    if (!setup || !*setup || setup->value()["t"] != host_message::SETUP) {
        logger->error("node '{}': no setup message from the kernel", options->node);
        return dhub::to_int(ExitCode::Usage);
    }
    if (const auto secrets = setup->value().find("attach_secrets");
        secrets != setup->value().end() && secrets->is_object()) {
        for (const auto& [channel, secret] : secrets->items()) {
            if (secret.is_string()) hosted.attach_secrets[channel] = secret.get<std::string>();
        }
    }
    if (const auto paused = setup->value().find("paused"); paused != setup->value().end() && paused->is_boolean()) {
        hosted.start_paused = paused->get<bool>();
    }

    std::vector<dhub::graph::GraphIssue> issues;
    const std::string text = read_graph(options->graph_fd);
    ::close(options->graph_fd);
    const auto graph = dhub::graph::parse_graph(text, options->graph_file, issues);
    if (!graph || !issues.empty()) {
        return fail_setup(
            link,
            "node '" + options->node + "': the graph its kernel runs does not parse here: " +
                (issues.empty() ? std::string("?") : issues.front().json_path + ": " + issues.front().message),
            ExitCode::InvalidInput);
    }
    std::vector<std::filesystem::path> plugin_path(options->plugin_path.begin(), options->plugin_path.end());
    dhub::plugin::PluginLoader loader(dhub::plugin::make_search_path(plugin_path, graph->plugin_path));
    const dhub::graph::ComponentLookup lookup = dhub::plugin::component_lookup(loader);
    const auto validated = dhub::graph::validate_graph(*graph, lookup, issues);
    if (!issues.empty()) {
        return fail_setup(link,
                          "node '" + options->node + "': " + issues.front().json_path + ": " + issues.front().message,
                          ExitCode::PluginError);
    }

    hosted.node_id = options->node;
    hosted.seat_owner = options->seat_owner;
    for (const std::string& seat : options->seats) {
        const auto equals = seat.rfind('=');
        if (equals == std::string::npos)
            return fail_setup(link, "--seat '" + seat + "': expected CHANNEL=SEAT", ExitCode::Usage);
        hosted.seats[seat.substr(0, equals)] = static_cast<std::uint32_t>(std::stoul(seat.substr(equals + 1)));
    }
    dhub::runtime::RunnerOptions runner_options;
    runner_options.segment_prefix = options->prefix;
    runner_options.node_spin = std::chrono::nanoseconds(std::max<std::int64_t>(options->spin_ns, 0));
    runner_options.node_spin_yields = options->spin_yields;
    auto runner = dhub::runtime::GraphRunner::create_hosted(validated, loader, hosted, runner_options, link);
    if (!runner) {
        return fail_setup(link, runner.error().error.message, dhub::runtime::exit_code_of(runner.error().step));
    }
    dhub::runtime::GraphRunner& graph_runner = *runner.value();
    (void)link.send({{"t", host_message::READY}});
    graph_runner.start();

    const std::chrono::milliseconds beat(options->beat_ms);
    auto next_beat = std::chrono::steady_clock::now();
    bool kernel_gone = false;
    for (;;) {
        const auto finished = graph_runner.reports();
        if (finished.empty() || finished.front().end_reason != dhub::runtime::EndReason::Running) break;
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_beat) {
            std::uint64_t progress = 0;
            bool sleeping = false;
            const auto report = graph_runner.hosted_report(&progress, &sleeping);
            (void)link.send({{"t", host_message::BEAT},
                             {"progress", progress},
                             {"sleeping", sleeping},
                             {"report", dhub::runtime::to_json(report)},
                             {"validators", dhub::runtime::to_json(graph_runner.validator_reports())}});
            next_beat = now + beat;
        }
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_beat - now);
        auto received = link.receive(std::min(std::max(wait, std::chrono::milliseconds(1)), beat));
        if (!received) continue;
        if (!*received) {
            if (received->error().code == dhub::ErrorCode::NotFound) {
                kernel_gone = true;  // PR_SET_PDEATHSIG ends this process as well; stop cleanly meanwhile
                graph_runner.request_stop("kernel");
                break;
            }
            logger->warn("node '{}': ignored a message from the kernel: {}", options->node, received->error().message);
            continue;
        }
        const nlohmann::json& message = received->value();
        const std::string& type = message["t"].get_ref<const std::string&>();
        if (type == host_message::STOP) {
            graph_runner.request_stop("kernel");
        } else if (type == host_message::PAUSE || type == host_message::RESUME) {
            const auto done = type == host_message::PAUSE ? graph_runner.pause_node(options->node)
                                                          : graph_runner.resume_node(options->node);
            if (!done) logger->warn("node '{}': {}", options->node, done.error().message);
        } else if (type == host_message::MESSAGE) {
            graph_runner.deliver_to_hosted(message.value("channel", std::string()),
                                           message.value("message", std::string()));
        } else {
            logger->warn("node '{}': ignored a message of unknown type '{}' from the kernel", options->node, type);
        }
    }
    (void)graph_runner.wait();
    const auto report = graph_runner.hosted_report(nullptr, nullptr);
    if (!kernel_gone) {
        (void)link.send({{"t", host_message::END},
                         {"report", dhub::runtime::to_json(report)},
                         {"validators", dhub::runtime::to_json(graph_runner.validator_reports())}});
    }
    runner.value().reset();  // destroy() runs here, in this process, like everything of the node
    return 0;
}
