// SPDX-License-Identifier: Apache-2.0
#include "kernel_options.hpp"

#include <boost/program_options.hpp>

#include "dhub/base/exit_code.hpp"

#include <iostream>
#include <sstream>

namespace dhub::kernel_app {

namespace po = boost::program_options;

std::optional<KernelOptions> parse_options(int argc, char** argv, std::string& help_text) {
    KernelOptions options;
    std::vector<std::string> plugin_path;
    double duration = 0;
    double spin_us = 0;
    po::options_description visible("Options");
    visible.add_options()                                                                             //
        ("help,h", "print this help and exit")                                                        //
        ("version", "print the kernel and SDK versions and exit")                                     //
        ("validate", "check the graph (document, plugins, parameters, channels, schemas) and exit")   //
        ("list-plugins", "list the plugins found on the search path with their components and exit")  //
        ("list-schemas",
         "check the graph, then print the typed schemas it declares (fingerprint, layout, fields, the channels "
         "carrying each; docs/schemas.md) and exit")  //
        ("describe", po::value<std::string>(&options.describe)->value_name("PLUGIN"),
         "print what a plugin declares (components, kinds, versions, parameters with types, defaults, ranges "
         "and docs) and exit; PLUGIN is a name on the search path or a path to a .so")  //
        ("params", po::value<std::string>(&options.describe_params)->value_name("JSON"),
         "with --describe: a node's params as a JSON object, to describe the parameters a component declares "
         "per node too (a Python class's: '{\"module\": \"peaks\", \"class\": \"Peaks\"}')")  //
        ("plugin-path", po::value<std::vector<std::string>>(&plugin_path)->value_name("DIR"),
         "add a plugin directory (searched before DHUB_PLUGIN_PATH, the graph's plugin_path and the install "
         "directory); repeatable")  //
        ("log-level", po::value<std::string>(&options.log_level)->default_value("info"),
         "trace, debug, info, warn, error or off")  //
        ("duration", po::value<double>(&duration)->value_name("SECONDS"),
         "run for this long, then stop gracefully as on SIGINT")  //
        ("report", po::value<std::string>()->value_name("FILE"),
         "at exit, write a JSON summary of the run (per node: slots handled, skipped, errors, why it ended)")  //
        ("events", po::value<std::string>()->value_name("FILE"),
         "write the run's events to FILE as they happen, one JSON object per line (inputs attached and lost, "
         "channels published, nodes finished; docs/kernel.md)")  //
        ("no-counters",
         "do not publish the run's counters in /dev/shm/dhubctr1.<prefix> (what dhub-ctl reads, docs/counters.md); "
         "the nodes count in private memory, and --report is the same")  //
        ("no-control",
         "take no commands: open no control endpoint (/tmp/dhub-<uid>/<prefix>.ctl, what dhub-ctl pause, resume and "
         "stop talk to; docs/control.md)")  //
        ("control-tcp", po::value<std::string>(&options.control_tcp)->value_name("tcp://HOST:PORT"),
         "take commands on TCP too, CurveZMQ only, from the clients of --control-allow (docs/control.md, \"Over "
         "TCP\"); port 0 picks a free one (the control_listening event names it)")  //
        ("control-key", po::value<std::string>(&options.control_key)->value_name("FILE"),
         "with --control-tcp: the kernel's CURVE secret key file (dhub-keygen); clients name its public key")  //
        ("control-allow", po::value<std::string>(&options.control_allow)->value_name("FILE"),
         "with --control-tcp: the clients that may connect, each with its role, admin or monitor (JSON)")  //
        ("metrics", po::value<std::string>(&options.metrics)->value_name("tcp://HOST:PORT"),
         "serve the run's counters for Prometheus at http://HOST:PORT/metrics (docs/metrics.md); e.g. "
         "tcp://127.0.0.1:9464, port 0 picks a free one (the metrics_listening event names it)")  //
        ("spin-us", po::value<double>(&spin_us)->value_name("MICROSECONDS"),
         "how long a waiting node thread busy-waits before it sleeps, 0 to 100000, whatever the CPUs; default: 20, "
         "busily while every node can have a CPU of its own, yielding the CPU between looks once the nodes outnumber "
         "the kernel's CPUs, 0 beyond two nodes per CPU (docs/kernel.md, \"Waiting\")");
    po::options_description hidden;
    hidden.add_options()("graph", po::value<std::string>());
    po::positional_options_description positional;
    positional.add("graph", 1);
    po::options_description all;
    all.add(visible).add(hidden);

    std::ostringstream help;
    help << "usage: dhub-kernel [options] GRAPH.json\n\n"
         << "Runs a dhub graph: loads its plugins, creates its shared-memory channels and runs one thread per "
            "node.\nSIGINT/SIGTERM stops it gracefully (sources first, lossless channels drain); a second one "
            "exits at once.\n\n"
         << visible
         << exit_codes_help({
                {ExitCode::Ok, "the graph ran and stopped cleanly, or --validate / --list-schemas found no problem"},
                {ExitCode::InvalidInput, "the graph is invalid; every problem is printed with its JSON path"},
                {ExitCode::Usage, ""},
                {ExitCode::PluginError,
                 "a plugin the graph names cannot be loaded, or a node's create() failed; --list-plugins and "
                 "--describe exit 3 too when a plugin cannot be loaded"},
                {ExitCode::RuntimeError,
                 "a node's on_error policy stopped the graph, or a channel, input or the broker link could not "
                 "be set up"},
                {ExitCode::Interrupted, ""},
            });
    help_text = help.str();

    po::variables_map values;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), values);
        po::notify(values);
    } catch (const po::error& error) {
        std::cerr << "dhub-kernel: " << error.what() << " (see dhub-kernel --help)\n";
        return std::nullopt;
    }
    options.help = values.count("help") != 0;
    options.version = values.count("version") != 0;
    options.validate_only = values.count("validate") != 0;
    options.list_plugins = values.count("list-plugins") != 0;
    options.list_schemas = values.count("list-schemas") != 0;
    if (values.count("graph") != 0) options.graph_file = values["graph"].as<std::string>();
    if (values.count("duration") != 0) {
        if (duration <= 0) {
            std::cerr << "dhub-kernel: --duration must be positive, found " << duration << "\n";
            return std::nullopt;
        }
        options.duration_s = duration;
    }
    if (values.count("spin-us") != 0) {
        // A node waits in slices of 100 ms: from a spin that long on, it would never sleep at all.
        if (!(spin_us >= 0 && spin_us <= 100'000)) {
            std::cerr << "dhub-kernel: --spin-us must be between 0 and 100000 (microseconds), found " << spin_us
                      << "\n";
            return std::nullopt;
        }
        options.spin_us = spin_us;
    }
    for (const auto& directory : plugin_path)
        options.plugin_path.emplace_back(directory);
    if (values.count("report") != 0) options.report_file = values["report"].as<std::string>();
    options.counters_page = values.count("no-counters") == 0;
    options.control = values.count("no-control") == 0;
    if (values.count("events") != 0) options.events_file = values["events"].as<std::string>();
    if (!options.control_tcp.empty() && (options.control_key.empty() || options.control_allow.empty())) {
        std::cerr << "dhub-kernel: --control-tcp is served only with CurveZMQ: give --control-key (the kernel's secret "
                     "key, from dhub-keygen) and --control-allow (the clients and their roles)\n";
        return std::nullopt;
    }
    if (options.control_tcp.empty() != (options.control_key.empty() && options.control_allow.empty())) {
        std::cerr << "dhub-kernel: --control-key and --control-allow go with --control-tcp\n";
        return std::nullopt;
    }
    if (!options.control && !options.control_tcp.empty()) {
        std::cerr << "dhub-kernel: --control-tcp and --no-control contradict each other\n";
        return std::nullopt;
    }
    options.describe_params_given = values.count("params") != 0;
    if (options.describe_params_given && options.describe.empty()) {
        std::cerr << "dhub-kernel: --params goes with --describe PLUGIN (see --help)\n";
        return std::nullopt;
    }
    const bool needs_graph = !options.help && !options.version && !options.list_plugins && options.describe.empty();
    if (needs_graph && options.graph_file.empty()) {
        std::cerr << "dhub-kernel: no graph file given (usage: dhub-kernel [options] GRAPH.json; see --help)\n";
        return std::nullopt;
    }
    return options;
}

}  // namespace dhub::kernel_app
